//! The sign-in flows behind the server functions and the guard. Each takes the app state and the
//! request's session, calls CloudBase through the one client, and answers with an [`ApiError`]
//! a person can read. Causes are logged here, once.

use std::str::FromStr;
use std::time::Duration;

use tower_sessions::Session;

use super::cloudbase::CloudbaseError;
use super::guard::ClientAddress;
use super::session::{self, PendingSms, SignedIn};
use super::state::AppState;
use crate::auth::{
    sanitize_from, ApiError, ErrorCode, Phone, SendCodeRequest, SendCodeResponse, SignOutResponse,
    VerifyCodeRequest, VerifyCodeResponse, HOME,
};
use crate::route::{Access, Route};

/// Tokens this close to expiry are refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The profile is read again from CloudBase at most this often; page views in between cost no
/// CloudBase call.
pub const PROFILE_MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// The wait we show when CloudBase rate-limits without saying for how long.
const DEFAULT_RETRY_SECS: u64 = 60;

/// The signed-in person of this session, with tokens refreshed and the profile re-read when due.
/// `None` when nobody is signed in, or when CloudBase has ended the sign-in.
pub async fn current_user(app: &AppState, session: &Session) -> Result<Option<SignedIn>, ApiError> {
    let Some(mut user) = session::signed_in(session).await.map_err(store_error)? else {
        return Ok(None);
    };
    let now = app.clock.now_secs();
    let mut changed = false;

    if user.access_expires_at <= now + REFRESH_MARGIN.as_secs() {
        match app
            .refresher
            .refresh(&app.cloudbase, &user.refresh_token)
            .await
        {
            Ok(credentials) => {
                user.apply_refresh(credentials, now);
                changed = true;
            }
            Err(err) if err.is_transient() => {
                tracing::warn!(sub = %user.sub, error = %err, "token refresh failed; session kept");
            }
            Err(err) => {
                tracing::info!(sub = %user.sub, error = %err, "refresh refused; session ended");
                end_session(session).await?;
                return Ok(None);
            }
        }
    }

    if now >= user.profile_fetched_at + PROFILE_MAX_AGE.as_secs() {
        match app.cloudbase.user_me(&user.access_token).await {
            Ok(info) => {
                user.profile = session::profile_from(&info);
                user.profile_fetched_at = now;
                changed = true;
            }
            // A token we believe valid was refused: the sign-in was revoked at CloudBase.
            Err(err) if err.code() == Some("unauthenticated") && user.access_expires_at > now => {
                tracing::info!(sub = %user.sub, "access token revoked; session ended");
                end_session(session).await?;
                return Ok(None);
            }
            Err(err) => {
                tracing::warn!(sub = %user.sub, error = %err, "profile refresh failed; old profile kept");
            }
        }
    }

    if changed {
        session::store_signed_in(session, &user)
            .await
            .map_err(store_error)?;
    }
    Ok(Some(user))
}

/// Sends an SMS code to a mainland number and remembers, in this browser's session, which
/// verification it belongs to.
pub async fn send_code(
    app: &AppState,
    session: &Session,
    client: ClientAddress,
    request: SendCodeRequest,
) -> Result<SendCodeResponse, ApiError> {
    let phone = parse_phone(&request.phone)?;
    if !app.config.sms_available() {
        return Err(ApiError::region_unsupported());
    }
    let wire = phone.e164_spaced();
    let now = app.clock.now_secs();
    app.sms_limiter
        .try_send(&wire, client.0, now)
        .map_err(ApiError::too_many_requests)?;

    let sent = match app.cloudbase.send_verification(&wire).await {
        Ok(sent) => sent,
        Err(err) => {
            app.sms_limiter.undo(&wire, client.0, now);
            tracing::warn!(phone = %phone, error = %err, "SMS send failed");
            return Err(from_cloudbase(&err, Step::Send));
        }
    };
    let pending = PendingSms {
        phone_wire: wire,
        verification_id: sent.verification_id,
        is_user: sent.is_user,
        expires_at: now + sent.expires_in,
    };
    session::store_pending_sms(session, &pending)
        .await
        .map_err(store_error)?;
    tracing::info!(phone = %phone, "SMS code sent");
    Ok(SendCodeResponse {
        resend_after_secs: app.sms_limiter.resend_after().as_secs(),
        expires_in_secs: sent.expires_in,
    })
}

