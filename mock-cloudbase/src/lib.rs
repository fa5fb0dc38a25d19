//! `mock-cloudbase`: a stateful stub of Tencent CloudBase's auth HTTP API (`/auth/v1/…`), in the spirit of the
//! Firebase Auth Emulator.
//!
//! It serves the contract in `docs/cloudbase-auth-api.md`: SMS codes, sign-in and sign-up, WeChat QR login
//! (with a fake QR page), RS256 access tokens with rotating refresh tokens, `user/me`, revoke, introspection and
//! a JWKS. State lives in memory; time is a fake clock that tests can push forward; failures (error envelopes,
//! 5xx, delays, non-JSON bodies) can be queued per endpoint. The app uses it as its backend when no CloudBase
//! environment is configured, and its tests drive it through the methods below; a standalone binary
//! (`cargo run -p mock-cloudbase -- --port 9400`) serves the same, with the controls also reachable over HTTP
//! under `/__mock/` (table below).
//!
//! ```no_run
//! # async fn demo() {
//! use mock_cloudbase::MockCloudbase;
//! let stub = MockCloudbase::builder().fixed_code("123456").start().await;
//! let base_url = stub.uri(); // e.g. http://127.0.0.1:41234; CloudBase paths hang off it.
//! // … the app sends a code to +86 13800000000 …
//! assert_eq!(stub.sms_code_for("13800000000").as_deref(), Some("123456"));
//! stub.advance_clock(std::time::Duration::from_secs(601)); // the code has now expired
//! # }
//! ```
//!
//! # HTTP controls
//!
//! For a standalone stub driven by curl or by browser tests. JSON in (any Content-Type), JSON out; errors use
//! the usual envelope. Calls to these are not recorded.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /__mock/sms/last?phone=…` | – | `{"phone","code"}` or 404 |
//! | `POST /__mock/clock/advance` | `{"seconds": N}` | `{"now"}` (RFC 3339) |
//! | `POST /__mock/fail_next` | `{"endpoint","times"?,"fault"}` | `{}` |
//! | `POST /__mock/region` | `{"region"}` | `{}` |
//! | `POST /__mock/login_method` | `{"method":"sms"\|"wechat","enabled"}` | `{}` |
//! | `POST /__mock/users` | `{"phone"?,"name"?,"picture"?,"wechat_openid"?}` | `{"sub"}` |
//! | `POST /__mock/users/revoke` | `{"sub"}` | `{}` (ends every sign-in of that user) |
//! | `GET /__mock/calls`, `DELETE /__mock/calls` | – | the recorded calls / `{}` |
//! | `POST /__mock/wechat/next_openid` | `{"openid"}` | `{}` (the next QR ticket is that WeChat user) |
//! | `GET /__mock/wechat/qrconnect?ticket=…` | – | the fake QR page (HTML) that `provider/uri` points to |
//! | `GET /__mock/wechat/confirm?ticket=…` (`#confirm`) | – | 302 to `redirect_uri?code=…&state=…` |
//! | `GET /__mock/wechat/cancel?ticket=…` (`#cancel`) | – | 302 to `redirect_uri?state=…` |
//! | `GET /__mock/wechat/avatar.svg` | – | the fake WeChat users' picture (SVG) |
//!
//! Faults in JSON: `{"kind":"envelope","status":400,"error":"captcha_required","error_code"?:9,
//! "description"?:"…"}`, `{"kind":"status","status":503}`, `{"kind":"delay","millis":3000}`,
//! `{"kind":"non_json"}`. Endpoints by their snake_case names (`"send_verification"`, `"user_me"`, …; see
//! [`Endpoint`]). Recorded calls: `[{"method","path","query","headers":[[name,value],…],"body"}]`.
//!
//! The stub spells the wire format itself (its own serde types and `serde_json`) and shares no type with the
//! app: a shared type would hide a drift between the two sides of the contract. Every decision the contract
//! leaves open is in [`choices`].

mod api;
pub mod choices;
mod error;
mod keys;
mod phone;
mod state;
mod types;

use std::collections::HashSet;
use std::fmt;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

pub use phone::mask_phone;
pub use types::{Endpoint, Fault, LoginMethod, RecordedCall, SeedUser, SmsSent};

