//! Sending and checking SMS codes: formats, limits, expiry, single use, wrong tries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_cloudbase::{MockCloudbase, SeedUser};
use serde_json::json;

use crate::helpers::{TestStub, OTHER_PHONE, PHONE};

#[tokio::test]
async fn sending_a_code_answers_a_verification_id_for_a_new_number() {
    let t = TestStub::start().await;

    let sent = t.send_code(PHONE).await;

    let body = sent.ok();
    assert!(!sent.str("verification_id").is_empty());
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["is_user"], false);
    let code = t.stub.sms_code_for(PHONE).expect("a code was sent");
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn a_known_number_is_reported_as_a_user() {
    let t = TestStub::start().await;
    t.stub.seed_user(SeedUser {
        phone: Some(PHONE.to_owned()),
        ..SeedUser::default()
    });

    assert_eq!(t.send_code(PHONE).await.ok()["is_user"], true);
    assert_eq!(t.send_code(OTHER_PHONE).await.ok()["is_user"], false);
}

#[tokio::test]
async fn a_number_without_the_space_is_normalised() {
    let t = TestStub::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    t.stub
        .on_sms(move |sms| sink.lock().unwrap().push(sms.clone()));

    t.send_code("+8613800000000").await.ok();

    let code = t
        .stub
        .sms_code_for(PHONE)
        .expect("stored under the wire format");
    assert_eq!(t.stub.sms_code_for("+8613800000000"), Some(code.clone()));
    assert_eq!(t.stub.sms_code_for("13800000000"), Some(code.clone()));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].phone, PHONE);
    assert_eq!(seen[0].masked_phone, "+86 138****0000");
    assert_eq!(seen[0].code, code);
}

#[tokio::test]
async fn malformed_phone_numbers_are_invalid_argument() {
    let t = TestStub::start().await;
    for phone in [
        "13800000000",
        "+86 1380000000",
        "+86 138000000000",
        "+86 23800000000",
        "+1 2025550123",
        "+86 138-0000-0000",
        "",
    ] {
        let description = t.send_code(phone).await.error(400, "invalid_argument");
        assert!(
            description.contains("phone_number"),
            "{phone:?}: {description}"
        );
    }
    assert_eq!(t.stub.sms_code_for("13800000000"), None);
}

#[tokio::test]
async fn a_fixed_code_is_sent_instead_of_a_random_one() {
    let t = TestStub::from(MockCloudbase::builder().fixed_code("424242")).await;
    t.send_code(PHONE).await.ok();
    assert_eq!(t.stub.sms_code_for(PHONE).as_deref(), Some("424242"));
}

#[tokio::test]
async fn resending_within_30_seconds_is_refused_until_the_window_passes() {
    let t = TestStub::start().await;
    t.send_code(PHONE).await.ok();

    let too_soon = t.send_code(PHONE).await;
    let description = too_soon.error(429, "resource_exhausted");
    assert!(
        description.contains("retry after 30 seconds")
            || description.contains("retry after 29 seconds"),
        "{description}"
    );
    assert!(too_soon.headers.contains_key("retry-after"));
    // Another number is not limited by this one.
    t.send_code(OTHER_PHONE).await.ok();

    t.stub.advance_clock(Duration::from_secs(20));
    let still_too_soon = t.send_code(PHONE).await.error(429, "resource_exhausted");
    assert!(
        still_too_soon.contains("retry after 10 seconds")
            || still_too_soon.contains("retry after 9 seconds"),
        "{still_too_soon}"
    );

    t.stub.advance_clock(Duration::from_secs(11));
    t.send_code(PHONE).await.ok();
}

#[tokio::test]
async fn ten_codes_a_day_per_number_then_resource_exhausted() {
    let t = TestStub::start().await;
    for _ in 0..10 {
        t.send_code(PHONE).await.ok();
        t.stub.advance_clock(Duration::from_secs(31));
    }

    let description = t.send_code(PHONE).await.error(429, "resource_exhausted");
    assert!(description.contains("daily limit"), "{description}");
    assert!(description.contains("retry after"), "{description}");

    t.stub.advance_clock(Duration::from_secs(24 * 60 * 60));
    t.send_code(PHONE).await.ok();
}

#[tokio::test]
async fn the_right_code_buys_a_verification_token() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;

    let verified = t.verify(&id, &code).await;

    assert_eq!(verified.ok()["expires_in"], 600);
    assert!(!verified.str("verification_token").is_empty());
}

#[tokio::test]
async fn a_code_expires_after_600_seconds() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;

    t.stub.advance_clock(Duration::from_secs(601));

    let description = t.verify(&id, &code).await.error(400, "invalid_argument");
    assert!(description.contains("expired"), "{description}");
}

#[tokio::test]
async fn a_code_still_works_just_before_600_seconds() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;
    t.stub.advance_clock(Duration::from_secs(595));
    t.verify(&id, &code).await.ok();
}

#[tokio::test]
async fn a_code_is_single_use() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;
    t.verify(&id, &code).await.ok();

    let description = t.verify(&id, &code).await.error(400, "invalid_argument");
    assert!(description.contains("already used"), "{description}");
}

#[tokio::test]
async fn a_wrong_code_says_how_many_attempts_are_left() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let first = t
        .verify(&id, wrong)
        .await
        .error(400, "invalid_verification_code");
    assert!(first.contains("4 attempts left"), "{first}");
    let second = t
        .verify(&id, wrong)
        .await
        .error(400, "invalid_verification_code");
    assert!(second.contains("3 attempts left"), "{second}");

    // Fewer than five wrong tries leave the right code usable.
    t.verify(&id, &code).await.ok();
}

#[tokio::test]
async fn five_wrong_codes_kill_the_verification() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        t.verify(&id, wrong)
            .await
            .error(400, "invalid_verification_code");
    }

    let description = t
        .verify(&id, &code)
        .await
        .error(400, "invalid_verification_code");
    assert!(
        description.contains("too many wrong attempts"),
        "{description}"
    );

    // A new code works again.
    t.stub.advance_clock(Duration::from_secs(31));
    let (new_id, new_code) = t.code_for(PHONE).await;
    t.verify(&new_id, &new_code).await.ok();
}

#[tokio::test]
async fn an_unknown_verification_id_is_invalid_argument() {
    let t = TestStub::start().await;
    t.verify("no-such-id", "123456")
        .await
        .error(400, "invalid_argument");
}

#[tokio::test]
async fn verify_does_not_need_a_device_id() {
    let t = TestStub::start().await;
    let (id, code) = t.code_for(PHONE).await;
    let answer = t
        .post_without_device(
            "/auth/v1/verification/verify",
            json!({ "verification_id": id, "verification_code": code }),
        )
        .await;
    answer.ok();
}
