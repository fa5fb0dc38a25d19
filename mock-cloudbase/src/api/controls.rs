//! The test controls over HTTP, under `/__mock/`: the same powers as the `MockCloudbase` methods, for a
//! standalone stub driven by curl or by browser tests. JSON in, JSON out; errors use the usual envelope. The
//! list is in the crate docs (`lib.rs`), where users of the crate see it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::Request;

use super::http::{json_body, required_param, Answer, Reply};
use super::wechat_page;
use crate::choices;
use crate::error::ApiError;
use crate::state::{rfc3339, Shared};
use crate::types::{Endpoint, Fault, LoginMethod, SeedUser};

/// Most faults one `fail_next` call may queue over HTTP: a typo'd huge number should not eat the memory.
const MAX_FAULTS_PER_CALL: usize = 10_000;
/// The longest a delay fault may hold an answer (longer than any client's timeout).
const MAX_FAULT_DELAY: Duration = Duration::from_secs(120);
/// The furthest one call may move the clock (ten years).
const MAX_CLOCK_STEP_SECS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

/// Answers a request under `/__mock/`.
pub(crate) fn handle(shared: &Shared, request: &Request) -> Answer {
    let path = request.url.path();
    let json = |value: Value| Ok(Reply::Json(value));
    match (request.method.as_str(), path) {
        ("GET", "/__mock/sms/last") => json(sms_last(shared, request)?),
        ("POST", "/__mock/clock/advance") => json(advance_clock(shared, request)?),
        ("POST", "/__mock/fail_next") => json(fail_next(shared, request)?),
        ("POST", "/__mock/region") => json(region(shared, request)?),
        ("POST", "/__mock/login_method") => json(login_method(shared, request)?),
        ("POST", "/__mock/users") => {
            let seed: SeedUser = json_body(request)?;
            let sub = shared.state.lock().seed_user(seed)?;
            json(json!({ "sub": sub }))
        }
        ("POST", "/__mock/users/revoke") => {
            let body: SubRequest = json_body(request)?;
            shared.state.lock().revoke_all_for_user(&body.sub);
            json(json!({}))
        }
        ("GET", "/__mock/calls") => {
            json(serde_json::to_value(shared.state.lock().calls()).unwrap_or_default())
        }
        ("DELETE", "/__mock/calls") => {
            shared.state.lock().clear_calls();
            json(json!({}))
        }
        ("POST", "/__mock/wechat/next_openid") => {
            let body: OpenidRequest = json_body(request)?;
            if body.openid.is_empty() {
                return Err(ApiError::invalid_argument("openid must not be empty"));
            }
            shared.state.lock().next_wechat.push_back(body.openid);
            json(json!({}))
        }
        ("GET", "/__mock/wechat/qrconnect") => wechat_page::qr_page(shared, request),
        ("GET", "/__mock/wechat/confirm") => wechat_page::confirm(shared, request),
        ("GET", "/__mock/wechat/cancel") => wechat_page::cancel(shared, request),
        ("GET", "/__mock/wechat/avatar.svg") => wechat_page::avatar(),
        _ => Err(ApiError::new(
            choices::NOT_FOUND,
            format!("no control {} {path}", request.method.as_str()),
        )),
    }
}

fn sms_last(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let phone = required_param(request, "phone")?;
    let state = shared.state.lock();
    let (phone, code) = state
        .last_sms_code(&phone)
        .ok_or_else(|| ApiError::new(choices::NOT_FOUND, "no SMS code was sent to that number"))?;
    Ok(json!({ "phone": phone, "code": code }))
}

#[derive(Deserialize)]
struct AdvanceRequest {
    seconds: f64,
}

fn advance_clock(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: AdvanceRequest = json_body(request)?;
    if !(0.0..=MAX_CLOCK_STEP_SECS).contains(&body.seconds) {
        return Err(ApiError::invalid_argument(format!(
            "seconds must be a number from 0 to {MAX_CLOCK_STEP_SECS} (ten years)"
        )));
    }
    let by = Duration::from_secs_f64(body.seconds);
    let mut state = shared.state.lock();
    state.clock.advance(by);
    Ok(json!({ "now": rfc3339(state.now()) }))
}

#[derive(Deserialize)]
struct FailNextRequest {
    endpoint: Endpoint,
    #[serde(default = "one")]
    times: usize,
    fault: Fault,
}

fn one() -> usize {
    1
}

fn fail_next(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: FailNextRequest = json_body(request)?;
    if body.times > MAX_FAULTS_PER_CALL {
        return Err(ApiError::invalid_argument(format!(
            "times must be at most {MAX_FAULTS_PER_CALL}"
        )));
    }
    match &body.fault {
        Fault::Envelope { status, .. } | Fault::Status(status) if !(400..=599).contains(status) => {
            return Err(ApiError::invalid_argument(format!(
                "status {status} is not an error status (400 to 599)"
            )));
        }
        Fault::Delay(by) if *by > MAX_FAULT_DELAY => {
            return Err(ApiError::invalid_argument(format!(
                "a delay may be at most {} ms",
                MAX_FAULT_DELAY.as_millis()
            )));
        }
        _ => {}
    }
    shared
        .state
        .lock()
        .push_faults(body.endpoint, body.times, body.fault);
    Ok(json!({}))
}

#[derive(Deserialize)]
struct RegionRequest {
    region: String,
}

fn region(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: RegionRequest = json_body(request)?;
    if body.region.is_empty() {
        return Err(ApiError::invalid_argument("region must not be empty"));
    }
    shared.state.lock().config.region = body.region;
    Ok(json!({}))
}

#[derive(Deserialize)]
struct LoginMethodRequest {
    method: LoginMethod,
    enabled: bool,
}

fn login_method(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: LoginMethodRequest = json_body(request)?;
    shared
        .state
        .lock()
        .set_login_method(body.method, body.enabled);
    Ok(json!({}))
}

#[derive(Deserialize)]
struct SubRequest {
    sub: String,
}

#[derive(Deserialize)]
struct OpenidRequest {
    openid: String,
}
