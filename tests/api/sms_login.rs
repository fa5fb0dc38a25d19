//! Signing in with an SMS code, from the browser's side of the API.

use std::time::Duration;

use mock_cloudbase::{Endpoint, Fault, LoginMethod};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_person_signs_in_with_an_sms_code_sees_their_page_and_signs_out() {
    let app = spawn_app().await;

    // Arrange: not signed in, the home page sends them to log in.
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::FOUND);
    assert_eq!(location(&home), "/login?from=%2F");

    // Act: ask for a code, read it from the stub, send it back.
    let sent = app.send_code(PHONE).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent: Value = sent.json().await.expect("JSON");
    assert_eq!(sent["resend_after_secs"], 60);
    assert_eq!(sent["expires_in_secs"], 600);
    let code = app.code_for(PHONE);
    let verified = app.verify(PHONE, &code, Some("/")).await;

    // Assert: a session cookie with the right attributes, and the welcome page knows them.
    assert_eq!(verified.status(), StatusCode::OK);
    let cookies = session_set_cookies(verified.headers());
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    let body: Value = verified.json().await.expect("JSON");
    assert_eq!(body["redirect"], "/");

    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.expect("text");
    assert!(html.contains("Welcome, "), "{html}");
    assert!(html.contains("+86 138****8000"), "masked phone missing");
    assert!(
        !html.contains("13800138000"),
        "the full number must not be on the page"
    );

    let profile = app.get("/api/profile").await;
    assert_eq!(profile.status(), StatusCode::OK);
    let profile: Value = profile.json().await.expect("JSON");
    assert_eq!(profile["phone_masked"], "+86 138****8000");
    assert!(profile.get("access_token").is_none());

    // Sign out: revoked at CloudBase, cookie cleared, home redirects again.
    let out = app.sign_out().await;
    assert_eq!(out.status(), StatusCode::OK);
    let cleared = session_set_cookies(out.headers());
    assert!(
        cleared.iter().any(|c| c.contains("Max-Age=0")),
        "sign-out must clear the cookie: {cleared:?}"
    );
    assert_eq!(app.stub.calls_to(Endpoint::Revoke), 1);
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::FOUND);
    assert_eq!(location(&home), "/login?from=%2F");
}

#[tokio::test]
async fn a_new_number_signs_up_and_a_known_number_signs_in() {
    let app = spawn_app().await;

    app.sign_in(PHONE).await;
    assert_eq!(app.stub.calls_to(Endpoint::SignUp), 1);
    assert_eq!(app.stub.calls_to(Endpoint::SignIn), 0);
    app.sign_out().await;

    app.advance_clock(Duration::from_secs(61));
    app.sign_in(PHONE).await;
    assert_eq!(app.stub.calls_to(Endpoint::SignUp), 1);
    assert_eq!(app.stub.calls_to(Endpoint::SignIn), 1);
}

#[tokio::test]
async fn the_stub_sees_the_wire_format_and_headers_cloudbase_expects() {
    let app = spawn_app().await;
    app.sign_in("+86 138 0013 8000").await;

    let calls = app.stub.calls();
    let send = calls
        .iter()
        .find(|c| c.path == "/auth/v1/verification")
        .expect("a send call");
    assert_eq!(send.body["phone_number"], "+86 13800138000");
    let header = |name: &str| {
        send.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("x-request-id").map(|v| v.len()), Some(32));
    assert!(header("x-device-id").is_some_and(|v| (16..=48).contains(&v.len())));
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/auth/v1/verification",
            "/auth/v1/verification/verify",
            "/auth/v1/signup",
            "/auth/v1/user/me"
        ]
    );
}

#[tokio::test]
async fn a_wrong_code_says_how_many_tries_are_left_and_five_end_the_code() {
    let app = spawn_app().await;
    app.send_code(PHONE).await;
    let right = app.code_for(PHONE);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };

    for left in (1..=4).rev() {
        let answer = app.verify(PHONE, wrong, None).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(session_set_cookies(answer.headers()).is_empty());
        let error = api_error(answer).await;
        assert_eq!(error["error"], "invalid_code");
        assert_eq!(error["tries_left"], left);
        assert!(error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("left"));
    }
    let fifth = api_error(app.verify(PHONE, wrong, None).await).await;
    assert_eq!(fifth["tries_left"], 0);

    let verify_calls = app.stub.calls_to(Endpoint::Verify);
    let after = app.verify(PHONE, &right, None).await;
    assert_eq!(after.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api_error(after).await["error"], "code_expired");
    assert_eq!(
        app.stub.calls_to(Endpoint::Verify),
        verify_calls,
        "a dead code is not sent to CloudBase"
    );
}

