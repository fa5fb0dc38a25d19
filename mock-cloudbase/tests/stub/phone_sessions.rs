//! SMS sign-in and sign-up: spending the verification token, the device id, who may do what.

use std::time::Duration;

use mock_cloudbase::SeedUser;
use serde_json::json;

use crate::helpers::{field, TestStub, OTHER_PHONE, PHONE};

#[tokio::test]
async fn sign_up_creates_the_user_and_answers_credentials() {
    let t = TestStub::start().await;
    let token = t.verification_token(PHONE).await;

    let answer = t
        .post(
            "/auth/v1/signup",
            json!({ "phone_number": PHONE, "verification_token": token }),
        )
        .await;

    let credentials = answer.ok();
    assert_eq!(credentials["token_type"], "Bearer");
    assert_eq!(credentials["expires_in"], 7200);
    assert_eq!(credentials["scope"], "user sso");
    let sub = field(credentials, "sub");
    assert!(
        !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_digit()),
        "numeric sub: {sub}"
    );
    let refresh = field(credentials, "refresh_token");
    assert!(!refresh.is_empty() && refresh.len() <= 128);
    assert_eq!(
        field(credentials, "access_token").split('.').count(),
        3,
        "a JWT"
    );

    // The number is now a user.
    t.stub.advance_clock(Duration::from_secs(31));
    assert_eq!(t.send_code(PHONE).await.ok()["is_user"], true);
}

#[tokio::test]
async fn sign_in_of_an_existing_user_answers_their_credentials() {
    let t = TestStub::start().await;
    let sub = t.stub.seed_user(SeedUser {
        phone: Some("13800000000".to_owned()),
        ..SeedUser::default()
    });
    let token = t.verification_token(PHONE).await;

    let answer = t
        .post(
            "/auth/v1/signin",
            json!({ "username": PHONE, "verification_token": token }),
        )
        .await;

    assert_eq!(field(answer.ok(), "sub"), sub);
}

#[tokio::test]
async fn sign_in_with_the_verification_token_alone_works() {
    let t = TestStub::start().await;
    let sub = t.stub.seed_user(SeedUser {
        phone: Some(PHONE.to_owned()),
        ..SeedUser::default()
    });
    let token = t.verification_token(PHONE).await;

    let answer = t
        .post("/auth/v1/signin", json!({ "verification_token": token }))
        .await;

    assert_eq!(field(answer.ok(), "sub"), sub);
}

#[tokio::test]
async fn sign_in_of_an_unknown_user_is_not_found_and_leaves_the_token_for_sign_up() {
    let t = TestStub::start().await;
    let token = t.verification_token(PHONE).await;

    let description = t
        .post(
            "/auth/v1/signin",
            json!({ "username": PHONE, "verification_token": token }),
        )
        .await
        .error(404, "not_found");
    assert!(description.contains("+86 138****0000"), "{description}");

    t.post(
        "/auth/v1/signup",
        json!({ "phone_number": PHONE, "verification_token": token }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn sign_up_of_an_existing_user_is_already_exists() {
    let t = TestStub::start().await;
    t.stub.seed_user(SeedUser {
        phone: Some(PHONE.to_owned()),
        ..SeedUser::default()
    });
    let token = t.verification_token(PHONE).await;

    t.post(
        "/auth/v1/signup",
        json!({ "phone_number": PHONE, "verification_token": token }),
    )
    .await
    .error(409, "already_exists");
}

#[tokio::test]
async fn a_verification_token_is_single_use() {
    let t = TestStub::start().await;
    let token = t.verification_token(PHONE).await;
    t.post(
        "/auth/v1/signup",
        json!({ "phone_number": PHONE, "verification_token": token }),
    )
    .await
    .ok();

    let description = t
        .post(
            "/auth/v1/signin",
            json!({ "username": PHONE, "verification_token": token }),
        )
        .await
        .error(400, "invalid_argument");
    assert!(description.contains("already used"), "{description}");
}

#[tokio::test]
async fn a_verification_token_expires_after_600_seconds() {
    let t = TestStub::start().await;
    let token = t.verification_token(PHONE).await;

    t.stub.advance_clock(Duration::from_secs(601));

    let description = t
        .post(
            "/auth/v1/signup",
            json!({ "phone_number": PHONE, "verification_token": token }),
        )
        .await
        .error(400, "invalid_argument");
    assert!(description.contains("expired"), "{description}");
}

#[tokio::test]
async fn a_verification_token_of_another_number_is_refused() {
    let t = TestStub::start().await;
    t.stub.seed_user(SeedUser {
        phone: Some(OTHER_PHONE.to_owned()),
        ..SeedUser::default()
    });
    let token = t.verification_token(PHONE).await;

    t.post(
        "/auth/v1/signup",
        json!({ "phone_number": OTHER_PHONE, "verification_token": token }),
    )
    .await
    .error(400, "invalid_argument");
    t.post(
        "/auth/v1/signin",
        json!({ "username": OTHER_PHONE, "verification_token": token }),
    )
    .await
    .error(400, "invalid_argument");
    t.post(
        "/auth/v1/signin",
        json!({ "username": "not a phone", "verification_token": token }),
    )
    .await
    .error(400, "invalid_argument");
}

#[tokio::test]
async fn an_unknown_verification_token_is_invalid_argument() {
    let t = TestStub::start().await;
    t.post(
        "/auth/v1/signup",
        json!({ "phone_number": PHONE, "verification_token": "nope" }),
    )
    .await
    .error(400, "invalid_argument");
}

#[tokio::test]
async fn sign_in_and_sign_up_require_a_proper_device_id() {
    let t = TestStub::start().await;
    let token = t.verification_token(PHONE).await;
    let body = json!({ "phone_number": PHONE, "verification_token": token });

    for path in ["/auth/v1/signup", "/auth/v1/signin"] {
        let description = t
            .post_without_device(path, body.clone())
            .await
            .error(400, "invalid_argument");
        assert!(description.contains("x-device-id"), "{description}");
        for bad in ["short", &"x".repeat(49)] {
            let request = t
                .http
                .post(t.url(path))
                .header("x-device-id", bad)
                .body(body.to_string());
            t.send(request).await.error(400, "invalid_argument");
        }
    }
    // The token was not spent by the refused calls.
    t.post("/auth/v1/signup", body).await.ok();
}
