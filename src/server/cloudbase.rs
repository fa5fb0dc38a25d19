//! The CloudBase auth client: the only code that speaks CloudBase's wire format.
//!
//! API reference: https://docs.cloudbase.net/http-api/auth/auth-sign-in (paths under `/auth/v1`).
//! Every answer is read as JSON; a body with a truthy `error` is a failure whatever the HTTP
//! status, as the official SDK treats it.

use std::fmt;
use std::time::Duration;

use rand::Rng;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

/// How long to wait for a connection to CloudBase.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest CloudBase answer we read.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// A failed CloudBase call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudbaseError {
    /// CloudBase answered with its error envelope.
    #[error("CloudBase refused the call ({status} {error}): {description}")]
    Api {
        status: u16,
        error: String,
        description: String,
    },
    #[error("CloudBase did not answer in time")]
    Timeout,
    #[error("CloudBase could not be reached: {0}")]
    Network(String),
    /// A 5xx without an envelope, a body that is not JSON, or JSON of the wrong shape.
    #[error("CloudBase answered {status} with an unexpected body: {detail}")]
    BadResponse { status: u16, detail: String },
}

impl CloudbaseError {
    /// The envelope's `error` string, if CloudBase gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether trying again later may work: the person keeps their session on such failures.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { status, error, .. } => {
                *status >= 500 || matches!(error.as_str(), "internal" | "unavailable")
            }
            Self::Timeout | Self::Network(_) | Self::BadResponse { .. } => true,
        }
    }
}

/// Tokens from a sign-in or refresh. Never sent to the browser; `Debug` hides them.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Credentials {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub sub: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("sub", &self.sub)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct VerificationSent {
    pub verification_id: String,
    pub expires_in: u64,
    #[serde(default)]
    pub is_user: bool,
}

#[derive(Clone, Deserialize)]
pub struct VerificationToken {
    pub verification_token: String,
}

#[derive(Clone, Deserialize)]
pub struct ProviderToken {
    pub provider_token: String,
}

/// The parts of `user/me` this app uses; unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub providers: Vec<UserProvider>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserProvider {
    #[serde(default)]
    pub id: String,
}

/// One client per CloudBase environment, built from the configuration.
#[derive(Clone)]
pub struct CloudbaseClient {
    http: reqwest::Client,
    base: Url,
    client_id: String,
    /// CloudBase asks for a stable device id; this server is the one device that talks to it.
    device_id: String,
}

impl CloudbaseClient {
    /// `timeout` bounds each whole call, body included.
    pub fn new(base: Url, env_id: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cloudbase-login/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a reqwest client with rustls and static settings always builds");
        Self {
            http,
            base,
            client_id: env_id.to_owned(),
            device_id: random_hex(16),
        }
    }

    /// `POST /auth/v1/verification`: sends an SMS code.
    pub async fn send_verification(
        &self,
        phone_wire: &str,
    ) -> Result<VerificationSent, CloudbaseError> {
        let body = json!({ "phone_number": phone_wire, "target": "ANY" });
        self.call(
            self.request(Method::POST, "/auth/v1/verification", None)
                .json(&body),
        )
        .await
    }

    /// `POST /auth/v1/verification/verify`: trades a code for a one-time verification token.
    pub async fn verify(
        &self,
        verification_id: &str,
        code: &str,
    ) -> Result<VerificationToken, CloudbaseError> {
        let body = json!({ "verification_id": verification_id, "verification_code": code });
        self.call(
            self.request(Method::POST, "/auth/v1/verification/verify", None)
                .json(&body),
        )
        .await
    }

    /// `POST /auth/v1/signin` for a known phone user.
    pub async fn sign_in(
        &self,
        phone_wire: &str,
        verification_token: &str,
    ) -> Result<Credentials, CloudbaseError> {
        let body = json!({ "username": phone_wire, "verification_token": verification_token });
        self.call(
            self.request(Method::POST, "/auth/v1/signin", None)
                .json(&body),
        )
        .await
    }

    /// `POST /auth/v1/signup` for a new phone user.
    pub async fn sign_up(
        &self,
        phone_wire: &str,
        verification_token: &str,
    ) -> Result<Credentials, CloudbaseError> {
        let body = json!({ "phone_number": phone_wire, "verification_token": verification_token });
        self.call(
            self.request(Method::POST, "/auth/v1/signup", None)
                .json(&body),
        )
        .await
    }

