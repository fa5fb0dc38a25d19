//! The server guard: who may open what, answered before any page renders.

use reqwest::header::{CACHE_CONTROL, COOKIE, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn protected_pages_send_guests_to_login_with_a_way_back() {
    let app = spawn_app().await;
    let cases = [
        ("/", "/login?from=%2F"),
        ("/?x=1", "/login?from=%2F%3Fx%3D1"),
        ("/?x=1&y=%2F", "/login?from=%2F%3Fx%3D1%26y%3D%252F"),
    ];
    for (path, want) in cases {
        let answer = app.get(path).await;
        assert_eq!(answer.status(), StatusCode::FOUND, "{path}");
        assert_eq!(location(&answer), want, "{path}");
        assert_eq!(
            answer
                .headers()
                .get(CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("private, no-store")
        );
    }
}

#[tokio::test]
async fn the_api_answers_guests_with_401_json_never_a_redirect() {
    let app = spawn_app().await;
    let answer = app.get("/api/profile").await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["error"], "unauthenticated");
}

#[tokio::test]
async fn the_login_page_and_health_are_open_to_guests() {
    let app = spawn_app().await;
    let login = app.get("/login?from=%2F").await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.expect("text");
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "a standards-mode page: {html}"
    );
    for needle in [
        "id=\"phone\"",
        "inputmode=\"tel\"",
        "autocomplete=\"one-time-code\"",
        "+86",
        "Get code",
    ] {
        assert!(
            html.contains(needle),
            "{needle} missing from the login page"
        );
    }

    let health = app.get("/api/public/health").await;
    assert_eq!(health.status(), StatusCode::OK);

    // Whatever the login page references from this origin loads without a session.
    for path in local_references(&html) {
        let answer = app.get(&path).await;
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
}

/// `src` and `href` values of the page that point at this origin.
fn local_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            let value = piece.split('"').next().unwrap_or_default();
            // Assets and styles; links into the API (the WeChat start) are navigation, not assets.
            if value.starts_with('/') && !value.starts_with("//") && !value.starts_with("/api/") {
                found.push(value.replace("&amp;", "&"));
            }
        }
    }
    found
}

#[tokio::test]
async fn a_signed_in_person_opening_login_is_sent_home() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    let answer = app.get("/login").await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(location(&answer), "/");
}

#[tokio::test]
async fn a_garbage_or_unknown_cookie_is_cleared_without_a_loop() {
    let app = spawn_app().await;
    let client = app.other_browser();
    for cookie in [
        "cloudbase_session=garbage",
        "cloudbase_session=AAAAAAAAAAAAAAAAAAAAAA",
        "cloudbase_session=",
    ] {
        let home = client
            .get(app.url("/"))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("answer");
        assert_eq!(home.status(), StatusCode::FOUND, "{cookie}");
        assert_eq!(location(&home), "/login?from=%2F");
        let cleared = session_set_cookies(home.headers());
        assert!(
            cleared.iter().any(|c| c.contains("Max-Age=0")),
            "{cookie}: {cleared:?}"
        );

        let login = client
            .get(app.url("/login?from=%2F"))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("answer");
        assert_eq!(login.status(), StatusCode::OK, "{cookie}: no redirect loop");
    }
}

#[tokio::test]
async fn state_changing_calls_from_another_origin_are_refused() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;

    // A cross-site form post: text/plain, foreign Origin.
    let forged = app
        .browser
        .post(app.url("/api/auth/signout"))
        .header(ORIGIN, "https://evil.example")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let body: Value = forged.json().await.expect("JSON");
    assert_eq!(body["error"], "forbidden");

    // No Origin and no Sec-Fetch-Site: refused too.
    let bare = app
        .browser
        .post(app.url("/api/auth/sms/send"))
        .json(&json!({ "phone": PHONE }))
        .send()
        .await
        .expect("answer");
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);

    // A same-origin fetch without Origin but with Sec-Fetch-Site is fine.
    let fetch = app
        .browser
        .post(app.url("/api/auth/sms/send"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({ "phone": OTHER_PHONE }))
        .send()
        .await
        .expect("answer");
    assert_eq!(fetch.status(), StatusCode::OK);

    // Still signed in.
    assert_eq!(app.get("/api/profile").await.status(), StatusCode::OK);
    assert_eq!(app.stub.calls_to(mock_cloudbase::Endpoint::Revoke), 0);
}

