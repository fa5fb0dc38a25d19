//! WeChat QR login: provider/uri, the fake QR page and its links, provider/token, signin/with/provider.

use std::time::Duration;

use mock_cloudbase::{LoginMethod, SeedUser};
use serde_json::{json, Value};

use crate::helpers::{field, Answer, TestStub};

const CALLBACK: &str = "https://app.example/login/wechat-callback";

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The `href` of the element with this id on the QR page.
fn href_of(page: &str, id: &str) -> String {
    let element = &page[page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} on the page"))..];
    let start = element.find("href=\"").expect("the element has an href") + "href=\"".len();
    let end = start + element[start..].find('"').expect("the href ends");
    element[start..end].to_owned()
}

/// A query parameter of an absolute URL.
fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("an absolute URL")
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

impl TestStub {
    async fn provider_uri(&self, redirect_uri: &str, state: &str) -> Answer {
        self.get(&format!(
            "/auth/v1/provider/uri?provider_id=wx_open&redirect_uri={}&state={}&scope=snsapi_login",
            encode(redirect_uri),
            encode(state)
        ))
        .await
    }

    /// Opens the QR page from provider/uri and returns it.
    async fn qr_page(&self, redirect_uri: &str, state: &str) -> Answer {
        let uri = self.provider_uri(redirect_uri, state).await.str("uri");
        assert!(
            uri.starts_with(&self.stub.uri()),
            "the QR page is on the stub: {uri}"
        );
        self.send(self.http.get(uri)).await
    }

    /// Follows one link of the QR page and returns where it sends the browser.
    async fn click(&self, page: &Answer, id: &str) -> String {
        let answer = self
            .send(self.http.get(self.url(&href_of(&page.text, id))))
            .await;
        assert_eq!(answer.status, 302, "{}", answer.text);
        answer.headers["location"]
            .to_str()
            .expect("an ASCII Location")
            .to_owned()
    }

    /// QR page, Confirm, and the code the browser comes back with.
    async fn wechat_code(&self, redirect_uri: &str) -> String {
        let page = self.qr_page(redirect_uri, "s1").await;
        let location = self.click(&page, "confirm").await;
        param(&location, "code").expect("a code")
    }

    async fn provider_token(&self, redirect_uri: &str, code: &str) -> Answer {
        self.post(
            "/auth/v1/provider/token",
            json!({ "provider_id": "wx_open", "provider_redirect_uri": redirect_uri, "provider_code": code }),
        )
        .await
    }

    async fn sign_in_with_provider(&self, provider_token: &str) -> Answer {
        self.post(
            "/auth/v1/signin/with/provider",
            json!({ "provider_token": provider_token }),
        )
        .await
    }

    /// The whole flow; returns the credentials.
    async fn wechat_sign_in(&self) -> Value {
        let code = self.wechat_code(CALLBACK).await;
        let provider_token = self
            .provider_token(CALLBACK, &code)
            .await
            .str("provider_token");
        self.sign_in_with_provider(&provider_token)
            .await
            .ok()
            .clone()
    }
}

