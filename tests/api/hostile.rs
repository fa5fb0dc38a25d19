//! Hostile input, as tables: return addresses, phone numbers and codes, cookies, send floods and
//! oversized profiles. Every case must end in a clear answer: never a 500, never a foreign
//! redirect, never a call to CloudBase that should not have been made.

use std::time::Duration;

use cloudbase_login::server::flows::redirect_after_sign_in;
use mock_cloudbase::{Endpoint, SeedUser};
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// Return addresses as an attacker writes them into a URL's query (percent-encoded text).
fn hostile_from() -> Vec<String> {
    let mut cases: Vec<String> = [
        "https://evil.example",
        "https%3A%2F%2Fevil.example",
        "//evil.example",
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "/\\evil.example",
        "%2F%5Cevil.example",
        "\\\\evil.example",
        "%5C%5Cevil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "javascript%3Aalert(1)",
        "/%0d%0aSet-Cookie:x=1",
        "%0d%0aSet-Cookie:x=1",
        "/%09/evil.example",
        "/%E0%A4%A",
        "%",
        "/%ZZ",
        "%2Flogin%3Ffrom%3D%2Flogin",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    cases.push(format!("/{}", "a".repeat(8 * 1024)));
    cases
}

/// What the server reads from `?from=<raw>`: decoded once, as a query parser does.
fn decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("from={raw}").as_bytes())
        .find(|(k, _)| k == "from")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A `Location` (or link) that a browser would follow to this app's own origin.
fn assert_same_origin(app: &TestApp, target: &str, case: &str) {
    let short: String = case.chars().take(40).collect();
    assert!(
        target.starts_with('/') && !target.starts_with("//"),
        "{short:?} -> {target:?}"
    );
    assert!(
        target
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b'\\'),
        "{short:?} -> {target:?}"
    );
    let base = url::Url::parse(&app.address).expect("the app's URL");
    let resolved = base.join(target).expect("a relative URL");
    assert_eq!(resolved.origin(), base.origin(), "{short:?} -> {target:?}");
}

fn assert_no_injected_cookie(headers: &reqwest::header::HeaderMap, case: &str) {
    let injected = headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(b"x="));
    assert!(!injected, "{case:?} injected a cookie");
}