/// Checks the code, signs the person in or up at CloudBase, and starts a signed-in session under
/// a fresh id.
pub async fn verify_code(
    app: &AppState,
    session: &Session,
    request: VerifyCodeRequest,
) -> Result<VerifyCodeResponse, ApiError> {
    let phone = parse_phone(&request.phone)?;
    let code = request.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(
            ErrorCode::InvalidCode,
            "Enter the 6-digit code from the SMS.",
        ));
    }
    let wire = phone.e164_spaced();
    let pending = session::pending_sms(session)
        .await
        .map_err(store_error)?
        .filter(|p| p.phone_wire == wire)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoPendingCode,
                "Request a code for this number first.",
            )
        })?;
    let now = app.clock.now_secs();
    if now >= pending.expires_at {
        return Err(ApiError::code_expired());
    }
    let Some(code_try) = app
        .wrong_codes
        .start(&pending.verification_id, pending.expires_at, now)
    else {
        return Err(ApiError::code_expired());
    };

    let token = match app.cloudbase.verify(&pending.verification_id, code).await {
        Ok(token) => token,
        Err(err) if err.code() == Some("invalid_verification_code") => {
            let left = code_try.wrong();
            tracing::info!(phone = %phone, tries_left = left, "wrong SMS code");
            return Err(ApiError::wrong_code(left));
        }
        Err(err) => {
            tracing::warn!(phone = %phone, error = %err, "SMS code check failed");
            return Err(from_cloudbase(&err, Step::Verify));
        }
    };

    let token = token.verification_token;
    let signed = if pending.is_user {
        app.cloudbase.sign_in(&wire, &token).await
    } else {
        app.cloudbase.sign_up(&wire, &token).await
    };
    let credentials = signed.map_err(|err| {
        tracing::warn!(phone = %phone, error = %err, "CloudBase sign-in failed");
        from_cloudbase(&err, Step::SignIn)
    })?;
    let info = app
        .cloudbase
        .user_me(&credentials.access_token)
        .await
        .map_err(|err| {
            tracing::warn!(phone = %phone, error = %err, "reading the new user failed");
            from_cloudbase(&err, Step::SignIn)
        })?;

    let user = SignedIn::new(credentials, &info, now);
    session::begin_signed_in(session, &user)
        .await
        .map_err(store_error)?;
    app.wrong_codes.forget(&pending.verification_id);
    tracing::info!(sub = %user.sub, phone = %phone, new_user = !pending.is_user, "signed in with SMS");
    Ok(VerifyCodeResponse {
        redirect: redirect_after_sign_in(request.from.as_deref()),
    })
}

/// Ends the sign-in at CloudBase and deletes the session. Ending it here never waits on
/// CloudBase: if the revoke fails, the person is still signed out of this app.
pub async fn sign_out(app: &AppState, session: &Session) -> Result<SignOutResponse, ApiError> {
    if let Some(user) = session::signed_in(session).await.map_err(store_error)? {
        match app.cloudbase.revoke(&user.access_token).await {
            Ok(()) => tracing::info!(sub = %user.sub, "signed out"),
            Err(err) => {
                tracing::warn!(sub = %user.sub, error = %err, "revoke failed; signed out here anyway")
            }
        }
    }
    end_session(session).await?;
    Ok(SignOutResponse {
        redirect: "/login".to_owned(),
    })
}

/// Where to send a person who just signed in: `from` if it is a same-origin path to a page a
/// signed-in person may see, else home.
pub fn redirect_after_sign_in(from: Option<&str>) -> String {
    let target = sanitize_from(from.unwrap_or(HOME));
    if target.starts_with("/api/") {
        return HOME.to_owned();
    }
    match Route::from_str(&target) {
        Ok(route) if route.access() == Access::GuestOnly => HOME.to_owned(),
        _ => target,
    }
}

async fn end_session(session: &Session) -> Result<(), ApiError> {
    session.flush().await.map_err(store_error)
}

fn parse_phone(input: &str) -> Result<Phone, ApiError> {
    Phone::parse(input).map_err(|err| ApiError::new(ErrorCode::InvalidPhone, err.to_string()))
}

fn store_error(err: tower_sessions::session::Error) -> ApiError {
    tracing::error!(error = %err, "session store failed");
    ApiError::internal()
}

/// Which call failed, for errors whose meaning depends on it.
#[derive(Debug, Clone, Copy)]
enum Step {
    Send,
    Verify,
    SignIn,
}

fn from_cloudbase(err: &CloudbaseError, step: Step) -> ApiError {
    let description = match err {
        CloudbaseError::Api { description, .. } => description.as_str(),
        _ => "",
    };
    match (err.code(), step) {
        (Some("resource_exhausted"), _) => {
            ApiError::too_many_requests(first_number(description).unwrap_or(DEFAULT_RETRY_SECS))
        }
        (Some("captcha_required"), _) => ApiError {
            retry_after_secs: Some(DEFAULT_RETRY_SECS),
            ..ApiError::new(
                ErrorCode::TooManyRequests,
                "CloudBase wants extra checks for this number. Please try again later.",
            )
        },
        (Some("failed_precondition"), _) => ApiError::region_unsupported(),
        (Some("login_method_disabled"), _) => ApiError::new(
            ErrorCode::LoginMethodDisabled,
            "SMS sign-in is turned off for this CloudBase environment.",
        ),
        (Some("invalid_argument"), Step::Send) => ApiError::new(
            ErrorCode::InvalidPhone,
            "CloudBase did not accept this phone number.",
        ),
        (Some("invalid_argument" | "invalid_verification_code"), Step::Verify) => {
            ApiError::code_expired()
        }
        _ if err.is_transient() => ApiError::unreachable(),
        _ => ApiError::new(
            ErrorCode::SignInRejected,
            "CloudBase refused the sign-in. Please request a new code and try again.",
        ),
    }
}

/// The first whole number in a CloudBase description ("retry after 23 seconds" → 23).
fn first_number(text: &str) -> Option<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_address_never_leads_back_to_the_login_page() {
        assert_eq!(redirect_after_sign_in(None), "/");
        assert_eq!(redirect_after_sign_in(Some("/?x=1")), "/?x=1");
        assert_eq!(redirect_after_sign_in(Some("/login")), "/");
        assert_eq!(redirect_after_sign_in(Some("/login?from=/login")), "/");
        assert_eq!(redirect_after_sign_in(Some("//evil.example")), "/");
        assert_eq!(redirect_after_sign_in(Some("/api/auth/signout")), "/");
    }

    #[test]
    fn cloudbase_waits_are_read_from_the_description() {
        assert_eq!(first_number("retry after 23 seconds"), Some(23));
        assert_eq!(first_number("slow down"), None);
    }
}
