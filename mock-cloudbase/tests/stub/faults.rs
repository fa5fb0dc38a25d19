//! Queued faults: envelopes, 5xx, non-JSON bodies and delays, consumed in order.

use std::time::{Duration, Instant};

use mock_cloudbase::{Endpoint, Fault};

use crate::helpers::{field, TestStub, PHONE};

#[tokio::test]
async fn an_envelope_fault_answers_once_then_the_real_answer_comes_back() {
    let t = TestStub::start().await;
    t.stub.fail_next(
        Endpoint::SendVerification,
        1,
        Fault::envelope(400, "captcha_required", "captcha needed"),
    );

    let faulted = t.send_code(PHONE).await;
    assert_eq!(faulted.error(400, "captcha_required"), "captcha needed");
    assert_eq!(faulted.body["error_code"], 9);
    assert_eq!(
        t.stub.sms_code_for(PHONE),
        None,
        "a faulted call has no effect"
    );

    t.send_code(PHONE).await.ok();
    assert_eq!(
        t.stub.calls_to(Endpoint::SendVerification),
        2,
        "faulted calls are recorded too"
    );
}

#[tokio::test]
async fn a_status_fault_answers_5xx_with_the_matching_envelope() {
    let t = TestStub::start().await;
    let access = field(&t.sign_up(PHONE).await, "access_token");
    t.stub.fail_next(Endpoint::UserMe, 1, Fault::Status(503));
    t.stub.fail_next(Endpoint::UserMe, 1, Fault::status(500));

    t.user_me(&access).await.error(503, "unavailable");
    let internal = t.user_me(&access).await;
    internal.error(500, "internal");
    assert_eq!(internal.body["error_code"], 13);
    t.user_me(&access).await.ok();
}

#[tokio::test]
async fn a_non_json_fault_answers_502_with_html() {
    let t = TestStub::start().await;
    t.stub.fail_next(Endpoint::Certs, 1, Fault::NonJson);

    let answer = t.get("/auth/v1/certs").await;

    assert_eq!(answer.status, 502);
    assert!(answer.text.contains("<html>"));
    assert!(serde_json::from_str::<serde_json::Value>(&answer.text).is_err());
    t.get("/auth/v1/certs").await.ok();
}

#[tokio::test]
async fn a_delay_fault_trips_a_client_timeout_then_answers_normally() {
    let t = TestStub::start().await;
    t.stub
        .fail_next(Endpoint::Certs, 1, Fault::Delay(Duration::from_secs(3)));

    let impatient = t
        .http
        .get(t.url("/auth/v1/certs"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    let err = impatient.expect_err("the client gives up first");
    assert!(err.is_timeout(), "{err}");

    t.get("/auth/v1/certs").await.ok();
}

#[tokio::test]
async fn a_delayed_answer_is_the_real_one() {
    let t = TestStub::start().await;
    t.stub.fail_next(
        Endpoint::SendVerification,
        1,
        Fault::delay(Duration::from_millis(400)),
    );

    let started = Instant::now();
    t.send_code(PHONE).await.ok();

    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn faults_are_consumed_in_order_and_counted() {
    let t = TestStub::start().await;
    t.stub.fail_next(Endpoint::Certs, 2, Fault::Status(502));
    t.stub.fail_next(
        Endpoint::Certs,
        1,
        Fault::envelope(429, "resource_exhausted", "slow down"),
    );
    // A fault for another endpoint does not touch this one.
    t.stub.fail_next(Endpoint::Token, 1, Fault::Status(500));

    t.get("/auth/v1/certs").await.error(502, "unavailable");
    t.get("/auth/v1/certs").await.error(502, "unavailable");
    t.get("/auth/v1/certs")
        .await
        .error(429, "resource_exhausted");
    t.get("/auth/v1/certs").await.ok();
}

#[tokio::test]
async fn an_injected_status_http_cannot_carry_becomes_500() {
    let t = TestStub::start().await;
    t.stub.fail_next(Endpoint::Certs, 1, Fault::Status(42));
    assert_eq!(t.get("/auth/v1/certs").await.status, 500);
}
