//! Access and refresh tokens: user/me, expiry on the fake clock, rotation and reuse, revoke, introspection,
//! and the JWT itself against the JWKS.

use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_cloudbase::MockCloudbase;
use serde_json::{json, Value};

use crate::helpers::{field, TestStub, PHONE};

/// The claims of a JWT, read without checking the signature.
pub fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn is_rfc3339(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

#[tokio::test]
async fn user_me_answers_the_profile_of_a_phone_user() {
    let t = TestStub::start().await;
    let credentials = t.sign_up(PHONE).await;

    let me = t.user_me(&field(&credentials, "access_token")).await;

    let me = me.ok();
    assert_eq!(me["sub"], credentials["sub"]);
    assert_eq!(me["name"], "User 0000");
    assert_eq!(me["phone_number"], PHONE);
    assert_eq!(me["gender"], "UNKNOWN");
    assert_eq!(me["status"], "ACTIVE");
    assert_eq!(me["providers"], json!([]));
    for text_field in ["picture", "username", "email"] {
        assert!(me[text_field].is_string(), "{text_field} in {me}");
    }
    assert!(is_rfc3339(&field(me, "created_at")), "{me}");
    assert!(is_rfc3339(&field(me, "updated_at")), "{me}");
}

#[tokio::test]
async fn user_me_without_a_good_token_is_unauthenticated() {
    let t = TestStub::start().await;
    t.send(t.http.get(t.url("/auth/v1/user/me")))
        .await
        .error(401, "unauthenticated");
    t.user_me("not-a-token").await.error(401, "unauthenticated");
    let basic = t
        .send(
            t.http
                .get(t.url("/auth/v1/user/me"))
                .header("authorization", "Basic abc"),
        )
        .await;
    basic.error(401, "unauthenticated");
}

#[tokio::test]
async fn an_access_token_expires_on_the_fake_clock() {
    let t = TestStub::start().await;
    let access = field(&t.sign_up(PHONE).await, "access_token");
    t.stub.advance_clock(Duration::from_secs(7100));
    t.user_me(&access).await.ok();

    t.stub.advance_clock(Duration::from_secs(101));

    let description = t.user_me(&access).await.error(401, "unauthenticated");
    assert!(description.contains("expired"), "{description}");
}

#[tokio::test]
async fn the_access_token_life_is_configurable() {
    let t =
        TestStub::from(MockCloudbase::builder().access_token_ttl(Duration::from_secs(60))).await;
    let credentials = t.sign_up(PHONE).await;
    assert_eq!(credentials["expires_in"], 60);
    let claims = claims_of(&field(&credentials, "access_token"));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );

    t.stub.advance_clock(Duration::from_secs(61));
    t.user_me(&field(&credentials, "access_token"))
        .await
        .error(401, "unauthenticated");
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies_at_once() {
    let t = TestStub::start().await;
    let first = t.sign_up(PHONE).await;

    let refreshed = t.refresh(&field(&first, "refresh_token")).await;

    let second = refreshed.ok();
    assert_eq!(second["sub"], first["sub"]);
    assert_eq!(second["token_type"], "Bearer");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    t.user_me(&field(second, "access_token")).await.ok();
    // The old access token lives on until it expires.
    t.user_me(&field(&first, "access_token")).await.ok();
}

#[tokio::test]
async fn reusing_a_refresh_token_is_invalid_grant_and_ends_the_sign_in() {
    let t = TestStub::start().await;
    let first = t.sign_up(PHONE).await;
    let second = t
        .refresh(&field(&first, "refresh_token"))
        .await
        .ok()
        .clone();

    let description = t
        .refresh(&field(&first, "refresh_token"))
        .await
        .error(400, "invalid_grant");
    assert!(description.contains("already used"), "{description}");

    // Reuse detection: the whole sign-in is gone.
    t.refresh(&field(&second, "refresh_token"))
        .await
        .error(400, "invalid_grant");
    t.user_me(&field(&second, "access_token"))
        .await
        .error(401, "unauthenticated");
}

#[tokio::test]
async fn bad_refresh_requests_are_refused() {
    let t = TestStub::start().await;
    let credentials = t.sign_up(PHONE).await;
    t.refresh("no-such-token").await.error(400, "invalid_grant");

    let password_grant = t
        .post(
            "/auth/v1/token",
            json!({ "client_id": "mock-env", "grant_type": "password", "refresh_token": field(&credentials, "refresh_token") }),
        )
        .await;
    password_grant.error(400, "invalid_argument");

    let wrong_client = t
        .post(
            "/auth/v1/token",
            json!({ "client_id": "other-env", "grant_type": "refresh_token", "refresh_token": field(&credentials, "refresh_token") }),
        )
        .await;
    assert!(wrong_client
        .error(400, "invalid_argument")
        .contains("client_id"));

    t.post("/auth/v1/token", json!({ "grant_type": "refresh_token" }))
        .await
        .error(400, "invalid_argument");
}

#[tokio::test]
async fn a_refresh_token_expires_after_31_days() {
    let t = TestStub::start().await;
    let credentials = t.sign_up(PHONE).await;

    t.stub
        .advance_clock(Duration::from_secs(31 * 24 * 60 * 60 + 1));

    let description = t
        .refresh(&field(&credentials, "refresh_token"))
        .await
        .error(400, "invalid_grant");
    assert!(description.contains("expired"), "{description}");
}

#[tokio::test]
async fn revoke_ends_the_sign_in_and_answers_an_empty_object() {
    let t = TestStub::start().await;
    let credentials = t.sign_up(PHONE).await;
    let access = field(&credentials, "access_token");

    let revoked = t
        .post_without_device("/auth/v1/revoke", json!({ "token": access }))
        .await;

    assert_eq!(revoked.ok(), &json!({}));
    let description = t.user_me(&access).await.error(401, "unauthenticated");
    assert!(description.contains("revoked"), "{description}");
    t.refresh(&field(&credentials, "refresh_token"))
        .await
        .error(400, "invalid_grant");
}

#[tokio::test]
async fn revoke_of_an_unknown_token_still_answers_an_empty_object() {
    let t = TestStub::start().await;
    let answer = t
        .post_without_device("/auth/v1/revoke", json!({ "token": "never-issued" }))
        .await;
    assert_eq!(answer.ok(), &json!({}));
}

#[tokio::test]
async fn revoke_accepts_the_token_in_the_authorization_header() {
    let t = TestStub::start().await;
    let access = field(&t.sign_up(PHONE).await, "access_token");

    let answer = t
        .send(t.http.post(t.url("/auth/v1/revoke")).bearer_auth(&access))
        .await;

    assert_eq!(answer.ok(), &json!({}));
    t.user_me(&access).await.error(401, "unauthenticated");
}

#[tokio::test]
async fn revoking_all_sessions_of_a_user_signs_them_out_everywhere() {
    let t = TestStub::start().await;
    let first = t.sign_up(PHONE).await;
    t.stub.advance_clock(Duration::from_secs(31));
    let token = t.verification_token(PHONE).await;
    let second = t
        .post(
            "/auth/v1/signin",
            json!({ "username": PHONE, "verification_token": token }),
        )
        .await
        .ok()
        .clone();

    t.stub.revoke_all_for_user(&field(&first, "sub"));

    for credentials in [&first, &second] {
        t.user_me(&field(credentials, "access_token"))
            .await
            .error(401, "unauthenticated");
        t.refresh(&field(credentials, "refresh_token"))
            .await
            .error(400, "invalid_grant");
    }
}

#[tokio::test]
async fn introspect_describes_a_live_token_and_answers_empty_otherwise() {
    let t = TestStub::start().await;
    let credentials = t.sign_up(PHONE).await;
    let access = field(&credentials, "access_token");

    let live = t.get_as("/auth/v1/token/introspect", &access).await;
    assert_eq!(
        live.ok(),
        &json!({ "token_type": "Bearer", "client_id": "mock-env", "sub": credentials["sub"], "scope": "user sso" })
    );

    assert_eq!(
        t.get_as("/auth/v1/token/introspect", "junk").await.ok(),
        &json!({})
    );
    assert_eq!(t.get("/auth/v1/token/introspect").await.ok(), &json!({}));
    t.post_without_device("/auth/v1/revoke", json!({ "token": access }))
        .await
        .ok();
    assert_eq!(
        t.get_as("/auth/v1/token/introspect", &access).await.ok(),
        &json!({})
    );
}

#[tokio::test]
async fn the_access_token_is_an_rs256_jwt_that_verifies_against_the_jwks() {
    let t = TestStub::from(
        MockCloudbase::builder()
            .env_id("env-42")
            .region("ap-guangzhou"),
    )
    .await;
    t.stub.set_region("ap-shanghai");
    let credentials = t.sign_up(PHONE).await;
    t.stub.set_region("ap-guangzhou");
    let access = field(&credentials, "access_token");

    let jwks = t.get("/auth/v1/certs").await;
    let key = &jwks.ok()["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    let header = jsonwebtoken::decode_header(&access).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());

    let decoding_key =
        DecodingKey::from_rsa_components(&field(key, "n"), &field(key, "e")).expect("n and e");
    let mut validation = Validation::new(Algorithm::RS256);
    // The fake clock may run ahead of real time; the stub's own session table decides expiry.
    validation.validate_exp = false;
    validation.set_audience(&["env-42"]);
    let token = jsonwebtoken::decode::<Value>(&access, &decoding_key, &validation)
        .expect("the signature verifies");

    let claims = token.claims;
    assert_eq!(
        claims["iss"],
        "http://env-42.ap-shanghai.tcb-api.tencentcloudapi.com"
    );
    assert_eq!(claims["sub"], credentials["sub"]);
    assert_eq!(claims["aud"], "env-42");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        7200
    );
    assert_eq!(claims["scope"], "user sso");
    assert_eq!(claims["project_id"], "env-42");
    assert_eq!(claims["provider_type"], "phone");
    assert!(claims["user_type"].is_string());

    // A token signed by another key does not verify.
    let mut tampered = access.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    assert!(jsonwebtoken::decode::<Value>(&tampered, &decoding_key, &validation).is_err());
}

#[tokio::test]
async fn the_tokens_claims_follow_the_fake_clock() {
    let t = TestStub::start().await;
    t.stub.advance_clock(Duration::from_secs(3 * 24 * 60 * 60));
    let claims = claims_of(&field(&t.sign_up(PHONE).await, "access_token"));
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let iat = claims["iat"].as_u64().unwrap();
    assert!(
        iat >= real_now + 3 * 24 * 60 * 60 - 5,
        "iat {iat} vs real {real_now}"
    );
}
