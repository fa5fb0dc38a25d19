//! The public values that the controls take and give: endpoints, faults, login methods, seeded users, SMS events
//! and recorded calls. Each is serde-friendly, because the HTTP controls under `/__mock/` speak them as JSON.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::choices;

/// One endpoint of the CloudBase auth API that the stub serves.
///
/// In JSON (the `/__mock/fail_next` control) an endpoint is its snake_case name: `"send_verification"`,
/// `"verify"`, `"sign_in"`, `"sign_up"`, `"provider_uri"`, `"provider_token"`, `"sign_in_with_provider"`,
/// `"user_me"`, `"token"`, `"revoke"`, `"introspect"`, `"certs"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /auth/v1/verification`: send an SMS code.
    SendVerification,
    /// `POST /auth/v1/verification/verify`: trade a code for a verification token.
    Verify,
    /// `POST /auth/v1/signin`: sign an existing phone user in.
    SignIn,
    /// `POST /auth/v1/signup`: register a phone user.
    SignUp,
    /// `GET /auth/v1/provider/uri`: the WeChat authorize (QR) URL.
    ProviderUri,
    /// `POST /auth/v1/provider/token`: trade a WeChat code for a provider token.
    ProviderToken,
    /// `POST /auth/v1/signin/with/provider`: sign a WeChat user in (registering on first use).
    SignInWithProvider,
    /// `GET /auth/v1/user/me`: the current user's profile.
    UserMe,
    /// `POST /auth/v1/token`: refresh (rotates the refresh token).
    Token,
    /// `POST /auth/v1/revoke`: sign out.
    Revoke,
    /// `GET /auth/v1/token/introspect`: is this access token live?
    Introspect,
    /// `GET /auth/v1/certs`: the JWKS of the token-signing key.
    Certs,
}

impl Endpoint {
    /// Every endpoint, in the order of the contract's table.
    pub const ALL: [Endpoint; 12] = [
        Endpoint::SendVerification,
        Endpoint::Verify,
        Endpoint::SignIn,
        Endpoint::SignUp,
        Endpoint::ProviderUri,
        Endpoint::ProviderToken,
        Endpoint::SignInWithProvider,
        Endpoint::UserMe,
        Endpoint::Token,
        Endpoint::Revoke,
        Endpoint::Introspect,
        Endpoint::Certs,
    ];

    /// The URL path, e.g. `"/auth/v1/verification"`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::SendVerification => "/auth/v1/verification",
            Endpoint::Verify => "/auth/v1/verification/verify",
            Endpoint::SignIn => "/auth/v1/signin",
            Endpoint::SignUp => "/auth/v1/signup",
            Endpoint::ProviderUri => "/auth/v1/provider/uri",
            Endpoint::ProviderToken => "/auth/v1/provider/token",
            Endpoint::SignInWithProvider => "/auth/v1/signin/with/provider",
            Endpoint::UserMe => "/auth/v1/user/me",
            Endpoint::Token => "/auth/v1/token",
            Endpoint::Revoke => "/auth/v1/revoke",
            Endpoint::Introspect => "/auth/v1/token/introspect",
            Endpoint::Certs => "/auth/v1/certs",
        }
    }

    /// The HTTP method, `"GET"` or `"POST"`.
    pub fn method(self) -> &'static str {
        match self {
            Endpoint::ProviderUri | Endpoint::UserMe | Endpoint::Introspect | Endpoint::Certs => {
                "GET"
            }
            _ => "POST",
        }
    }

    /// The snake_case name used by the HTTP controls, e.g. `"user_me"`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::SendVerification => "send_verification",
            Endpoint::Verify => "verify",
            Endpoint::SignIn => "sign_in",
            Endpoint::SignUp => "sign_up",
            Endpoint::ProviderUri => "provider_uri",
            Endpoint::ProviderToken => "provider_token",
            Endpoint::SignInWithProvider => "sign_in_with_provider",
            Endpoint::UserMe => "user_me",
            Endpoint::Token => "token",
            Endpoint::Revoke => "revoke",
            Endpoint::Introspect => "introspect",
            Endpoint::Certs => "certs",
        }
    }

    /// The endpoint served at `path`, whatever the method.
    pub fn for_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL
            .into_iter()
            .find(|endpoint| endpoint.path() == path)
    }
}

/// A failure to answer with instead of the real answer; see `MockCloudbase::fail_next`.
///
/// Over HTTP (`POST /__mock/fail_next`) a fault is an object tagged by `kind`:
/// `{"kind":"envelope","status":400,"error":"captcha_required","error_code":9,"description":"…"}`
/// (`error_code` and `description` may be left out), `{"kind":"status","status":503}`,
/// `{"kind":"delay","millis":3000}` and `{"kind":"non_json"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FaultWire", into = "FaultWire")]
pub enum Fault {
    /// Answer this error envelope with this HTTP status.
    Envelope {
        /// HTTP status.
        status: u16,
        /// The envelope's `error`.
        error: String,
        /// The envelope's `error_code`.
        error_code: i64,
        /// The envelope's `error_description`.
        description: String,
    },
    /// Answer this status (meant for 5xx) with the matching envelope: `unavailable` for 502–504, `internal` for
    /// other 5xx (see `choices::kind_for_status`).
    Status(u16),
    /// Wait this long, then answer normally. The request has its effect at once; only the answer is late.
    Delay(Duration),
    /// Answer 502 with an HTML body, as a misbehaving gateway would.
    NonJson,
}

