//! WeChat QR sign-in: the happy path, and every way a callback can be wrong.

use std::time::Duration;

use mock_cloudbase::{Endpoint, Fault};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn confirming_on_the_qr_page_signs_in_and_returns_to_from() {
    let app = spawn_app().await;

    let qr = app.start_wechat("/?x=1").await;
    assert!(qr.starts_with(&app.stub.uri()), "the stub's QR page: {qr}");
    let state = url::Url::parse(&qr).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    let callback = app.press_on_qr_page(&qr, "confirm").await;
    assert!(
        callback.starts_with(&format!("{}/login/wechat-callback?", app.address)),
        "{callback}"
    );

    let answer = app.browser.get(&callback).send().await.expect("answer");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&answer), "/?x=1");
    assert_eq!(session_set_cookies(answer.headers()).len(), 1);

    let profile: Value = app.get("/api/profile").await.json().await.expect("JSON");
    let nickname = profile["name"].as_str().expect("a nickname").to_owned();
    assert!(!nickname.is_empty());
    assert!(profile["avatar_url"].is_string(), "{profile}");
    assert_eq!(profile["provider"], "wx_open");
    assert!(
        profile["phone_masked"].is_null(),
        "a WeChat user has no number: {profile}"
    );
    let home = app.get("/?x=1").await.text().await.expect("text");
    assert!(home.contains(&format!("Welcome, {nickname}")), "{home}");

    let order: Vec<&str> = app
        .stub
        .calls()
        .iter()
        .filter_map(|c| c.endpoint().map(Endpoint::path))
        .collect::<Vec<_>>();
    assert_eq!(
        order,
        [
            "/auth/v1/provider/uri",
            "/auth/v1/provider/token",
            "/auth/v1/signin/with/provider",
            "/auth/v1/user/me"
        ]
    );
    let uri_call = &app.stub.calls()[0];
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri_call.query.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(param("provider_id"), Some("wx_open"));
    let redirect_uri = format!("{}/login/wechat-callback", app.address);
    assert_eq!(param("redirect_uri"), Some(redirect_uri.as_str()));

    // The state is a secret between this browser and the app: never logged.
    if let Some(state) = state {
        assert!(state.len() >= 32);
        assert!(
            !logs().contains(&state),
            "the OAuth state appeared in the logs"
        );
    }
}

/// Where a failed callback must land, and that it left no session behind.
async fn assert_failed_to(app: &TestApp, answer: reqwest::Response, code: &str) {
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{code}");
    let to = location(&answer);
    assert!(to.starts_with("/login?"), "{to}");
    assert!(
        to.contains(&format!("error={code}")),
        "{to} should carry {code}"
    );
    let cookies = session_set_cookies(answer.headers());
    assert!(
        cookies.iter().all(|c| c.contains("Max-Age=0")),
        "no live session cookie on a failed callback: {cookies:?}"
    );
    assert_eq!(
        app.get("/api/profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = app.get(&to).await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn cancelling_on_the_qr_page_comes_back_with_a_friendly_message() {
    let app = spawn_app().await;
    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "cancel").await;
    assert!(!callback.contains("code="), "{callback}");
    let answer = app.browser.get(&callback).send().await.expect("answer");
    let to = location(&answer);
    assert_failed_to(&app, answer, "wechat_cancelled").await;
    let page = app.get(&to).await.text().await.expect("text");
    assert!(page.contains("WeChat sign-in was cancelled"), "{page}");
}

#[tokio::test]
async fn callbacks_with_a_missing_or_wrong_state_are_refused() {
    let app = spawn_app().await;
    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "confirm").await;
    let url = url::Url::parse(&callback).expect("URL");
    let code: String = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");

    let missing = app
        .get(&format!("/login/wechat-callback?code={}", urlencode(&code)))
        .await;
    assert_failed_to(&app, missing, "wechat_state").await;

    // The first callback consumed the state: even the right one is now refused.
    let replay = app.browser.get(&callback).send().await.expect("answer");
    assert_failed_to(&app, replay, "wechat_state").await;

    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "confirm").await;
    let wrong = replace_param(&callback, "state", "0123456789abcdef0123456789abcdef");
    let answer = app.browser.get(&wrong).send().await.expect("answer");
    assert_failed_to(&app, answer, "wechat_state").await;
    assert_eq!(
        app.stub.calls_to(Endpoint::ProviderToken),
        0,
        "no code was spent"
    );
}