#[tokio::test]
async fn malformed_request_bodies_get_a_json_4xx() {
    let app = spawn_app().await;
    let origin = app.address.clone();
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        ("not json", b"phone=1".to_vec(), StatusCode::BAD_REQUEST),
        (
            "wrong type",
            br#"{"phone": 138}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("missing field", br#"{}"#.to_vec(), StatusCode::BAD_REQUEST),
        (
            "too large",
            vec![b' '; 17 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (name, body, want) in cases {
        let answer = app
            .browser
            .post(app.url("/api/auth/sms/send"))
            .header(ORIGIN, &origin)
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), want, "{name}");
        let body: Value = answer.json().await.expect("a JSON body");
        assert!(body["error"].is_string(), "{name}: {body}");
    }
}

#[tokio::test]
async fn unknown_pages_are_404_for_everyone() {
    let app = spawn_app().await;
    let answer = app.get("/no/such/page").await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert!(answer
        .text()
        .await
        .expect("text")
        .contains("Page not found"));
}

#[tokio::test]
async fn other_spellings_of_a_page_go_to_its_one_address_and_its_guard() {
    let app = spawn_app().await;
    let cases = [
        ("//", "/"),
        ("//login", "/login"),
        ("/login/", "/login"),
        ("/login//", "/login"),
        ("/login%2F", "/login"),
        ("/%6Cogin?from=%2F", "/login?from=%2F"),
        ("//evil.example", "/evil.example"),
        (
            "/login/wechat-callback/?code=x&state=y",
            "/login/wechat-callback?code=x&state=y",
        ),
    ];
    for (odd, canonical) in cases {
        let answer = app.get(odd).await;
        assert_eq!(answer.status(), StatusCode::PERMANENT_REDIRECT, "{odd}");
        assert_eq!(location(&answer), canonical, "{odd}");
    }

    // Signed in, the guest-only login page sends home whatever its spelling.
    app.sign_in(PHONE).await;
    let login = app.get("/login//").await;
    let canonical = location(&login);
    let home = app.get(&canonical).await;
    assert_eq!(home.status(), StatusCode::FOUND);
    assert_eq!(location(&home), "/");
}

#[tokio::test]
async fn pages_cannot_be_framed_or_sniffed() {
    let app = spawn_app().await;
    for path in ["/login", "/", "/api/public/health"] {
        let answer = app.get(path).await;
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    }
}

#[tokio::test]
async fn a_bad_or_doubled_cookie_does_not_sign_anyone_out() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    let id = app.session_cookie().expect("signed in");
    // A well-formed id of no live session, as a sibling site could set for a narrower path
    // (browsers send narrower paths first).
    let stale = "AAAAAAAAAAAAAAAAAAAAAA";
    let headers: [Vec<u8>; 5] = [
        [b"x=\xff\xfe; cloudbase_session=".as_slice(), id.as_bytes()].concat(),
        format!("cloudbase_session={id}; cloudbase_session=garbage").into_bytes(),
        format!("cloudbase_session=garbage; cloudbase_session={id}").into_bytes(),
        format!("cloudbase_session={stale}; cloudbase_session={id}").into_bytes(),
        format!("cloudbase_session={id}; cloudbase_session={stale}").into_bytes(),
    ];
    for header in headers {
        let answer = app
            .other_browser()
            .get(app.url("/api/profile"))
            .header(
                COOKIE,
                reqwest::header::HeaderValue::from_bytes(&header).expect("bytes"),
            )
            .send()
            .await
            .expect("answer");
        assert_eq!(
            answer.status(),
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&header)
        );
        assert!(
            session_set_cookies(answer.headers()).is_empty(),
            "the good cookie is not cleared: {}",
            String::from_utf8_lossy(&header)
        );
    }
}

#[tokio::test]
async fn the_api_answers_unknown_calls_and_wrong_methods_in_json() {
    let app = spawn_app().await;
    // A GET of sign-out changes nothing and says why.
    let get_signout = app.get("/api/auth/signout").await;
    assert_eq!(get_signout.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = get_signout.json().await.expect("JSON");
    assert_eq!(body["error"], "method_not_allowed");

    app.sign_in(PHONE).await;
    let unknown = app.get("/api/no-such-call").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["error"], "not_found");

    let get_signout = app.get("/api/auth/signout").await;
    assert_eq!(get_signout.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        app.get("/api/profile").await.status(),
        StatusCode::OK,
        "still signed in"
    );
}