#[tokio::test]
async fn the_whole_wechat_flow_registers_and_signs_the_user_in() {
    let t = TestStub::start().await;

    let page = t.qr_page(CALLBACK, "state-123").await;
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains("id=\"confirm\"") && page.text.contains("id=\"cancel\""));
    assert!(!page.text.contains("<script"), "works without JS");
    assert!(!page.text.contains("src=\"http"), "no external resources");

    let location = t.click(&page, "confirm").await;
    assert!(location.starts_with(&format!("{CALLBACK}?")), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("state-123"));
    let code = param(&location, "code").expect("a code");

    let exchanged = t.provider_token(CALLBACK, &code).await;
    assert_eq!(exchanged.ok()["expires_in"], 3600);
    let profile = &exchanged.body["provider_profile"];
    assert_eq!(profile["name"], "WeChat User");
    let openid = field(profile, "provider_user_id");
    let avatar = field(profile, "picture");

    let credentials = t
        .sign_in_with_provider(&exchanged.str("provider_token"))
        .await;
    let me = t.user_me(&field(credentials.ok(), "access_token")).await;
    let me = me.ok();
    assert_eq!(me["sub"], credentials.body["sub"]);
    assert_eq!(me["name"], "WeChat User");
    assert_eq!(me["picture"], avatar.as_str());
    assert_eq!(
        me["providers"],
        json!([{ "id": "wx_open", "provider_user_id": openid, "name": "WeChat User" }])
    );

    // The avatar is served by the stub itself.
    let picture = t.send(t.http.get(&avatar)).await;
    assert_eq!(picture.status, 200);
    assert_eq!(picture.headers["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn the_access_token_of_a_wechat_user_says_wx_open() {
    let t = TestStub::start().await;
    let credentials = t.wechat_sign_in().await;
    let claims = crate::tokens::claims_of(&field(&credentials, "access_token"));
    assert_eq!(claims["provider_type"], "wx_open");
}

#[tokio::test]
async fn confirm_appends_to_a_redirect_uri_that_has_a_query_and_encodes_the_state() {
    let t = TestStub::start().await;
    let redirect_uri = "http://127.0.0.1:8080/cb?next=%2Fhome";

    let page = t.qr_page(redirect_uri, "a b&c=d").await;
    let location = t.click(&page, "confirm").await;

    assert!(
        location.starts_with("http://127.0.0.1:8080/cb?next=%2Fhome&code="),
        "{location}"
    );
    assert_eq!(param(&location, "state").as_deref(), Some("a b&c=d"));
    assert_eq!(param(&location, "next").as_deref(), Some("/home"));
}

#[tokio::test]
async fn cancel_sends_the_browser_back_with_the_state_and_no_code() {
    let t = TestStub::start().await;
    let page = t.qr_page(CALLBACK, "state-9").await;

    let location = t.click(&page, "cancel").await;

    assert_eq!(location, format!("{CALLBACK}?state=state-9"));
    // The ticket is spent: Confirm no longer works.
    let confirm = t
        .send(t.http.get(t.url(&href_of(&page.text, "confirm"))))
        .await;
    confirm.error(400, "invalid_argument");
}

#[tokio::test]
async fn a_redirect_uri_other_than_the_one_given_to_provider_uri_is_refused() {
    let t = TestStub::start().await;
    let code = t.wechat_code(CALLBACK).await;

    let description = t
        .provider_token("https://evil.example/cb", &code)
        .await
        .error(400, "invalid_argument");
    assert!(
        description.contains("provider_redirect_uri"),
        "{description}"
    );
    // The right one still works: a mismatch does not spend the code.
    t.provider_token(CALLBACK, &code).await.ok();
}

#[tokio::test]
async fn a_wechat_code_is_single_use() {
    let t = TestStub::start().await;
    let code = t.wechat_code(CALLBACK).await;
    t.provider_token(CALLBACK, &code).await.ok();

    let description = t
        .provider_token(CALLBACK, &code)
        .await
        .error(400, "invalid_argument");
    assert!(description.contains("40029"), "{description}");
}

#[tokio::test]
async fn a_wechat_code_expires_after_ten_minutes() {
    let t = TestStub::start().await;
    let code = t.wechat_code(CALLBACK).await;

    t.stub.advance_clock(Duration::from_secs(601));

    let description = t
        .provider_token(CALLBACK, &code)
        .await
        .error(400, "invalid_argument");
    assert!(
        description.contains("expired") && description.contains("40029"),
        "{description}"
    );
}

#[tokio::test]
async fn an_unknown_wechat_code_mentions_errcode_40029() {
    let t = TestStub::start().await;
    let description = t
        .provider_token(CALLBACK, "made-up")
        .await
        .error(400, "invalid_argument");
    assert!(description.contains("40029"), "{description}");
}

#[tokio::test]
async fn a_provider_token_is_single_use_and_expires_after_an_hour() {
    let t = TestStub::start().await;
    let code = t.wechat_code(CALLBACK).await;
    let provider_token = t
        .provider_token(CALLBACK, &code)
        .await
        .str("provider_token");
    t.sign_in_with_provider(&provider_token).await.ok();
    t.sign_in_with_provider(&provider_token)
        .await
        .error(400, "invalid_argument");

    let code = t.wechat_code(CALLBACK).await;
    let provider_token = t
        .provider_token(CALLBACK, &code)
        .await
        .str("provider_token");
    t.stub.advance_clock(Duration::from_secs(3601));
    t.sign_in_with_provider(&provider_token)
        .await
        .error(400, "invalid_argument");
}

#[tokio::test]
async fn a_queued_openid_signs_the_seeded_wechat_user_in() {
    let t = TestStub::start().await;
    let sub = t.stub.seed_user(SeedUser {
        name: Some("Xiao Ming".to_owned()),
        picture: Some("https://img.example/xm.png".to_owned()),
        wechat_openid: Some("oSeeded0000000000000000000001".to_owned()),
        ..SeedUser::default()
    });

    t.stub.next_wechat_identity("oSeeded0000000000000000000001");
    let code = t.wechat_code(CALLBACK).await;
    let exchanged = t.provider_token(CALLBACK, &code).await;
    assert_eq!(exchanged.ok()["provider_profile"]["name"], "Xiao Ming");
    let credentials = t
        .sign_in_with_provider(&exchanged.str("provider_token"))
        .await;

    assert_eq!(field(credentials.ok(), "sub"), sub);
    // Without a queued identity, the next ticket is a new WeChat user.
    let other = t.wechat_sign_in().await;
    assert_ne!(field(&other, "sub"), sub);
}

#[tokio::test]
async fn the_same_openid_twice_is_the_same_user() {
    let t = TestStub::start().await;
    t.stub.next_wechat_identity("oRepeat000000000000000000000");
    let first = t.wechat_sign_in().await;
    t.stub.next_wechat_identity("oRepeat000000000000000000000");
    let second = t.wechat_sign_in().await;
    assert_eq!(first["sub"], second["sub"]);
}

#[tokio::test]
async fn provider_uri_checks_its_parameters() {
    let t = TestStub::start().await;
    let cb = encode(CALLBACK);
    for query in [
        format!("provider_id=github&redirect_uri={cb}&state=s"),
        format!("redirect_uri={cb}&state=s"),
        "provider_id=wx_open&redirect_uri=%2Frelative%2Fpath&state=s".to_owned(),
        "provider_id=wx_open&redirect_uri=ftp%3A%2F%2Fhost%2Fx&state=s".to_owned(),
        "provider_id=wx_open&state=s".to_owned(),
        format!("provider_id=wx_open&redirect_uri={cb}"),
        format!("provider_id=wx_open&redirect_uri={cb}&state="),
        format!("provider_id=wx_open&redirect_uri={cb}&state=s&scope=snsapi_userinfo"),
    ] {
        t.get(&format!("/auth/v1/provider/uri?{query}"))
            .await
            .error(400, "invalid_argument");
    }
    let without_device = t
        .send(t.http.get(t.url(&format!(
            "/auth/v1/provider/uri?provider_id=wx_open&redirect_uri={cb}&state=s"
        ))))
        .await;
    assert!(without_device
        .error(400, "invalid_argument")
        .contains("x-device-id"));
}

#[tokio::test]
async fn provider_token_and_sign_in_require_a_device_id() {
    let t = TestStub::start().await;
    let code = t.wechat_code(CALLBACK).await;
    t.post_without_device(
        "/auth/v1/provider/token",
        json!({ "provider_id": "wx_open", "provider_redirect_uri": CALLBACK, "provider_code": code }),
    )
    .await
    .error(400, "invalid_argument");
    t.post_without_device(
        "/auth/v1/signin/with/provider",
        json!({ "provider_token": "x" }),
    )
    .await
    .error(400, "invalid_argument");
}

#[tokio::test]
async fn wechat_login_can_be_disabled() {
    let t = TestStub::start().await;
    t.stub.disable_login_method(LoginMethod::WeChat);

    let description = t
        .provider_uri(CALLBACK, "s")
        .await
        .error(403, "login_method_disabled");
    assert!(description.contains("WeChat"), "{description}");

    t.stub.enable_login_method(LoginMethod::WeChat);
    t.provider_uri(CALLBACK, "s").await.ok();
}

#[tokio::test]
async fn an_unknown_or_expired_qr_ticket_is_refused() {
    let t = TestStub::start().await;
    t.send(t.http.get(t.url("/__mock/wechat/qrconnect?ticket=nope")))
        .await
        .error(404, "not_found");

    let uri = t.provider_uri(CALLBACK, "s").await.str("uri");
    t.stub.advance_clock(Duration::from_secs(601));
    t.send(t.http.get(uri)).await.error(400, "invalid_argument");
}