impl Fault {
    /// An envelope fault, e.g. `Fault::envelope(400, "captcha_required", "captcha needed")`; the `error_code` is
    /// the one the stub uses for that error name (see `choices::code_for_error`).
    pub fn envelope(
        status: u16,
        error: impl Into<String>,
        description: impl Into<String>,
    ) -> Fault {
        let error = error.into();
        Fault::Envelope {
            status,
            error_code: choices::code_for_error(&error),
            error,
            description: description.into(),
        }
    }

    /// A 5xx with the matching envelope.
    pub fn status(status: u16) -> Fault {
        Fault::Status(status)
    }

    /// A slow answer.
    pub fn delay(by: Duration) -> Fault {
        Fault::Delay(by)
    }
}

/// The JSON shape of [`Fault`] for the HTTP controls.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum FaultWire {
    Envelope {
        status: u16,
        error: String,
        #[serde(default)]
        error_code: Option<i64>,
        #[serde(default)]
        description: String,
    },
    Status {
        status: u16,
    },
    Delay {
        millis: u64,
    },
    NonJson,
}

impl From<FaultWire> for Fault {
    fn from(wire: FaultWire) -> Fault {
        match wire {
            FaultWire::Envelope {
                status,
                error,
                error_code,
                description,
            } => Fault::Envelope {
                status,
                error_code: error_code.unwrap_or_else(|| choices::code_for_error(&error)),
                error,
                description,
            },
            FaultWire::Status { status } => Fault::Status(status),
            FaultWire::Delay { millis } => Fault::Delay(Duration::from_millis(millis)),
            FaultWire::NonJson => Fault::NonJson,
        }
    }
}

impl From<Fault> for FaultWire {
    fn from(fault: Fault) -> FaultWire {
        match fault {
            Fault::Envelope {
                status,
                error,
                error_code,
                description,
            } => FaultWire::Envelope {
                status,
                error,
                error_code: Some(error_code),
                description,
            },
            Fault::Status(status) => FaultWire::Status { status },
            Fault::Delay(by) => FaultWire::Delay {
                millis: u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
            },
            Fault::NonJson => FaultWire::NonJson,
        }
    }
}

/// A way to sign in that an environment can switch off.
///
/// In JSON: `"sms"` or `"wechat"` (`"wx_open"` is accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LoginMethod {
    /// SMS verification code.
    #[serde(rename = "sms")]
    Sms,
    /// WeChat Open Platform QR login (`wx_open`).
    #[serde(rename = "wechat", alias = "wx_open")]
    WeChat,
}

/// A user to create before a test runs; see `MockCloudbase::seed_user`. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedUser {
    /// Phone number in any accepted form (`+86 13800000000`, `+8613800000000`, `13800000000`): the user can
    /// then sign in by SMS, and sending a code reports `is_user: true`.
    #[serde(default)]
    pub phone: Option<String>,
    /// Display name; defaults like a sign-up's ("User 0000", or "WeChat User").
    #[serde(default)]
    pub name: Option<String>,
    /// Avatar URL; defaults to none (`""` in the profile).
    #[serde(default)]
    pub picture: Option<String>,
    /// WeChat openid: the user can then sign in with WeChat once that identity is queued for the QR page
    /// (`MockCloudbase::next_wechat_identity` or `POST /__mock/wechat/next_openid`).
    #[serde(default)]
    pub wechat_openid: Option<String>,
}

/// One SMS that the stub "sent"; see `MockCloudbase::on_sms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsSent {
    /// The number in wire format, `"+86 13800000000"`.
    pub phone: String,
    /// The 6-digit code.
    pub code: String,
    /// The number masked for logs, `"+86 138****0000"`.
    pub masked_phone: String,
}

/// One call that reached the stub's API (not the `/__mock/` controls, nor one-off mocks a test mounted itself).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedCall {
    /// `"GET"`, `"POST"`, …
    pub method: String,
    /// URL path, e.g. `"/auth/v1/verification"`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Headers in arrival order, names lowercase, values lossily decoded as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `Null` when empty; a JSON string holding the (lossily decoded) text when the
    /// body is not JSON.
    pub body: serde_json::Value,
}

impl RecordedCall {
    /// The first value of a header, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The endpoint this call was for, if it was one (right path and method).
    pub fn endpoint(&self) -> Option<Endpoint> {
        Endpoint::for_path(&self.path).filter(|endpoint| endpoint.method() == self.method)
    }
}