#[tokio::test]
async fn a_callback_replayed_after_success_does_not_sign_anyone_in() {
    let app = spawn_app().await;
    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "confirm").await;
    let first = app.browser.get(&callback).send().await.expect("answer");
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&first), "/");

    // The same URL again, in this browser and in another one.
    let again = app.browser.get(&callback).send().await.expect("answer");
    assert!(location(&again).contains("error=wechat_state"));
    assert!(
        session_set_cookies(again.headers()).is_empty(),
        "the signed-in cookie is left as it was (its 30 days included)"
    );
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    let elsewhere = app
        .other_browser()
        .get(&callback)
        .send()
        .await
        .expect("answer");
    assert!(location(&elsewhere).contains("error=wechat_state"));
    assert!(session_set_cookies(elsewhere.headers()).is_empty());
    assert_eq!(app.stub.calls_to(Endpoint::SignInWithProvider), 1);
}

#[tokio::test]
async fn a_signed_in_person_who_cancels_a_wechat_sign_in_keeps_their_thirty_days() {
    let app = spawn_app().await;
    app.sign_in(PHONE).await;
    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "cancel").await;

    let answer = app.browser.get(&callback).send().await.expect("answer");

    assert!(location(&answer).contains("error=wechat_cancelled"));
    let cookies = session_set_cookies(answer.headers());
    assert_eq!(
        cookies.len(),
        1,
        "the session is saved without the WeChat state"
    );
    assert!(cookies[0].contains("Max-Age=2592000"), "{}", cookies[0]);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_state_started_in_another_browser_is_refused() {
    let app = spawn_app().await;
    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "confirm").await;

    let thief = app.other_browser();
    let answer = thief.get(&callback).send().await.expect("answer");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(location(&answer).contains("error=wechat_state"));
    assert!(session_set_cookies(answer.headers()).is_empty());

    // The browser that started it can still finish.
    let owner = app.browser.get(&callback).send().await.expect("answer");
    assert_eq!(location(&owner), "/");
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let app = spawn_app().await;
    let qr = app.start_wechat("/").await;
    let callback = app.press_on_qr_page(&qr, "confirm").await;
    app.advance_clock(Duration::from_secs(11 * 60));
    let answer = app.browser.get(&callback).send().await.expect("answer");
    assert_failed_to(&app, answer, "wechat_state").await;
}

#[tokio::test]
async fn a_code_cloudbase_rejects_ends_on_the_login_page() {
    let app = spawn_app().await;
    app.stub.fail_next(
        Endpoint::ProviderToken,
        1,
        Fault::envelope(400, "invalid_argument", "invalid code, errcode 40029"),
    );
    let answer = app.sign_in_with_wechat("/").await;
    let to = location(&answer);
    assert_failed_to(&app, answer, "wechat_failed").await;
    let page = app.get(&to).await.text().await.expect("text");
    assert!(page.contains("WeChat sign-in did not work"), "{page}");
}

#[tokio::test]
async fn a_hostile_from_is_stored_sanitised() {
    let app = spawn_app().await;
    for from in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/login",
    ] {
        let answer = app.sign_in_with_wechat(from).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{from}");
        assert_eq!(location(&answer), "/", "{from}");
        app.sign_out().await;
    }
}

#[tokio::test]
async fn wechat_start_failing_at_cloudbase_comes_back_with_a_message() {
    let app = spawn_app().await;
    app.stub
        .fail_next(Endpoint::ProviderUri, 1, Fault::Status(503));
    let answer = app.get("/api/auth/wechat/start?from=%2F").await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(location(&answer).contains("error=wechat_failed"));
}

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("URL");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}
