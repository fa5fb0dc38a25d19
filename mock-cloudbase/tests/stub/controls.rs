//! The controls: over HTTP under /__mock/, the record of calls, test-mounted mocks, and the handle's life.

use std::time::Duration;

use mock_cloudbase::{mask_phone, Endpoint, MockCloudbase};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{client, field, Answer, TestStub, DEVICE_ID, PHONE};

impl TestStub {
    async fn control(&self, path: &str, body: serde_json::Value) -> Answer {
        self.post_without_device(path, body).await
    }
}

#[tokio::test]
async fn the_last_sms_code_can_be_read_over_http() {
    let t = TestStub::start().await;
    t.get("/__mock/sms/last?phone=13800000000")
        .await
        .error(404, "not_found");
    t.send_code(PHONE).await.ok();

    let last = t.get("/__mock/sms/last?phone=%2B86%2013800000000").await;

    assert_eq!(last.ok()["phone"], PHONE);
    assert_eq!(last.str("code"), t.stub.sms_code_for(PHONE).unwrap());
    t.get("/__mock/sms/last?phone=12")
        .await
        .error(404, "not_found");
    t.get("/__mock/sms/last")
        .await
        .error(400, "invalid_argument");
}

#[tokio::test]
async fn the_clock_can_be_advanced_over_http() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;

    let advanced = t
        .control("/__mock/clock/advance", json!({ "seconds": 601 }))
        .await;

    assert!(advanced.ok()["now"].is_string());
    t.verify(&id, &code).await.error(400, "invalid_argument");
    t.control("/__mock/clock/advance", json!({ "seconds": -1 }))
        .await
        .error(400, "invalid_argument");
    t.control("/__mock/clock/advance", json!({ "seconds": "ten" }))
        .await
        .error(400, "invalid_argument");
    let too_far = t
        .control(
            "/__mock/clock/advance",
            json!({ "seconds": 18_446_744_073_709_551_615_u64 }),
        )
        .await;
    assert!(too_far.error(400, "invalid_argument").contains("ten years"));
}

#[tokio::test]
async fn faults_can_be_queued_over_http() {
    let t = TestStub::start().await;
    let queued = [
        json!({ "endpoint": "certs", "fault": { "kind": "status", "status": 503 } }),
        json!({ "endpoint": "certs", "times": 1, "fault": { "kind": "envelope", "status": 400, "error": "captcha_required", "description": "captcha" } }),
        json!({ "endpoint": "certs", "fault": { "kind": "non_json" } }),
        json!({ "endpoint": "certs", "fault": { "kind": "delay", "millis": 10 } }),
    ];
    for body in queued {
        t.control("/__mock/fail_next", body).await.ok();
    }

    t.get("/auth/v1/certs").await.error(503, "unavailable");
    let captcha = t.get("/auth/v1/certs").await;
    assert_eq!(captcha.error(400, "captcha_required"), "captcha");
    assert_eq!(captcha.body["error_code"], 9);
    assert_eq!(t.get("/auth/v1/certs").await.status, 502);
    t.get("/auth/v1/certs").await.ok();

    for bad in [
        json!({ "endpoint": "nope", "fault": { "kind": "non_json" } }),
        json!({ "endpoint": "certs", "fault": { "kind": "teapot" } }),
        json!({ "endpoint": "certs", "times": 1_000_000, "fault": { "kind": "non_json" } }),
        json!({ "endpoint": "certs", "fault": { "kind": "status", "status": 99 } }),
        json!({ "endpoint": "certs", "fault": { "kind": "envelope", "status": 200, "error": "x" } }),
        json!({ "endpoint": "certs", "fault": { "kind": "delay", "millis": u64::MAX } }),
    ] {
        t.control("/__mock/fail_next", bad)
            .await
            .error(400, "invalid_argument");
    }
}

#[tokio::test]
async fn region_and_login_methods_can_be_set_over_http() {
    let t = TestStub::start().await;
    t.control("/__mock/region", json!({ "region": "ap-guangzhou" }))
        .await
        .ok();
    t.send_code(PHONE).await.error(400, "failed_precondition");
    t.control("/__mock/region", json!({ "region": "ap-shanghai" }))
        .await
        .ok();

    t.control(
        "/__mock/login_method",
        json!({ "method": "sms", "enabled": false }),
    )
    .await
    .ok();
    t.send_code(PHONE).await.error(403, "login_method_disabled");
    t.control(
        "/__mock/login_method",
        json!({ "method": "sms", "enabled": true }),
    )
    .await
    .ok();
    t.send_code(PHONE).await.ok();

    t.control(
        "/__mock/login_method",
        json!({ "method": "wechat", "enabled": false }),
    )
    .await
    .ok();
    t.get(
        "/auth/v1/provider/uri?provider_id=wx_open&redirect_uri=https%3A%2F%2Fa.example%2F&state=s",
    )
    .await
    .error(403, "login_method_disabled");
    t.control(
        "/__mock/login_method",
        json!({ "method": "email", "enabled": false }),
    )
    .await
    .error(400, "invalid_argument");
}

