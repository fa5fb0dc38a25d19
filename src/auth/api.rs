//! The server functions: the browser's only way to sign in, read the profile and sign out.
//! Each checks the session itself; the guard layer in front is not the only lock.

use dioxus::prelude::*;

use super::{
    ApiError, ApiJson, Profile, SendCodeRequest, SendCodeResponse, SignOutResponse,
    VerifyCodeRequest, VerifyCodeResponse,
};

#[cfg(feature = "server")]
use {
    crate::server::guard::ClientAddress, crate::server::AppState, axum::Extension,
    tower_sessions::Session,
};

/// Anyone may call. The signed-in person's profile, or `None`; never a 401, so that the
/// browser's guards can ask without an error in the console.
#[get("/api/auth/session", session: Session, app: Extension<AppState>)]
pub async fn current_user() -> Result<Option<Profile>, ApiError> {
    let user = crate::server::flows::current_user(&app, &session).await?;
    Ok(user.map(|u| u.profile))
}

/// Signed-in people only. The profile kept in the session (re-read from CloudBase at most every
/// 5 minutes); 401 `unauthenticated` otherwise.
#[get("/api/profile", session: Session, app: Extension<AppState>)]
pub async fn get_profile() -> Result<Profile, ApiError> {
    crate::server::flows::current_user(&app, &session)
        .await?
        .map(|u| u.profile)
        .ok_or_else(ApiError::unauthenticated)
}

/// Anyone may call (same origin only). Sends a sign-in code by SMS and says when another may be
/// requested.
#[post("/api/auth/sms/send", session: Session, app: Extension<AppState>, client: Extension<ClientAddress>)]
pub async fn send_code(body: ApiJson<SendCodeRequest>) -> Result<SendCodeResponse, ApiError> {
    crate::server::flows::send_code(&app, &session, client.0, body.0).await
}

/// Anyone may call (same origin only). Checks the code, signs in (or up) and answers with the
/// same-origin path to go to.
#[post("/api/auth/sms/verify", session: Session, app: Extension<AppState>)]
pub async fn verify_code(body: ApiJson<VerifyCodeRequest>) -> Result<VerifyCodeResponse, ApiError> {
    crate::server::flows::verify_code(&app, &session, body.0).await
}

/// Anyone may call (same origin only); idempotent. Revokes the sign-in at CloudBase, deletes the
/// session and clears the cookie.
#[post("/api/auth/signout", session: Session, app: Extension<AppState>)]
pub async fn sign_out() -> Result<SignOutResponse, ApiError> {
    crate::server::flows::sign_out(&app, &session).await
}