#[tokio::test]
async fn wrong_codes_sent_side_by_side_get_no_more_than_five_tries_to_cloudbase() {
    let app = spawn_app().await;
    app.send_code(PHONE).await;
    let wrong = if app.code_for(PHONE) == "000000" {
        "111111"
    } else {
        "000000"
    };
    // CloudBase answers slowly, as over a real network, so that all the tries are under way at
    // once.
    app.stub.fail_next(
        Endpoint::Verify,
        20,
        Fault::Delay(Duration::from_millis(300)),
    );
    let before = app.stub.calls_to(Endpoint::Verify);

    let answers = futures::future::join_all((0..20).map(|_| app.verify(PHONE, wrong, None))).await;

    assert_eq!(
        app.stub.calls_to(Endpoint::Verify) - before,
        5,
        "only five codes reach CloudBase"
    );
    let mut refused = 0;
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        match api_error(answer).await["error"].as_str() {
            Some("invalid_code") => {}
            Some("code_expired") => refused += 1,
            other => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(refused, 15);
}

#[tokio::test]
async fn bad_phone_numbers_and_codes_are_refused_before_cloudbase_is_called() {
    let app = spawn_app().await;
    for phone in [
        "",
        "12345",
        "+1 4155550100",
        "１３８００１３８０００",
        "138001380001",
    ] {
        let answer = app.send_code(phone).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{phone:?}");
        assert_eq!(
            api_error(answer).await["error"],
            "invalid_phone",
            "{phone:?}"
        );
    }
    app.send_code(PHONE).await;
    for code in ["12345", "1234567", "abcdef", ""] {
        let answer = app.verify(PHONE, code, None).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{code:?}");
        assert_eq!(api_error(answer).await["error"], "invalid_code");
    }
    assert_eq!(app.stub.calls_to(Endpoint::SendVerification), 1);
    assert_eq!(app.stub.calls_to(Endpoint::Verify), 0);
}

#[tokio::test]
async fn asking_again_too_soon_says_how_long_to_wait() {
    let app = spawn_app().await;
    assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);

    app.advance_clock(Duration::from_secs(20));
    let again = app.send_code(PHONE).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    let error = api_error(again).await;
    assert_eq!(error["error"], "too_many_requests");
    assert_eq!(error["retry_after_secs"], 40);
    assert_eq!(app.stub.calls_to(Endpoint::SendVerification), 1);

    app.advance_clock(Duration::from_secs(40));
    assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cloudbase_rate_limits_reach_the_person_with_the_wait() {
    let app = spawn_app().await;
    app.stub.fail_next(
        Endpoint::SendVerification,
        1,
        Fault::envelope(
            429,
            "resource_exhausted",
            "too many requests; retry after 23 seconds",
        ),
    );
    let answer = app.send_code(PHONE).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let error = api_error(answer).await;
    assert_eq!(error["retry_after_secs"], 23);
    // The refused send did not count against the person's own limit.
    assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_code_asks_for_a_new_one() {
    let app = spawn_app().await;
    app.send_code(PHONE).await;
    let code = app.code_for(PHONE);
    app.advance_clock(Duration::from_secs(601));
    let answer = app.verify(PHONE, &code, None).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api_error(answer).await["error"], "code_expired");
}

#[tokio::test]
async fn verifying_without_asking_for_a_code_in_this_browser_is_refused() {
    let app = spawn_app().await;
    let answer = app.verify(PHONE, "123456", None).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api_error(answer).await["error"], "no_pending_code");
}

#[tokio::test]
async fn sms_outside_shanghai_is_explained() {
    // The app's own configuration says another region: no call is made.
    let app = spawn_app_with(|c| c.region = "ap-guangzhou".to_owned()).await;
    let answer = app.send_code(PHONE).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let error = api_error(answer).await;
    assert_eq!(error["error"], "region_unsupported");
    assert!(error["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Shanghai"));
    assert_eq!(app.stub.calls_to(Endpoint::SendVerification), 0);

    // CloudBase itself says so.
    let app = spawn_app().await;
    app.stub.set_region("ap-guangzhou");
    let answer = app.send_code(PHONE).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api_error(answer).await["error"], "region_unsupported");
}

#[tokio::test]
async fn a_disabled_login_method_is_explained() {
    let app = spawn_app().await;
    app.stub.disable_login_method(LoginMethod::Sms);
    let answer = app.send_code(PHONE).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(api_error(answer).await["error"], "login_method_disabled");
}

