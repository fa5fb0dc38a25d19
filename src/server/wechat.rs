//! WeChat Open Platform QR sign-in (`wx_open`), as two plain axum routes: the start sends the
//! browser to WeChat's QR page with a one-time `state` bound to this browser's session; the
//! callback checks that state, consumes it, and signs the person in.
//!
//! RFC 9700 (OAuth 2.0 Security BCP): one callback path per provider, `state` random, one-time,
//! short-lived and compared in constant time; the return address is sanitised before it is
//! stored. The state never appears in logs.

use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, HOST, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::cloudbase::random_hex;
use super::flows::redirect_after_sign_in;
use super::session::{self, PendingWechat, SignedIn};
use super::state::AppState;
use crate::route::{LoginQuery, Route};

/// CloudBase's provider id for WeChat Open Platform (website QR login).
pub const PROVIDER_ID: &str = "wx_open";
/// The one callback path for WeChat, also in the `Route` table.
pub const CALLBACK_PATH: &str = "/login/wechat-callback";
/// How long a started WeChat sign-in may take.
pub const STATE_TTL_SECS: u64 = 10 * 60;
/// Random bytes in a state: 256 bits.
const STATE_BYTES: usize = 32;
/// The longest `code` or `state` value read from the callback.
const MAX_PARAM_LEN: usize = 512;

/// Why a WeChat sign-in ended on the login page; the login page shows each as a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The person pressed Cancel (a valid state but no code).
    Cancelled,
    /// Missing, mismatched, replayed or expired state.
    State,
    /// CloudBase refused the code or the sign-in, or could not be reached.
    Failed,
}

impl Failure {
    fn code(self) -> &'static str {
        match self {
            Failure::Cancelled => "wechat_cancelled",
            Failure::State => "wechat_state",
            Failure::Failed => "wechat_failed",
        }
    }
}

/// `GET /api/auth/wechat/start?from=…`: 302 to WeChat's QR page (on the stub, its stand-in).
pub async fn start(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let from = redirect_after_sign_in(query_param(query.as_deref(), "from").as_deref());
    let state = random_hex(STATE_BYTES);
    let pending = PendingWechat {
        state: state.clone(),
        from: from.clone(),
        expires_at: app.clock.now_secs() + STATE_TTL_SECS,
    };
    if let Err(err) = session::store_pending_wechat(&session, &pending).await {
        tracing::error!(error = %err, "session store failed");
        return back_to_login(Failure::Failed, &from);
    }
    let redirect_uri = callback_url(&app, &headers);
    match app
        .cloudbase
        .provider_uri(PROVIDER_ID, &redirect_uri, &state)
        .await
    {
        Ok(uri) if uri.starts_with("https://") || uri.starts_with("http://") => {
            tracing::info!("WeChat sign-in started");
            redirect(StatusCode::FOUND, &uri)
        }
        Ok(_) => {
            tracing::warn!("CloudBase gave a WeChat address that is not http(s)");
            back_to_login(Failure::Failed, &from)
        }
        Err(err) => {
            tracing::warn!(error = %err, "WeChat sign-in could not start");
            back_to_login(Failure::Failed, &from)
        }
    }
}

/// `GET /login/wechat-callback?code&state`: where WeChat sends the browser back.
pub async fn callback(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.as_deref();
    let state = query_param(query, "state");
    let code = query_param(query, "code");

    // Consumed whatever happens next: a state is good for one callback.
    let pending = match session::take_pending_wechat(&session).await {
        Ok(pending) => pending,
        Err(err) => {
            tracing::error!(error = %err, "session store failed");
            return back_to_login(Failure::Failed, "/");
        }
    };
    let outcome = match pending {
        None => {
            tracing::info!("WeChat callback without a started sign-in in this browser");
            Err((Failure::State, "/".to_owned()))
        }
        Some(pending) => {
            let state_matches = state
                .as_deref()
                .is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
            if !state_matches || app.clock.now_secs() >= pending.expires_at {
                tracing::info!("WeChat callback with a wrong or expired state");
                Err((Failure::State, pending.from))
            } else if let Some(code) = code {
                let redirect_uri = callback_url(&app, &headers);
                match sign_in(&app, &session, &redirect_uri, &code).await {
                    Ok(user) => {
                        tracing::info!(sub = %user.sub, "signed in with WeChat");
                        Ok(pending.from)
                    }
                    Err(failure) => Err((failure, pending.from)),
                }
            } else {
                tracing::info!("WeChat sign-in cancelled");
                Err((Failure::Cancelled, pending.from))
            }
        }
    };
    match outcome {
        Ok(from) => redirect(StatusCode::SEE_OTHER, &from),
        Err((failure, from)) => {
            // A pre-sign-in session that held only this attempt goes, cookie and all.
            if let Err(err) = session::end_if_unused(&session).await {
                tracing::error!(error = %err, "session store failed");
            }
            back_to_login(failure, &from)
        }
    }
}

async fn sign_in(
    app: &AppState,
    session: &Session,
    redirect_uri: &str,
    code: &str,
) -> Result<SignedIn, Failure> {
    let cloudbase = &app.cloudbase;
    let failed = |step: &'static str| {
        move |err: super::cloudbase::CloudbaseError| {
            tracing::warn!(error = %err, step, "WeChat sign-in failed");
            Failure::Failed
        }
    };
    let token = cloudbase
        .provider_token(PROVIDER_ID, redirect_uri, code)
        .await
        .map_err(failed("provider/token"))?;
    let credentials = cloudbase
        .sign_in_with_provider(&token.provider_token)
        .await
        .map_err(failed("signin/with/provider"))?;
    let info = cloudbase
        .user_me(&credentials.access_token)
        .await
        .map_err(failed("user/me"))?;
    let user = SignedIn::new(credentials, &info, app.clock.now_secs());
    session::begin_signed_in(session, &user)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "session store failed");
            Failure::Failed
        })?;
    Ok(user)
}

/// `PUBLIC_URL` + the callback path; without `PUBLIC_URL`, the origin the request came to.
fn callback_url(app: &AppState, headers: &HeaderMap) -> String {
    let origin = app.config.public_origin().unwrap_or_else(|| {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    });
    format!("{origin}{CALLBACK_PATH}")
}

/// One query parameter, decoded; missing, empty or over [`MAX_PARAM_LEN`] counts as absent.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|v| !v.is_empty() && v.len() <= MAX_PARAM_LEN)
}

fn back_to_login(failure: Failure, from: &str) -> Response {
    let login = Route::Login {
        query: LoginQuery {
            from: Some(from.to_owned()).filter(|f| f != "/"),
            error: Some(failure.code().to_owned()),
        },
    };
    redirect(StatusCode::SEE_OTHER, &login.to_string())
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/login"));
    let headers = response.headers_mut();
    headers.insert(LOCATION, value);
    // These answers set or clear the session cookie.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded_once_and_bounded() {
        assert_eq!(
            query_param(Some("code=a%2Bb&state=x"), "code").as_deref(),
            Some("a+b")
        );
        assert_eq!(query_param(Some("state="), "state"), None);
        assert_eq!(query_param(None, "state"), None);
        let long = format!("state={}", "a".repeat(MAX_PARAM_LEN + 1));
        assert_eq!(query_param(Some(&long), "state"), None);
        assert_eq!(query_param(Some("%ZZ=%"), "state"), None);
    }

    #[test]
    fn failures_land_on_the_login_page_with_their_code() {
        let response = back_to_login(Failure::Cancelled, "/?x=1");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()[LOCATION],
            "/login?from=%2F%3Fx%3D1&error=wechat_cancelled"
        );
    }
}