    /// `GET /auth/v1/provider/uri`: where to send the browser for WeChat's QR page.
    pub async fn provider_uri(
        &self,
        provider_id: &str,
        redirect_uri: &str,
        state: &str,
    ) -> Result<String, CloudbaseError> {
        #[derive(Deserialize)]
        struct Answer {
            uri: String,
        }
        let mut request = self.request(Method::GET, "/auth/v1/provider/uri", None);
        request = request.query(&[
            ("provider_id", provider_id),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("scope", "snsapi_login"),
        ]);
        let answer: Answer = self.call(request).await?;
        Ok(answer.uri)
    }

    /// `POST /auth/v1/provider/token`: trades WeChat's one-time code for a provider token. The
    /// redirect URI must be the one given to `provider_uri`.
    pub async fn provider_token(
        &self,
        provider_id: &str,
        redirect_uri: &str,
        code: &str,
    ) -> Result<ProviderToken, CloudbaseError> {
        let body = json!({
            "provider_id": provider_id,
            "provider_redirect_uri": redirect_uri,
            "provider_code": code,
        });
        self.call(
            self.request(Method::POST, "/auth/v1/provider/token", None)
                .json(&body),
        )
        .await
    }

    /// `POST /auth/v1/signin/with/provider`: signs the provider's user in, registering them on
    /// first use.
    pub async fn sign_in_with_provider(
        &self,
        provider_token: &str,
    ) -> Result<Credentials, CloudbaseError> {
        let body = json!({ "provider_token": provider_token });
        self.call(
            self.request(Method::POST, "/auth/v1/signin/with/provider", None)
                .json(&body),
        )
        .await
    }

    /// `GET /auth/v1/user/me` with the person's access token.
    pub async fn user_me(&self, access_token: &str) -> Result<UserInfo, CloudbaseError> {
        self.call(self.request(Method::GET, "/auth/v1/user/me", Some(access_token)))
            .await
    }

    /// `POST /auth/v1/token`: trades a refresh token for new credentials; the old refresh token
    /// dies at once.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Credentials, CloudbaseError> {
        let body = json!({
            "client_id": self.client_id,
            "client_secret": "",
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        });
        self.call(
            self.request(Method::POST, "/auth/v1/token", None)
                .json(&body),
        )
        .await
    }

    /// `POST /auth/v1/revoke`: ends the sign-in that `access_token` belongs to.
    pub async fn revoke(&self, access_token: &str) -> Result<(), CloudbaseError> {
        let body = json!({ "token": access_token });
        let _: Value = self
            .call(
                self.request(Method::POST, "/auth/v1/revoke", None)
                    .json(&body),
            )
            .await?;
        Ok(())
    }

    fn request(&self, method: Method, path: &str, bearer: Option<&str>) -> RequestBuilder {
        let mut url = self.base.clone();
        url.set_path(path);
        if bearer.is_none() {
            url.query_pairs_mut()
                .append_pair("client_id", &self.client_id);
        }
        let builder = self
            .http
            .request(method, url)
            .header("x-request-id", random_hex(16))
            .header("x-device-id", &self.device_id)
            .header(
                "x-sdk-version",
                concat!("cloudbase-login-rs/", env!("CARGO_PKG_VERSION")),
            )
            .header("accept-language", "zh-CN");
        match bearer {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, CloudbaseError> {
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let body = read_capped(response).await?;
        let value: Value =
            serde_json::from_slice(&body).map_err(|_| CloudbaseError::BadResponse {
                status,
                detail: "not JSON".to_owned(),
            })?;
        if let Some(error) = envelope_error(&value) {
            return Err(CloudbaseError::Api {
                status,
                error,
                description: value
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        if !(200..300).contains(&status) {
            return Err(CloudbaseError::BadResponse {
                status,
                detail: "error status without an error envelope".to_owned(),
            });
        }
        serde_json::from_value(value).map_err(|err| CloudbaseError::BadResponse {
            status,
            detail: err.to_string(),
        })
    }
}

/// The envelope's error string: `error` when truthy, or a gateway-style non-zero `code`.
fn envelope_error(value: &Value) -> Option<String> {
    match value.get("error") {
        Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
        Some(Value::Bool(true)) => return Some("unknown".to_owned()),
        _ => {}
    }
    match value.get("code") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, CloudbaseError> {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(CloudbaseError::BadResponse {
                status,
                detail: format!("body over {MAX_RESPONSE_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_error(err: reqwest::Error) -> CloudbaseError {
    if err.is_timeout() {
        CloudbaseError::Timeout
    } else {
        // Without the URL: it may carry a client id, and the error text is enough.
        CloudbaseError::Network(err.without_url().to_string())
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n).map(|_| format!("{:02x}", rng.gen::<u8>())).collect()
}
