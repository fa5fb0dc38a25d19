//! Malformed requests get the error envelope, never a panic: empty, non-JSON, wrong types, too large, odd
//! methods and paths. Content-Type does not matter.

use serde_json::{json, Value};

use crate::helpers::{TestStub, PHONE};

const POST_ENDPOINTS: [&str; 8] = [
    "/auth/v1/verification",
    "/auth/v1/verification/verify",
    "/auth/v1/signin",
    "/auth/v1/signup",
    "/auth/v1/provider/token",
    "/auth/v1/signin/with/provider",
    "/auth/v1/token",
    "/auth/v1/revoke",
];

#[tokio::test]
async fn an_empty_body_is_invalid_argument() {
    let t = TestStub::start().await;
    for path in POST_ENDPOINTS {
        let description = t
            .post_raw(path, "", None)
            .await
            .error(400, "invalid_argument");
        assert!(description.contains("empty"), "{path}: {description}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_invalid_argument() {
    let t = TestStub::start().await;
    for path in POST_ENDPOINTS {
        let description = t
            .post_raw(path, "phone_number=+86 13800000000", None)
            .await
            .error(400, "invalid_argument");
        assert!(
            description.contains("not valid JSON"),
            "{path}: {description}"
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_invalid_argument() {
    let t = TestStub::start().await;
    for body in ["[]", "\"text\"", "42", "null"] {
        t.post_raw("/auth/v1/verification", body, None)
            .await
            .error(400, "invalid_argument");
    }
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_named() {
    let t = TestStub::start().await;
    let wrong_type = t
        .post(
            "/auth/v1/verification",
            json!({ "phone_number": 13800000000u64 }),
        )
        .await;
    let description = wrong_type.error(400, "invalid_argument");
    assert!(
        description.contains("phone_number") && description.contains("invalid type"),
        "{description}"
    );

    let missing = t
        .post(
            "/auth/v1/verification/verify",
            json!({ "verification_id": "x" }),
        )
        .await;
    let description = missing.error(400, "invalid_argument");
    assert!(description.contains("verification_code"), "{description}");

    let null_field = t
        .post(
            "/auth/v1/signup",
            json!({ "phone_number": null, "verification_token": "t" }),
        )
        .await;
    null_field.error(400, "invalid_argument");
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let t = TestStub::start().await;
    let answer = t
        .post(
            "/auth/v1/verification",
            json!({ "phone_number": PHONE, "target": "ANY", "extra": { "deep": [1, 2] } }),
        )
        .await;
    answer.ok();
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_with_the_envelope() {
    let t = TestStub::start().await;
    let padding = "x".repeat(70 * 1024);
    let body = json!({ "phone_number": PHONE, "padding": padding }).to_string();

    let answer = t.post_raw("/auth/v1/verification", body, None).await;

    let description = answer.error(413, "invalid_argument");
    assert!(description.contains("limit"), "{description}");
    assert_eq!(t.stub.sms_code_for(PHONE), None);
}

#[tokio::test]
async fn any_content_type_is_read_as_json() {
    let t = TestStub::start().await;
    let body = json!({ "phone_number": PHONE }).to_string();
    for (phone, content_type) in [
        ("+86 13800000001", Some("text/plain;charset=UTF-8")),
        ("+86 13800000002", Some("application/json")),
        ("+86 13800000003", Some("application/x-www-form-urlencoded")),
        ("+86 13800000004", None),
    ] {
        let body = body.replace(PHONE, phone);
        t.post_raw("/auth/v1/verification", body, content_type)
            .await
            .ok();
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_not_found_envelope() {
    let t = TestStub::start().await;
    t.get("/auth/v1/nope").await.error(404, "not_found");
    t.get("/").await.error(404, "not_found");
    t.get("/__mock/nope").await.error(404, "not_found");
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_refused_with_an_envelope() {
    let t = TestStub::start().await;
    let description = t
        .get("/auth/v1/verification")
        .await
        .error(405, "unimplemented");
    assert!(description.contains("POST"), "{description}");
    t.post("/auth/v1/user/me", json!({}))
        .await
        .error(405, "unimplemented");
}

#[tokio::test]
async fn odd_inputs_never_break_the_stub() {
    let t = TestStub::start().await;
    let odd_bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        "[".repeat(10_000).into_bytes(),
        br#"{"phone_number": "+86 1380000000\u0000"}"#.to_vec(),
        json!({ "phone_number": "😀".repeat(1000), "verification_id": {}, "verification_code": [], "token": 1,
                "refresh_token": true, "grant_type": "refresh_token", "provider_id": "wx_open",
                "provider_code": "\u{202e}", "provider_redirect_uri": "javascript:alert(1)",
                "provider_token": "x".repeat(60_000) })
        .to_string()
        .into_bytes(),
    ];
    for path in POST_ENDPOINTS {
        for body in &odd_bodies {
            let answer = t.post_raw(path, body.clone(), None).await;
            assert!(
                answer.status >= 400 && answer.status < 500 || answer.status == 200,
                "{path}: {}",
                answer.text
            );
            let envelope: Value = serde_json::from_str(&answer.text).expect("always JSON");
            assert!(envelope.is_object());
        }
    }
    // Odd headers and queries on the GET endpoints.
    for path in [
        "/auth/v1/user/me",
        "/auth/v1/token/introspect",
        "/auth/v1/provider/uri?provider_id=%ff%fe&redirect_uri=http%3A%2F%2F%5B%3A%3A1&state=%00",
    ] {
        let latin1 = reqwest::header::HeaderValue::from_bytes("é".repeat(20).as_bytes())
            .expect("obs-text is allowed");
        let request = t
            .http
            .get(t.url(path))
            .header("authorization", "Bearer \t ")
            .header("x-device-id", latin1);
        let answer = t.send(request).await;
        assert!(
            answer.status == 401 || answer.status == 400 || answer.status == 200,
            "{path}: {}",
            answer.text
        );
    }
    // Still alive.
    t.send_code(PHONE).await.ok();
}