#[tokio::test]
async fn cloudbase_faults_say_unreachable_and_set_no_cookie() {
    let app = spawn_app().await;
    let faults = [
        Fault::Status(503),
        Fault::NonJson,
        Fault::Delay(Duration::from_secs(5)),
    ];
    for fault in faults {
        app.stub
            .fail_next(Endpoint::SendVerification, 1, fault.clone());
        let answer = app.send_code(PHONE).await;
        assert_eq!(answer.status(), StatusCode::BAD_GATEWAY, "{fault:?}");
        assert!(
            session_set_cookies(answer.headers()).is_empty(),
            "{fault:?}"
        );
        let error = api_error(answer).await;
        assert_eq!(error["error"], "unreachable", "{fault:?}");
        assert!(error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unreachable"));
    }

    // A failure after the code was accepted: still no session. (The delayed send above did
    // reach CloudBase, whose 30 s window must pass first.)
    app.advance_clock(Duration::from_secs(31));
    assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);
    let code = app.code_for(PHONE);
    let cookie_before = app.session_cookie();
    app.stub.fail_next(Endpoint::SignUp, 1, Fault::Status(500));
    let answer = app.verify(PHONE, &code, None).await;
    assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
    assert!(session_set_cookies(answer.headers()).is_empty());
    assert_eq!(app.session_cookie(), cookie_before);
    assert_eq!(
        app.get("/api/profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn cloudbase_not_listening_says_unreachable() {
    let nowhere = unused_address();
    let app = spawn_app_with(|c| {
        c.backend = cloudbase_login::server::Backend::Remote {
            api_url: nowhere.parse().expect("URL"),
            env_id: "down".to_owned(),
        }
    })
    .await;
    let answer = app.send_code(PHONE).await;
    assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(api_error(answer).await["error"], "unreachable");
}

/// An address nothing listens on.
fn unused_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("bound");
    drop(listener);
    format!("http://{address}")
}

#[tokio::test]
async fn the_return_address_is_followed_only_when_it_is_same_origin() {
    let cases = [
        (Some("/?x=1"), "/?x=1"),
        (Some("//evil.example"), "/"),
        (Some("https://evil.example"), "/"),
        (Some("/login"), "/"),
        (None, "/"),
    ];
    for (from, want) in cases {
        let app = spawn_app().await;
        app.send_code(PHONE).await;
        let code = app.code_for(PHONE);
        let answer = app.verify(PHONE, &code, from).await;
        assert_eq!(answer.status(), StatusCode::OK, "{from:?}");
        let body: Value = answer.json().await.expect("JSON");
        assert_eq!(body["redirect"], want, "{from:?}");
    }
}

#[tokio::test]
async fn every_cloudbase_refusal_reaches_the_caller_as_a_typed_error_without_a_cookie() {
    // (endpoint, the envelope CloudBase answers with, our status, our machine code)
    let cases = [
        (
            Endpoint::SendVerification,
            400,
            "captcha_required",
            429,
            "too_many_requests",
        ),
        (
            Endpoint::SendVerification,
            400,
            "invalid_argument",
            400,
            "invalid_phone",
        ),
        (
            Endpoint::SendVerification,
            403,
            "permission_denied",
            502,
            "sign_in_rejected",
        ),
        (
            Endpoint::Verify,
            400,
            "invalid_argument",
            400,
            "code_expired",
        ),
        (Endpoint::Verify, 500, "internal", 502, "unreachable"),
        (
            Endpoint::SignUp,
            409,
            "already_exists",
            502,
            "sign_in_rejected",
        ),
        (Endpoint::SignUp, 503, "unavailable", 502, "unreachable"),
        (
            Endpoint::UserMe,
            401,
            "unauthenticated",
            502,
            "sign_in_rejected",
        ),
    ];
    for (endpoint, status, error, want_status, want_code) in cases {
        let app = spawn_app().await;
        let fault = Fault::envelope(status, error, "refused by the test");
        let answer = if endpoint == Endpoint::SendVerification {
            app.stub.fail_next(endpoint, 1, fault);
            app.send_code(PHONE).await
        } else {
            assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);
            let code = app.code_for(PHONE);
            app.stub.fail_next(endpoint, 1, fault);
            app.verify(PHONE, &code, None).await
        };
        let case = format!("{endpoint:?} {error}");
        assert_eq!(answer.status().as_u16(), want_status, "{case}");
        let signed_in_cookie = session_set_cookies(answer.headers())
            .into_iter()
            .any(|c| c.contains("Max-Age=2592000"));
        assert!(!signed_in_cookie, "{case}: no session on failure");
        let body = api_error(answer).await;
        assert_eq!(body["error"], want_code, "{case}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.ends_with('.')),
            "{case}: {body}"
        );
        assert_eq!(
            app.get("/api/profile").await.status(),
            StatusCode::UNAUTHORIZED,
            "{case}"
        );
    }
}
