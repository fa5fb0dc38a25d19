//! WeChat Open Platform QR login through CloudBase: `provider/uri` hands out the (fake) QR page, the page sends
//! the browser back with a code, `provider/token` trades the code for a provider token, and
//! `signin/with/provider` signs the WeChat user in, registering them on first use.

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::Request;

use super::http::{json_body, query_param, require_device_id, required_param};
use crate::choices;
use crate::error::{quoted, ApiError};
use crate::state::{after, random_token, Shared, State, WechatIdentity, WechatTicket};
use crate::types::LoginMethod;

/// Refuses any provider but WeChat's.
fn require_wechat(provider_id: &str) -> Result<(), ApiError> {
    if provider_id == choices::WECHAT_PROVIDER_ID {
        return Ok(());
    }
    Err(ApiError::invalid_argument(format!(
        "unknown provider_id {}; the stub supports only {}",
        quoted(provider_id),
        choices::WECHAT_PROVIDER_ID
    )))
}

/// `GET /auth/v1/provider/uri?provider_id=wx_open&redirect_uri=…&state=…`: `{"uri"}` of a QR page on the stub.
pub(crate) fn uri(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    require_device_id(request)?;
    require_wechat(&required_param(request, "provider_id")?)?;
    let mut state = shared.state.lock();
    state.require_enabled(LoginMethod::WeChat)?;
    let redirect_uri = required_param(request, "redirect_uri")?;
    let parsed = url::Url::parse(&redirect_uri).ok();
    if !parsed.is_some_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host()) {
        return Err(ApiError::invalid_argument(format!(
            "redirect_uri {} is not an absolute http(s) URL",
            quoted(&redirect_uri)
        )));
    }
    let oauth_state = required_param(request, "state")?;
    if let Some(scope) = query_param(request, "scope") {
        if scope != "snsapi_login" {
            return Err(ApiError::invalid_argument(format!(
                "scope {} is not valid for wx_open; use snsapi_login",
                quoted(&scope)
            )));
        }
    }
    let identity = next_identity(&mut state, &shared.base_uri);
    let ticket = random_token(24);
    let expires_at = after(state.now(), choices::WECHAT_TICKET_TTL);
    state.wechat_tickets.insert(
        ticket.clone(),
        WechatTicket {
            redirect_uri,
            state: oauth_state,
            identity,
            expires_at,
            used: false,
        },
    );
    Ok(json!({ "uri": format!("{}/__mock/wechat/qrconnect?ticket={ticket}", shared.base_uri) }))
}

/// The WeChat account behind a new QR ticket: the next queued openid (with the profile of the seeded user who
/// has it, if any), else a brand-new account, so that by default every ticket is a new WeChat user.
fn next_identity(state: &mut State, base_uri: &str) -> WechatIdentity {
    let default_avatar = format!("{base_uri}/__mock/wechat/avatar.svg");
    let Some(openid) = state.next_wechat.pop_front() else {
        return WechatIdentity {
            // Real openids are 28 characters starting with "o".
            openid: format!("o{}", random_token(20)),
            nickname: choices::WECHAT_DEFAULT_NICKNAME.to_owned(),
            avatar: default_avatar,
        };
    };
    match state.user_by_openid(&openid) {
        Some(user) => WechatIdentity {
            nickname: user.name.clone(),
            avatar: user.picture.clone().unwrap_or(default_avatar),
            openid,
        },
        None => WechatIdentity {
            openid,
            nickname: choices::WECHAT_DEFAULT_NICKNAME.to_owned(),
            avatar: default_avatar,
        },
    }
}

#[derive(Deserialize)]
struct ProviderTokenRequest {
    provider_id: String,
    provider_redirect_uri: String,
    provider_code: String,
}

/// `POST /auth/v1/provider/token`: `{"provider_token", "expires_in", "provider_profile"}` for a live code.
pub(crate) fn token(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    require_device_id(request)?;
    let body: ProviderTokenRequest = json_body(request)?;
    require_wechat(&body.provider_id)?;
    let mut state = shared.state.lock();
    state.require_enabled(LoginMethod::WeChat)?;
    let now = state.now();
    let bad_code = |why: &str| {
        ApiError::invalid_argument(format!(
            "invalid provider_code: {why} (WeChat errcode {})",
            choices::WECHAT_BAD_CODE_ERRCODE
        ))
    };
    let code = state
        .wechat_codes
        .get_mut(&body.provider_code)
        .ok_or_else(|| bad_code("unknown code"))?;
    if code.used {
        return Err(bad_code("code was already used"));
    }
    if now >= code.expires_at {
        return Err(bad_code("code has expired"));
    }
    if code.redirect_uri != body.provider_redirect_uri {
        return Err(ApiError::invalid_argument(
            "provider_redirect_uri does not match the redirect_uri given to provider/uri",
        ));
    }
    code.used = true;
    let identity = code.identity.clone();
    let provider_token = random_token(32);
    let profile = json!({
        "name": identity.nickname,
        "picture": identity.avatar,
        "provider_user_id": identity.openid,
    });
    state.provider_tokens.insert(
        provider_token.clone(),
        crate::state::ProviderToken {
            identity,
            expires_at: after(now, choices::PROVIDER_TOKEN_TTL),
            used: false,
        },
    );
    Ok(json!({
        "provider_token": provider_token,
        "expires_in": choices::PROVIDER_TOKEN_TTL.as_secs(),
        "provider_profile": profile,
    }))
}

#[derive(Deserialize)]
struct SignInWithProviderRequest {
    provider_token: String,
}

/// `POST /auth/v1/signin/with/provider`: credentials of the WeChat user, registered on first sign-in.
pub(crate) fn sign_in(shared: &Shared, request: &Request) -> Result<Value, ApiError> {
    require_device_id(request)?;
    let body: SignInWithProviderRequest = json_body(request)?;
    let mut state = shared.state.lock();
    state.require_enabled(LoginMethod::WeChat)?;
    let now = state.now();
    let record = state
        .provider_tokens
        .get_mut(&body.provider_token)
        .ok_or_else(|| ApiError::invalid_argument("unknown provider_token"))?;
    if record.used {
        return Err(ApiError::invalid_argument(
            "provider_token was already used",
        ));
    }
    if now >= record.expires_at {
        return Err(ApiError::invalid_argument(
            "provider_token has expired; start the WeChat login again",
        ));
    }
    record.used = true;
    let identity = record.identity.clone();
    let sub = match state.user_by_openid(&identity.openid) {
        Some(user) => user.sub.clone(),
        None => state.create_user(
            None,
            identity.nickname,
            Some(identity.avatar),
            Some(identity.openid),
        ),
    };
    state.sign_in(&shared.keys(), &sub, choices::WECHAT_PROVIDER_ID)
}
