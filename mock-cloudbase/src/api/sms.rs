//! SMS verification: `POST /auth/v1/verification` sends a code, `POST /auth/v1/verification/verify` trades it
//! for a single-use verification token (which `signin`/`signup` then spend).

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::Request;

use super::http::json_body;
use crate::choices;
use crate::error::{quoted, ApiError};
use crate::phone::{mask_phone, normalize_wire};
use crate::state::{after, seconds_until, Millis, Shared, State, Verification, VerificationToken};
use crate::types::{LoginMethod, SmsSent};

/// The SDK may also send `target` ("ANY" / "USER"); the stub sends to anyone, so it is ignored like any unknown
/// field.
#[derive(Deserialize)]
struct SendRequest {
    phone_number: String,
}

/// `POST /auth/v1/verification`: answers `{"verification_id", "expires_in", "is_user"}` and "sends" the code to
/// the SMS listeners.
pub(crate) fn send(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: SendRequest = json_body(request)?;
    let (answer, sms) = {
        let mut state = shared.state.lock();
        state.require_enabled(LoginMethod::Sms)?;
        if state.config.region != choices::SMS_REGION {
            return Err(ApiError::new(
                choices::FAILED_PRECONDITION,
                format!(
                    "SMS verification login is only available in the {} ({}) region; this environment is in {}",
                    choices::SMS_REGION,
                    choices::SMS_REGION_NAME,
                    state.config.region
                ),
            ));
        }
        let phone = normalize_wire(&body.phone_number).ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "phone_number {} is not a mainland China mobile number; expected the form \"+86 13800000000\"",
                quoted(&body.phone_number)
            ))
        })?;
        let now = state.now();
        check_send_limits(&mut state, &phone, now)?;

        let code = state.new_sms_code();
        let verification_id = crate::state::random_token(24);
        state.verifications.insert(
            verification_id.clone(),
            Verification {
                phone: phone.clone(),
                code: code.clone(),
                expires_at: after(now, choices::SMS_CODE_TTL),
                wrong_codes: 0,
                used: false,
            },
        );
        let history = state.sms.entry(phone.clone()).or_default();
        history.sends.push_back(now);
        history.last_code = Some(code.clone());
        let answer = json!({
            "verification_id": verification_id,
            "expires_in": choices::SMS_CODE_TTL.as_secs(),
            "is_user": state.user_by_phone(&phone).is_some(),
        });
        let sms = SmsSent {
            masked_phone: mask_phone(&phone),
            phone,
            code,
        };
        (answer, sms)
    };
    shared.emit_sms(&sms);
    Ok(answer)
}

/// One SMS per number per resend interval, and a cap per rolling day.
fn check_send_limits(state: &mut State, phone: &str, now: Millis) -> Result<(), ApiError> {
    let Some(history) = state.sms.get_mut(phone) else {
        return Ok(());
    };
    let window_start = now
        .saturating_sub(u64::try_from(choices::SMS_DAILY_WINDOW.as_millis()).unwrap_or(u64::MAX));
    while history
        .sends
        .front()
        .is_some_and(|&sent| sent <= window_start)
    {
        history.sends.pop_front();
    }
    let too_many = |wait: u64, what: String| {
        ApiError::new(
            choices::RESOURCE_EXHAUSTED,
            format!("{what}; retry after {wait} seconds"),
        )
        .with_retry_after(wait)
    };
    if let Some(&last) = history.sends.back() {
        let next_allowed = after(last, choices::SMS_RESEND_INTERVAL);
        if now < next_allowed {
            return Err(too_many(
                seconds_until(now, next_allowed),
                "too many requests".to_owned(),
            ));
        }
    }
    if history.sends.len() >= choices::SMS_DAILY_CAP {
        let oldest = history.sends.front().copied().unwrap_or(now);
        let next_allowed = after(oldest, choices::SMS_DAILY_WINDOW);
        return Err(too_many(
            seconds_until(now, next_allowed),
            format!(
                "daily limit of {} SMS for this number reached",
                choices::SMS_DAILY_CAP
            ),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct VerifyRequest {
    verification_id: String,
    verification_code: String,
}

/// `POST /auth/v1/verification/verify`: answers `{"verification_token", "expires_in"}` for the right code.
pub(crate) fn verify(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: VerifyRequest = json_body(request)?;
    let mut state = shared.state.lock();
    let now = state.now();
    let verification = state
        .verifications
        .get_mut(&body.verification_id)
        .ok_or_else(|| ApiError::invalid_argument("unknown verification_id; request a new code"))?;
    if verification.used {
        return Err(ApiError::invalid_argument(
            "verification_id was already used; request a new code",
        ));
    }
    if now >= verification.expires_at {
        return Err(ApiError::invalid_argument(
            "verification code has expired; request a new code",
        ));
    }
    let wrong_code =
        |description: String| ApiError::new(choices::INVALID_VERIFICATION_CODE, description);
    if verification.wrong_codes >= choices::MAX_WRONG_CODES {
        return Err(wrong_code(
            "too many wrong attempts; request a new code".to_owned(),
        ));
    }
    if body.verification_code != verification.code {
        verification.wrong_codes += 1;
        let left = choices::MAX_WRONG_CODES - verification.wrong_codes;
        return Err(wrong_code(match left {
            0 => {
                "verification code is wrong; too many wrong attempts; request a new code".to_owned()
            }
            1 => "verification code is wrong; 1 attempt left".to_owned(),
            _ => format!("verification code is wrong; {left} attempts left"),
        }));
    }
    verification.used = true;
    let phone = verification.phone.clone();
    let token = crate::state::random_token(32);
    state.verification_tokens.insert(
        token.clone(),
        VerificationToken {
            phone,
            expires_at: after(now, choices::VERIFICATION_TOKEN_TTL),
            used: false,
        },
    );
    Ok(json!({
        "verification_token": token,
        "expires_in": choices::VERIFICATION_TOKEN_TTL.as_secs(),
    }))
}

/// The phone number a live, unused verification token was issued for. Spending it is the caller's job, once the
/// call has succeeded (a sign-in of an unknown user must leave it usable for the sign-up that follows).
pub(crate) fn check_verification_token(state: &State, token: &str) -> Result<String, ApiError> {
    let record = state
        .verification_tokens
        .get(token)
        .ok_or_else(|| ApiError::invalid_argument("unknown verification_token"))?;
    if record.used {
        return Err(ApiError::invalid_argument(
            "verification_token was already used",
        ));
    }
    if state.now() >= record.expires_at {
        return Err(ApiError::invalid_argument(
            "verification_token has expired; verify a new code",
        ));
    }
    Ok(record.phone.clone())
}

/// Marks a verification token used.
pub(crate) fn spend_verification_token(state: &mut State, token: &str) {
    if let Some(record) = state.verification_tokens.get_mut(token) {
        record.used = true;
    }
}
