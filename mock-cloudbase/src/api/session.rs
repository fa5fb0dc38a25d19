//! Sign-in sessions: SMS sign-in and sign-up (spending a verification token), refresh with rotation, revoke,
//! introspection, and the JWKS of the signing key.

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::Request;

use super::http::{bearer, body_is_empty, json_body, require_device_id};
use super::sms::{check_verification_token, spend_verification_token};
use crate::choices;
use crate::error::{quoted, ApiError};
use crate::phone::{self, mask_phone, normalize_wire};
use crate::state::Shared;
use crate::types::LoginMethod;

#[derive(Deserialize)]
struct SignInRequest {
    /// The phone number in wire format; optional, as the token already names the phone.
    #[serde(default)]
    username: Option<String>,
    verification_token: String,
}

/// `POST /auth/v1/signin`: credentials for the existing user of the token's phone number.
pub(crate) fn sign_in(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    require_device_id(request)?;
    let body: SignInRequest = json_body(request)?;
    let mut state = shared.state.lock();
    state.require_enabled(LoginMethod::Sms)?;
    let phone = check_verification_token(&state, &body.verification_token)?;
    if let Some(username) = &body.username {
        require_same_phone("username", username, &phone)?;
    }
    let sub = state
        .user_by_phone(&phone)
        .map(|user| user.sub.clone())
        .ok_or_else(|| {
            ApiError::new(
                choices::NOT_FOUND,
                format!(
                    "no user with phone number {}; sign up instead",
                    mask_phone(&phone)
                ),
            )
        })?;
    let credentials = state.sign_in(&shared.keys(), &sub, choices::PHONE_PROVIDER_TYPE)?;
    spend_verification_token(&mut state, &body.verification_token);
    Ok(credentials)
}

#[derive(Deserialize)]
struct SignUpRequest {
    phone_number: String,
    verification_token: String,
}

/// `POST /auth/v1/signup`: creates the user of a new phone number and answers their credentials.
pub(crate) fn sign_up(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    require_device_id(request)?;
    let body: SignUpRequest = json_body(request)?;
    let mut state = shared.state.lock();
    state.require_enabled(LoginMethod::Sms)?;
    let phone = check_verification_token(&state, &body.verification_token)?;
    require_same_phone("phone_number", &body.phone_number, &phone)?;
    if state.user_by_phone(&phone).is_some() {
        return Err(ApiError::new(
            choices::ALREADY_EXISTS,
            format!(
                "a user with phone number {} already exists; sign in instead",
                mask_phone(&phone)
            ),
        ));
    }
    let name = choices::default_phone_user_name(phone::national_part(&phone));
    let sub = state.create_user(Some(phone), name, None, None);
    let credentials = state.sign_in(&shared.keys(), &sub, choices::PHONE_PROVIDER_TYPE)?;
    spend_verification_token(&mut state, &body.verification_token);
    Ok(credentials)
}

/// The phone number in `field` must be well formed and the one the verification token was issued for.
fn require_same_phone(field: &str, given: &str, token_phone: &str) -> Result<(), ApiError> {
    let given_phone = normalize_wire(given).ok_or_else(|| {
        ApiError::invalid_argument(format!(
            "{field} {} is not a mainland China mobile number in the form \"+86 13800000000\"",
            quoted(given)
        ))
    })?;
    if given_phone != token_phone {
        return Err(ApiError::invalid_argument(format!(
            "verification_token was issued for another phone number than {field}"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct TokenRequest {
    #[serde(default)]
    client_id: Option<String>,
    grant_type: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST /auth/v1/token` (grant `refresh_token`): new credentials; the presented refresh token dies.
pub(crate) fn refresh(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let body: TokenRequest = json_body(request)?;
    if body.grant_type != choices::REFRESH_GRANT_TYPE {
        return Err(ApiError::new(
            choices::UNSUPPORTED_GRANT,
            format!(
                "unsupported grant_type {}; the stub supports only {}",
                quoted(&body.grant_type),
                choices::REFRESH_GRANT_TYPE
            ),
        ));
    }
    let refresh_token = body
        .refresh_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::invalid_argument("missing field `refresh_token`"))?;
    let mut state = shared.state.lock();
    // client_id defaults to the env id in the SDK; a different one is a misconfigured client.
    if let Some(client_id) = body.client_id.filter(|id| !id.is_empty()) {
        if client_id != state.config.env_id {
            return Err(ApiError::invalid_argument(format!(
                "client_id {} does not match environment {}",
                quoted(&client_id),
                state.config.env_id
            )));
        }
    }
    state.refresh(&shared.keys(), &refresh_token)
}

#[derive(Deserialize)]
struct RevokeRequest {
    #[serde(default)]
    token: Option<String>,
}

/// `POST /auth/v1/revoke`: ends the sign-in of the token in the body (or, failing that, of the bearer token).
/// Answers `{}`, also for an unknown token (RFC 7009).
pub(crate) fn revoke(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let from_body = if body_is_empty(request) && bearer(request).is_some() {
        None
    } else {
        json_body::<RevokeRequest>(request)?
            .token
            .filter(|token| !token.is_empty())
    };
    let token = from_body
        .or_else(|| bearer(request).map(str::to_owned))
        .ok_or_else(|| ApiError::invalid_argument("missing field `token`"))?;
    shared.state.lock().revoke_token(&token);
    Ok(json!({}))
}

/// `GET /auth/v1/token/introspect`: who a live bearer token is for, or `{}`.
pub(crate) fn introspect(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    let state = shared.state.lock();
    Ok(match state.authenticate(bearer(request)) {
        Ok(user) => json!({
            "token_type": "Bearer",
            "client_id": state.config.env_id,
            "sub": user.sub,
            "scope": choices::TOKEN_SCOPE,
        }),
        Err(_) => json!({}),
    })
}

/// `GET /auth/v1/certs`: the JWKS of the access-token signing key.
pub(crate) fn certs(shared: &Shared, _request: &Request) -> Result<Value, ApiError> {
    Ok(shared.keys().jwks().clone())
}