#[tokio::test]
async fn wechat_start_sends_every_hostile_return_address_home_or_to_a_same_origin_path() {
    let app = spawn_app().await;
    for raw in hostile_from() {
        let start = app.get(&format!("/api/auth/wechat/start?from={raw}")).await;
        assert_eq!(start.status(), StatusCode::FOUND, "{raw:.40}");
        assert_no_injected_cookie(start.headers(), &raw);
        let qr = location(&start);
        assert!(qr.starts_with(&app.stub.uri()), "{raw:.40}: {qr}");

        let callback = app.press_on_qr_page(&qr, "confirm").await;
        let landed = app.browser.get(callback).send().await.expect("answer");
        assert_eq!(landed.status(), StatusCode::SEE_OTHER, "{raw:.40}");
        let target = location(&landed);
        assert_same_origin(&app, &target, &raw);
        // The sanitiser's answer, and home instead of a page only guests may see.
        assert_eq!(
            target,
            redirect_after_sign_in(Some(&decoded(&raw))),
            "{raw:.40}"
        );
        assert_eq!(app.sign_out().await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn sms_verify_sends_every_hostile_return_address_home_or_to_a_same_origin_path() {
    let app = spawn_app().await;
    let mut values: Vec<String> = hostile_from().iter().map(|raw| decoded(raw)).collect();
    // Sent as JSON, the undecoded text is a value of its own.
    values.extend(hostile_from());
    for (n, from) in values.iter().enumerate() {
        // A number per case, and an hour between cases: the send limits stay out of the way.
        let phone = format!("1390000{n:04}");
        app.advance_clock(Duration::from_secs(60 * 60 + 1));
        assert_eq!(app.send_code(&phone).await.status(), StatusCode::OK);
        let code = app.code_for(&phone);
        let answer = app.verify(&phone, &code, Some(from)).await;
        assert_eq!(answer.status(), StatusCode::OK, "{from:.40}");
        assert_no_injected_cookie(answer.headers(), from);
        let body: Value = answer.json().await.expect("JSON");
        let target = body["redirect"].as_str().expect("a redirect");
        assert_same_origin(&app, target, from);
        assert_eq!(target, redirect_after_sign_in(Some(from)), "{from:.40}");
        assert_eq!(app.sign_out().await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn the_login_page_never_links_to_a_hostile_return_address() {
    let app = spawn_app().await;
    for raw in hostile_from() {
        let page = app.get(&format!("/login?from={raw}")).await;
        assert_eq!(page.status(), StatusCode::OK, "{raw:.40}");
        assert_no_injected_cookie(page.headers(), &raw);
        let html = page.text().await.expect("HTML");
        assert!(!html.contains("evil.example\""), "{raw:.40}");
        for link in attribute_values(&html, "href") {
            let link = link.replace("&amp;", "&");
            if link.starts_with("data:") {
                continue;
            }
            assert_same_origin(&app, &link, &raw);
            // The WeChat button carries the return address on: it must be a safe one.
            if let Some(query) = link.strip_prefix("/api/auth/wechat/start?") {
                let from = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "from")
                    .map(|(_, v)| v.into_owned())
                    .expect("a from");
                assert_same_origin(&app, &from, &raw);
            }
        }
    }

    // Signed in, the login page sends the person home, whatever `from` says.
    app.sign_in(PHONE).await;
    for raw in hostile_from() {
        let page = app.get(&format!("/login?from={raw}")).await;
        assert_eq!(page.status(), StatusCode::FOUND, "{raw:.40}");
        assert_eq!(location(&page), "/", "{raw:.40}");
    }
}

/// Every value of `name="…"` in a page.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let marker = format!(" {name}=\"");
    html.split(marker.as_str())
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[tokio::test]
async fn hostile_phone_numbers_are_refused_with_a_sentence_and_never_reach_cloudbase() {
    let app = spawn_app().await;
    let long_digits = "1".repeat(10 * 1024);
    let long_letters = "a".repeat(10 * 1024);
    let cases: Vec<(&str, &str)> = vec![
        ("abc", "invalid_phone"),
        ("1380013800O", "invalid_phone"),
        ("+ 8613800138000", "invalid_phone"),
        ("138\t0013\t8000", "invalid_phone"),
        ("138\u{a0}0013\u{a0}8000", "invalid_phone"),
        ("138\u{3000}0013\u{3000}8000", "invalid_phone"),
        ("\u{200b}13800138000", "invalid_phone"),
        ("１３８００１３８０００", "invalid_phone"),
        ("١٣٨٠٠١٣٨٠٠٠", "invalid_phone"),
        ("१३८००१३८०००", "invalid_phone"),
        ("𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", "invalid_phone"),
        ("+1 4155550100", "invalid_phone"),
        ("+852 51234567", "invalid_phone"),
        ("+886 912345678", "invalid_phone"),
        ("+44 7700900123", "invalid_phone"),
        (&long_digits, "invalid_phone"),
        (&long_letters, "invalid_phone"),
    ];
    for (phone, code) in cases {
        let answer = app.send_code(phone).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{phone:.40}");
        let error = api_error(answer).await;
        assert_eq!(error["error"], code, "{phone:.40}");
        let message = error["message"].as_str().expect("a message");
        assert!(message.ends_with('.') && message.len() > 20, "{message}");
    }
    assert_eq!(app.stub.calls_to(Endpoint::SendVerification), 0);

    assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);
    let long_code = "1".repeat(10 * 1024);
    for code in [
        "12345",
        "1234567",
        "12 3456",
        "１２３４５６",
        "١٢٣٤٥٦",
        "12345a",
        "",
        long_code.as_str(),
    ] {
        let answer = app.verify(PHONE, code, None).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{code:.40}");
        let error = api_error(answer).await;
        assert_eq!(error["error"], "invalid_code", "{code:.40}");
        assert_eq!(error["message"], "Enter the 6-digit code from the SMS.");
    }
    assert_eq!(app.stub.calls_to(Endpoint::Verify), 0);
}

#[tokio::test]
async fn hostile_session_cookies_count_as_no_session_and_are_cleared() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    let signed_out_id = app.session_cookie().expect("signed in");
    assert_eq!(app.sign_out().await.status(), StatusCode::OK);

    let cookies: Vec<Vec<u8>> = vec![
        b"cloudbase_session=AAAAAAAAAAAAAAAAAAAAAA".to_vec(),
        format!("cloudbase_session={signed_out_id}").into_bytes(),
        format!("cloudbase_session={}", "A".repeat(5 * 1024)).into_bytes(),
        b"cloudbase_session=\xff\xfe\xfd".to_vec(),
    ];
    for cookie in cookies {
        let shown = String::from_utf8_lossy(&cookie[..cookie.len().min(40)]).into_owned();
        let value = reqwest::header::HeaderValue::from_bytes(&cookie).expect("a header value");
        let client = app.other_browser();
        let home = client
            .get(app.url("/"))
            .header(COOKIE, value.clone())
            .send()
            .await
            .expect("answer");
        assert_eq!(home.status(), StatusCode::FOUND, "{shown}");
        assert_eq!(location(&home), "/login?from=%2F", "{shown}");
        let cleared = session_set_cookies(home.headers());
        assert!(
            cleared.iter().any(|c| c.contains("Max-Age=0")),
            "{shown}: {cleared:?}"
        );
        let profile = client
            .get(app.url("/api/profile"))
            .header(COOKIE, value)
            .send()
            .await
            .expect("answer");
        assert_eq!(profile.status(), StatusCode::UNAUTHORIZED, "{shown}");
    }
}

#[tokio::test]
async fn every_set_cookie_stays_small_for_a_user_with_a_huge_profile() {
    let app = spawn_app().await;
    let nickname = "微".repeat(700); // 2.1 KB of UTF-8
    let avatar = format!("https://thirdwx.qlogo.cn/{}", "a".repeat(2 * 1024));
    app.stub.seed_user(SeedUser {
        name: Some(nickname.clone()),
        picture: Some(avatar),
        wechat_openid: Some("openid-huge".to_owned()),
        ..SeedUser::default()
    });
    app.stub.next_wechat_identity("openid-huge");

    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "confirm").await;
    let landed = app.browser.get(callback).send().await.expect("answer");
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    let home = app.get("/").await;
    let profile = app.get("/api/profile").await;
    for headers in [landed.headers(), home.headers(), profile.headers()] {
        for cookie in headers.get_all(SET_COOKIE) {
            assert!(cookie.len() < 4096, "{} bytes", cookie.len());
        }
    }
    assert_eq!(home.status(), StatusCode::OK);
    let profile: Value = profile.json().await.expect("JSON");
    assert_eq!(profile["name"], nickname.as_str());
}

#[tokio::test]
async fn one_address_cannot_text_a_list_of_numbers() {
    use cloudbase_login::server::rate_limit::HOURLY_SENDS_PER_ADDRESS;

    let app = spawn_app().await;
    for n in 0..HOURLY_SENDS_PER_ADDRESS {
        let answer = app.send_code(&format!("1370000{n:04}")).await;
        assert_eq!(answer.status(), StatusCode::OK, "send {n}");
    }
    app.advance_clock(Duration::from_secs(600));
    let refused = app.send_code("13799999999").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after(&refused);
    let error = api_error(refused).await;
    assert_eq!(error["error"], "too_many_requests");
    assert_eq!(error["retry_after_secs"], retry_after);
    // The sends took a moment of real time: allow for a second boundary crossed meanwhile.
    assert!(
        (60 * 60 - 600 - 2..=60 * 60 - 600).contains(&retry_after),
        "{retry_after}"
    );
    assert!(error["message"]
        .as_str()
        .is_some_and(|m| m.contains("50 minutes")));
    assert_eq!(
        app.stub.calls_to(Endpoint::SendVerification),
        HOURLY_SENDS_PER_ADDRESS
    );

    app.advance_clock(Duration::from_secs(retry_after));
    assert_eq!(app.send_code("13799999999").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_same_number_waits_and_the_wait_is_in_retry_after() {
    let app = spawn_app().await;
    assert_eq!(app.send_code(PHONE).await.status(), StatusCode::OK);
    app.advance_clock(Duration::from_secs(15));
    let refused = app.send_code(PHONE).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after(&refused);
    assert_eq!(api_error(refused).await["retry_after_secs"], retry_after);
    assert!((43..=45).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_is_per_forwarded_address() {
    use cloudbase_login::server::rate_limit::HOURLY_SENDS_PER_ADDRESS;

    let app = spawn_app_with(|config| config.trust_proxy = true).await;
    let send = |from: &'static str, n: usize| {
        app.browser
            .post(app.url("/api/auth/sms/send"))
            .header(reqwest::header::ORIGIN, &app.address)
            .header("x-forwarded-for", format!("198.51.100.9, {from}"))
            .json(&json!({ "phone": format!("1360000{n:04}") }))
            .send()
    };
    for n in 0..HOURLY_SENDS_PER_ADDRESS {
        let answer = send("203.0.113.7", n).await.expect("answer");
        assert_eq!(answer.status(), StatusCode::OK, "send {n}");
    }
    let refused = send("203.0.113.7", 100).await.expect("answer");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // The first entry is whatever the client claimed; only the proxy's own entry counts.
    let other = send("203.0.113.8", 101).await.expect("answer");
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_allow_only_their_own_nonced_scripts_and_styles() {
    let app = spawn_app().await;
    let page = app.get("/login").await;
    let policy = page
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .expect("a policy")
        .to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_owned();
    assert!(nonce.len() >= 22, "{nonce}");
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(policy.contains(directive), "{directive}: {policy}");
    }
    assert!(!policy.contains("'unsafe-inline'") && !policy.contains("'unsafe-eval'"));

    let html = page.text().await.expect("HTML");
    for tag in ["<script", "<style"] {
        let tags: Vec<&str> = html.split(tag).skip(1).collect();
        assert!(!tags.is_empty() || tag == "<script", "{tag} in {html}");
        for rest in tags {
            let start = &rest[..rest.find('>').expect("a closed tag")];
            assert!(
                start.contains(&format!("nonce=\"{nonce}\"")),
                "{tag}{start}"
            );
        }
    }

    // A fresh nonce on every answer.
    let again = app.get("/login").await;
    let other = again
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .expect("a policy");
    assert!(!other.contains(&nonce));

    // JSON and redirects may run nothing at all.
    for path in ["/api/public/health", "/"] {
        let answer = app
            .other_browser()
            .get(app.url(path))
            .send()
            .await
            .expect("answer");
        let policy = answer
            .headers()
            .get(CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .expect("a policy");
        assert_eq!(
            policy, "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
    }
}
