//! What a person does in the browser, start to end.

use crate::driver::{start, Browser};
use crate::helpers::{TestApp, PHONE};

/// Types the phone, asks for a code, reads it from the stub and signs in.
async fn sign_in_with_sms(app: &TestApp, browser: &Browser) {
    browser.wait_until_enabled("#send-code").await;
    browser.type_into("#phone", "138 0013 8000").await;
    browser.click("#send-code").await;
    // The button counts down: the wasm client runs and took the server's wait.
    browser.wait_for_text("#send-code", "Resend in").await;
    browser.wait_for_text("#notice", "+86 138****8000").await;
    let code = app.code_for(PHONE);
    browser.type_into("#code", &code).await;
    browser.click("#sign-in").await;
}

#[tokio::test]
async fn a_person_signs_in_by_sms_and_sees_their_welcome_page() {
    let (app, browser) = start().await;

    browser.open(&app.url("/")).await;
    browser.wait_for_path(&app, "/login?from=%2F").await;
    browser.wait_until_enabled("#send-code").await;
    browser.screenshot("login").await;
    browser.assert_clean_console("/login").await;
    let mode = browser
        .client
        .execute("return document.compatMode", vec![])
        .await
        .expect("script runs");
    assert_eq!(mode, "CSS1Compat", "the page renders in standards mode");

    sign_in_with_sms(&app, &browser).await;
    browser.wait_for_path(&app, "/").await;
    let welcome = browser.wait_for_text("#welcome", "Welcome, ").await;
    assert!(welcome.len() > "Welcome, ".len());
    browser.wait_for_text("#phone", "+86 138****8000").await;
    browser.screenshot("welcome").await;

    // The session cookie is invisible to scripts.
    let cookies = browser
        .client
        .execute("return document.cookie", vec![])
        .await
        .expect("script runs");
    assert!(!cookies
        .as_str()
        .unwrap_or_default()
        .contains("cloudbase_session"));

    // A reload stays signed in, rendered by the server.
    browser.client.refresh().await.expect("reload");
    browser.wait_for_text("#welcome", "Welcome, ").await;
    browser.assert_clean_console("/").await;
}

#[tokio::test]
async fn a_wrong_code_says_so_and_the_form_stays_usable() {
    let (app, browser) = start().await;
    browser.open(&app.url("/login")).await;
    browser.wait_until_enabled("#send-code").await;
    browser.type_into("#phone", PHONE).await;
    browser.click("#send-code").await;
    browser.wait_for_text("#send-code", "Resend in").await;
    let right = app.code_for(PHONE);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    browser.type_into("#code", wrong).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("#error", "4 tries left").await;
    browser.screenshot("login-error").await;
    browser.wait_until_enabled("#sign-in").await;

    browser.type_into("#code", &right).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("#welcome", "Welcome, ").await;
    browser
        .assert_console_clean_but("/login with a wrong code", &[("/api/auth/sms/verify", 400)])
        .await;
}

#[tokio::test]
async fn a_deep_link_comes_back_to_exactly_that_address_after_sign_in() {
    let (app, browser) = start().await;
    browser.open(&app.url("/?x=1")).await;
    browser.wait_for_path(&app, "/login?from=%2F%3Fx%3D1").await;
    sign_in_with_sms(&app, &browser).await;
    browser.wait_for_path(&app, "/?x=1").await;
    browser.wait_for_text("#welcome", "Welcome, ").await;
}

#[tokio::test]
async fn hostile_return_addresses_end_on_this_site() {
    let (app, browser) = start().await;
    for raw in [
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "javascript%3Aalert(document.domain)",
        "%2F%09%2Fevil.example",
    ] {
        browser.open(&app.url(&format!("/login?from={raw}"))).await;
        sign_in_with_sms(&app, &browser).await;
        browser.wait_for_path(&app, "/").await;
        browser.wait_for_text("#welcome", "Welcome, ").await;
        browser.assert_clean_console(raw).await;

        // Signed out again, and past the wait before the next code.
        browser.wait_until_enabled("#sign-out").await;
        browser.click("#sign-out").await;
        browser.wait_for_path(&app, "/login").await;
        app.advance_clock(std::time::Duration::from_secs(61));
    }
}

#[tokio::test]
async fn signing_out_lands_on_login_and_back_does_not_show_the_welcome_page() {
    let (app, browser) = start().await;
    browser.open(&app.url("/login")).await;
    sign_in_with_sms(&app, &browser).await;
    browser.wait_for_text("#welcome", "Welcome, ").await;

    browser.wait_until_enabled("#sign-out").await;
    browser.click("#sign-out").await;
    browser.wait_for_path(&app, "/login").await;
    browser.find("#phone").await;

    browser.client.back().await.expect("back");
    // Whatever the browser shows after Back, it is not the welcome page.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let source = browser.client.source().await.expect("page source");
    assert!(
        !source.contains("Welcome, "),
        "the welcome page came back after sign-out"
    );
    browser.assert_clean_console("sign-out").await;
}

#[tokio::test]
async fn wechat_sign_in_confirm_and_cancel() {
    let (app, browser) = start().await;
    browser.open(&app.url("/login")).await;
    browser.click("#wechat").await;
    browser.find("#confirm").await;
    browser.screenshot("wechat-qr").await;
    browser.click("#confirm").await;
    browser.wait_for_path(&app, "/").await;
    browser.wait_for_text("#welcome", "Welcome, ").await;
    browser.wait_for_text("main", "Signed in with WeChat").await;
    browser.screenshot("welcome-wechat").await;

    browser.wait_until_enabled("#sign-out").await;
    browser.click("#sign-out").await;
    browser.wait_for_path(&app, "/login").await;
    browser.click("#wechat").await;
    browser.click("#cancel").await;
    browser
        .wait_for_text("#error", "WeChat sign-in was cancelled")
        .await;
    browser.assert_clean_console("WeChat").await;
}

#[tokio::test]
async fn every_asset_the_login_page_references_loads_without_a_session() {
    let (app, _browser) = start().await;
    let html = app
        .get("/login")
        .await
        .text()
        .await
        .expect("the login page");
    let mut checked = 0;
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            let path = piece.split('"').next().unwrap_or_default();
            if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/api/") {
                let answer = app.get(path).await;
                assert_eq!(answer.status(), reqwest::StatusCode::OK, "{path}");
                checked += 1;
            }
        }
    }
    assert!(
        checked > 0,
        "the bundle's page references its scripts: {html}"
    );
}