use state::{Config, Shared};

/// Priority of the stub's catch-all route. wiremock tries lower numbers first and mounts at 5 by default, so a
/// test's own one-off `Mock` on the same server takes precedence over the stub.
const ROUTER_PRIORITY: u8 = 10;

/// A running stub. Cheap to clone (all clones drive the same stub); the server stops when the last clone is
/// dropped.
#[derive(Clone)]
pub struct MockCloudbase {
    inner: Arc<Inner>,
}

struct Inner {
    server: MockServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for MockCloudbase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockCloudbase")
            .field("uri", &self.inner.shared.base_uri)
            .field("env_id", &self.env_id())
            .finish_non_exhaustive()
    }
}

/// Settings for a stub; see [`MockCloudbase::builder`].
pub struct MockCloudbaseBuilder {
    env_id: String,
    region: String,
    fixed_code: Option<String>,
    access_token_ttl: Duration,
    refresh_token_ttl: Duration,
    listener: Option<TcpListener>,
}

impl fmt::Debug for MockCloudbaseBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockCloudbaseBuilder")
            .field("env_id", &self.env_id)
            .field("region", &self.region)
            .field("fixed_code", &self.fixed_code)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("listener", &self.listener)
            .finish()
    }
}

impl Default for MockCloudbaseBuilder {
    fn default() -> Self {
        MockCloudbaseBuilder {
            env_id: choices::DEFAULT_ENV_ID.to_owned(),
            region: choices::SMS_REGION.to_owned(),
            fixed_code: None,
            access_token_ttl: choices::ACCESS_TOKEN_TTL,
            refresh_token_ttl: choices::REFRESH_TOKEN_TTL,
            listener: None,
        }
    }
}

impl MockCloudbaseBuilder {
    /// Every SMS code is this one instead of a random one.
    pub fn fixed_code(mut self, code: impl Into<String>) -> Self {
        self.fixed_code = Some(code.into());
        self
    }

    /// The environment id (default `"mock-env"`): the tokens' `aud`, `project_id` and `iss`, and the expected
    /// `client_id`.
    pub fn env_id(mut self, id: impl Into<String>) -> Self {
        self.env_id = id.into();
        self
    }

    /// The environment's region (default `"ap-shanghai"`); SMS login works only there.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Access-token life (default 7200 s): `expires_in`, `exp − iat`, and when `user/me` starts answering 401.
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// Refresh-token life (default 31 days), counted from each rotation.
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_token_ttl = ttl;
        self
    }

    /// Serve on this listener (e.g. a fixed port) instead of a random loopback port.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Starts serving; the signing key is made in the background. Needs a Tokio runtime (wiremock's requirement).
    ///
    /// # Panics
    /// If the listener cannot be used (a broken machine, not bad input).
    pub async fn start(self) -> MockCloudbase {
        // The first stub of a process makes the key, an RSA prime search that takes a moment: on a thread of its
        // own, while the stub starts serving. Nothing needs the key before the first token is issued.
        std::thread::spawn(keys::SigningKeys::for_process);
        let builder = match self.listener {
            Some(listener) => MockServer::builder().listener(listener),
            None => MockServer::builder(),
        };
        // The stub keeps its own capped record (`calls()`); wiremock's would grow without bound in a
        // long-running stub.
        let server = builder.disable_request_recording().start().await;
        let config = Config {
            env_id: self.env_id,
            region: self.region,
            fixed_code: self.fixed_code,
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            disabled: HashSet::new(),
        };
        let shared = Arc::new(Shared::new(config, server.uri()));
        Mock::given(any())
            .respond_with(api::Router::new(Arc::clone(&shared)))
            .with_priority(ROUTER_PRIORITY)
            .named("mock-cloudbase")
            .mount(&server)
            .await;
        MockCloudbase {
            inner: Arc::new(Inner { server, shared }),
        }
    }
}

impl MockCloudbase {
    /// A stub on a random loopback port with default settings.
    pub async fn start() -> MockCloudbase {
        MockCloudbase::builder().start().await
    }

    /// Settings for a stub.
    pub fn builder() -> MockCloudbaseBuilder {
        MockCloudbaseBuilder::default()
    }