#[tokio::test]
async fn users_can_be_seeded_and_signed_out_over_http() {
    let t = TestStub::start().await;
    let seeded = t
        .control(
            "/__mock/users",
            json!({ "phone": "13800000000", "name": "Ada" }),
        )
        .await;
    let sub = seeded.str("sub");

    let token = t.verification_token(PHONE).await;
    let credentials = t
        .post("/auth/v1/signin", json!({ "verification_token": token }))
        .await;
    assert_eq!(field(credentials.ok(), "sub"), sub);
    let access = field(&credentials.body, "access_token");
    assert_eq!(t.user_me(&access).await.ok()["name"], "Ada");

    t.control("/__mock/users/revoke", json!({ "sub": sub }))
        .await
        .ok();
    t.user_me(&access).await.error(401, "unauthenticated");

    t.control("/__mock/users", json!({ "phone": "+86 13800000000" }))
        .await
        .error(409, "already_exists");
    t.control("/__mock/users", json!({ "phone": "555" }))
        .await
        .error(400, "invalid_argument");
}

#[tokio::test]
async fn the_next_wechat_identity_can_be_queued_over_http() {
    let t = TestStub::start().await;
    t.control(
        "/__mock/users",
        json!({ "wechat_openid": "oHttp0000000000000000000000", "name": "Wei" }),
    )
    .await
    .ok();
    t.control(
        "/__mock/wechat/next_openid",
        json!({ "openid": "oHttp0000000000000000000000" }),
    )
    .await
    .ok();

    let uri = t
        .get("/auth/v1/provider/uri?provider_id=wx_open&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s")
        .await
        .str("uri");
    let page = t.send(t.http.get(uri)).await;
    assert!(page.text.contains("Wei"), "{}", page.text);
}

#[tokio::test]
async fn calls_record_method_path_query_headers_and_body_but_not_controls() {
    let t = TestStub::start().await;
    t.send_code(PHONE).await.ok();
    t.get("/auth/v1/certs?client_id=mock-env").await.ok();
    t.post_raw("/auth/v1/revoke", "not json", None).await;
    t.get("/__mock/calls").await.ok();

    let calls = t.stub.calls();

    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].path, "/auth/v1/verification");
    assert_eq!(calls[0].query, None);
    assert_eq!(calls[0].header("x-device-id"), Some(DEVICE_ID));
    assert!(calls[0]
        .headers
        .iter()
        .all(|(name, _)| name == &name.to_lowercase()));
    assert_eq!(
        calls[0].body,
        json!({ "phone_number": PHONE, "target": "ANY" })
    );
    assert_eq!(calls[1].query.as_deref(), Some("client_id=mock-env"));
    assert_eq!(calls[1].body, serde_json::Value::Null);
    assert_eq!(calls[2].body, json!("not json"));
    assert_eq!(t.stub.calls_to(Endpoint::SendVerification), 1);
    assert_eq!(t.stub.calls_to(Endpoint::Certs), 1);
    assert_eq!(t.stub.calls_to(Endpoint::UserMe), 0);

    let over_http = t.get("/__mock/calls").await;
    assert_eq!(over_http.ok().as_array().map(Vec::len), Some(3));
    assert_eq!(over_http.body[0]["path"], "/auth/v1/verification");
    assert_eq!(
        t.send(t.http.delete(t.url("/__mock/calls"))).await.ok(),
        &json!({})
    );
    assert!(t.stub.calls().is_empty());
}

#[tokio::test]
async fn a_test_mounted_mock_takes_precedence_over_the_stub() {
    let t = TestStub::start().await;
    Mock::given(method("GET"))
        .and(path("/auth/v1/certs"))
        .respond_with(ResponseTemplate::new(418).set_body_json(json!({ "error": "teapot" })))
        .up_to_n_times(1)
        .mount(t.stub.server())
        .await;

    assert_eq!(t.get("/auth/v1/certs").await.status, 418);
    t.get("/auth/v1/certs").await.ok();
}

#[tokio::test]
async fn clones_share_one_stub_and_the_last_drop_stops_it() {
    let stub = MockCloudbase::builder().fixed_code("111111").start().await;
    let clone = stub.clone();
    let http = client();
    let url = format!("{}/auth/v1/certs", stub.uri());
    assert!(!stub.uri().ends_with('/'));
    assert_eq!(stub.env_id(), "mock-env");

    drop(stub);
    assert!(http.get(&url).send().await.unwrap().status().is_success());

    drop(clone);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(after.is_err(), "the server stopped: {after:?}");
}

#[tokio::test]
async fn a_stub_can_serve_on_a_given_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stub = MockCloudbase::builder().listener(listener).start().await;
    assert_eq!(stub.uri(), format!("http://127.0.0.1:{port}"));
}

#[test]
fn phones_are_masked_for_printing() {
    assert_eq!(mask_phone("+86 13800000000"), "+86 138****0000");
    assert_eq!(mask_phone("+8613912345678"), "+86 139****5678");
}