    /// Base URL, e.g. `"http://127.0.0.1:41234"` (no trailing slash); CloudBase paths (`/auth/v1/…`) hang off it.
    pub fn uri(&self) -> String {
        self.inner.shared.base_uri.clone()
    }

    /// The wiremock server, for a test's own one-off mocks: those mounted with the default priority (5) answer
    /// before the stub. Calls they answer are not in [`calls`](Self::calls), and wiremock's own request recording
    /// is off.
    pub fn server(&self) -> &MockServer {
        &self.inner.server
    }

    /// The environment id.
    pub fn env_id(&self) -> String {
        self.inner.shared.state.lock().config.env_id.clone()
    }

    /// The last SMS code sent to a number, given as `+86 13800000000`, `+8613800000000` or `13800000000`.
    pub fn sms_code_for(&self, phone: &str) -> Option<String> {
        self.inner
            .shared
            .state
            .lock()
            .last_sms_code(phone)
            .map(|(_, code)| code)
    }

    /// Pushes the fake clock forward: code, token, ticket and resend-window expiries all follow it. Real time
    /// keeps flowing on top.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.shared.state.lock().clock.advance(by);
    }

    /// The next `times` calls of `endpoint` get `fault` instead of the real answer (after any faults queued
    /// before). The calls are still recorded.
    pub fn fail_next(&self, endpoint: Endpoint, times: usize, fault: Fault) {
        self.inner
            .shared
            .state
            .lock()
            .push_faults(endpoint, times, fault);
    }

    /// Moves the environment to another region (default `"ap-shanghai"`); SMS sending fails elsewhere.
    pub fn set_region(&self, region: &str) {
        self.inner.shared.state.lock().config.region = region.to_owned();
    }

    /// Switches a login method off: its calls answer 403 `login_method_disabled`.
    pub fn disable_login_method(&self, method: LoginMethod) {
        self.inner
            .shared
            .state
            .lock()
            .set_login_method(method, false);
    }

    /// Switches a login method back on.
    pub fn enable_login_method(&self, method: LoginMethod) {
        self.inner
            .shared
            .state
            .lock()
            .set_login_method(method, true);
    }

    /// Creates a user and returns their `sub`.
    ///
    /// # Panics
    /// If the phone number is not a mainland mobile number, or a user already has that phone or openid: a
    /// mistake in the test itself.
    pub fn seed_user(&self, user: SeedUser) -> String {
        match self.inner.shared.state.lock().seed_user(user) {
            Ok(sub) => sub,
            Err(err) => panic!("seed_user: {}", err.description),
        }
    }

    /// The WeChat user that the next QR ticket (the next `provider/uri` call) stands for: a seeded user's
    /// `wechat_openid` signs that user in; an unknown openid registers a new one. Without this, every ticket is
    /// a brand-new WeChat user.
    pub fn next_wechat_identity(&self, openid: &str) {
        self.inner
            .shared
            .state
            .lock()
            .next_wechat
            .push_back(openid.to_owned());
    }

    /// Every call the stub answered (not the `/__mock/` controls, nor calls a test-mounted mock answered), in
    /// order. The oldest are dropped past [`choices::MAX_RECORDED_CALLS`].
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.inner.shared.state.lock().calls()
    }

    /// How many recorded calls went to `endpoint` (right path and method).
    pub fn calls_to(&self, endpoint: Endpoint) -> usize {
        self.inner.shared.state.lock().calls_to(endpoint)
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.inner.shared.state.lock().clear_calls();
    }

    /// Ends every sign-in of a user (access and refresh tokens), as an admin signing them out everywhere.
    pub fn revoke_all_for_user(&self, sub: &str) {
        self.inner.shared.state.lock().revoke_all_for_user(sub);
    }

    /// Calls `f` for each SMS sent, once the code is stored (so [`sms_code_for`](Self::sms_code_for) already
    /// knows it). It runs on the stub's server thread with nothing locked, so it may use the stub's methods; it
    /// should be quick, as the send call is answered after it returns.
    pub fn on_sms(&self, f: impl Fn(&SmsSent) + Send + Sync + 'static) {
        self.inner.shared.add_sms_listener(Arc::new(f));
    }
}
