//! What the stub remembers: the fake clock, users, SMS sends and codes, WeChat tickets and codes, sign-in
//! sessions with their tokens, queued faults and recorded calls. One [`State`] behind one mutex, shared by the
//! router and the control methods.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use rand::{Rng as _, RngCore as _};
use serde_json::{json, Value};

use crate::choices;
use crate::error::ApiError;
use crate::keys::{AccessClaims, SigningKeys};
use crate::phone;
use crate::types::{Endpoint, Fault, LoginMethod, RecordedCall, SeedUser, SmsSent};

/// Milliseconds since the Unix epoch, on the fake clock.
pub(crate) type Millis = u64;

/// `at + by`, saturating: the clock can be pushed arbitrarily far by a control.
pub(crate) fn after(at: Millis, by: Duration) -> Millis {
    at.saturating_add(u64::try_from(by.as_millis()).unwrap_or(u64::MAX))
}

/// Whole seconds from `now` until `until`, rounded up (for "retry after N seconds").
pub(crate) fn seconds_until(now: Millis, until: Millis) -> u64 {
    until.saturating_sub(now).div_ceil(1000)
}

/// RFC 3339 in UTC, second precision.
pub(crate) fn rfc3339(at: Millis) -> String {
    let seconds = i64::try_from(at / 1000).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        // Only a clock pushed past the year 9999 gets here.
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_owned())
}

/// `bytes` random bytes from the OS CSPRNG, base64url without padding: ids, tokens, codes of the stub.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// `bytes` random bytes as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Real time plus a controllable offset. Real time keeps flowing so that a standalone stub behaves (resend
/// windows lift by themselves); the offset lets tests jump past expiries without sleeping.
pub(crate) struct Clock {
    started: Instant,
    started_unix: Millis,
    offset: Duration,
}

impl Clock {
    fn new() -> Clock {
        let started_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Clock {
            started: Instant::now(),
            started_unix,
            offset: Duration::ZERO,
        }
    }

    pub fn now(&self) -> Millis {
        after(
            self.started_unix,
            self.started.elapsed().saturating_add(self.offset),
        )
    }

    pub fn advance(&mut self, by: Duration) {
        self.offset = self.offset.saturating_add(by);
    }
}

/// Settings fixed at start, and the ones the controls change.
pub(crate) struct Config {
    pub env_id: String,
    pub region: String,
    pub fixed_code: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub disabled: HashSet<LoginMethod>,
}

pub(crate) struct User {
    pub sub: String,
    /// Wire format, `+86 13800000000`.
    pub phone: Option<String>,
    pub name: String,
    pub picture: Option<String>,
    pub wechat_openid: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl User {
    /// The `user/me` body.
    pub fn profile(&self) -> Value {
        let empty = choices::EMPTY_PROFILE_FIELD;
        let username = match &self.phone {
            Some(phone) if choices::PHONE_USER_USERNAME_IS_PHONE => phone.as_str(),
            _ => empty,
        };
        let providers: Vec<Value> = self
            .wechat_openid
            .iter()
            .map(|openid| {
                json!({ "id": choices::WECHAT_PROVIDER_ID, "provider_user_id": openid, "name": self.name })
            })
            .collect();
        json!({
            "sub": self.sub,
            "name": self.name,
            "picture": self.picture.as_deref().unwrap_or(empty),
            "username": username,
            "phone_number": self.phone.as_deref().unwrap_or(empty),
            "email": empty,
            "gender": choices::DEFAULT_GENDER,
            "providers": providers,
            "status": choices::USER_STATUS,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

/// SMS history of one number.
#[derive(Default)]
pub(crate) struct SmsHistory {
    /// Send times within the daily window, oldest first.
    pub sends: VecDeque<Millis>,
    pub last_code: Option<String>,
}

pub(crate) struct Verification {
    pub phone: String,
    pub code: String,
    pub expires_at: Millis,
    pub wrong_codes: u32,
    pub used: bool,
}

pub(crate) struct VerificationToken {
    pub phone: String,
    pub expires_at: Millis,
    pub used: bool,
}

/// The WeChat account that a QR ticket stands for.
#[derive(Clone)]
pub(crate) struct WechatIdentity {
    pub openid: String,
    pub nickname: String,
    pub avatar: String,
}

pub(crate) struct WechatTicket {
    pub redirect_uri: String,
    pub state: String,
    pub identity: WechatIdentity,
    pub expires_at: Millis,
    pub used: bool,
}

pub(crate) struct WechatCode {
    pub redirect_uri: String,
    pub identity: WechatIdentity,
    pub expires_at: Millis,
    pub used: bool,
}

pub(crate) struct ProviderToken {
    pub identity: WechatIdentity,
    pub expires_at: Millis,
    pub used: bool,
}

/// One sign-in: its access tokens and its chain of refresh tokens end together.
pub(crate) struct Session {
    pub sub: String,
    pub provider_type: String,
    pub revoked: bool,
}

pub(crate) struct AccessRecord {
    pub session: u64,
    pub expires_at: Millis,
}

pub(crate) struct RefreshRecord {
    pub session: u64,
    pub expires_at: Millis,
    /// Already traded for a new pair: presenting it again is reuse.
    pub rotated: bool,
}

/// Why an access token is not accepted; the description says which.
pub(crate) enum AccessProblem {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

impl AccessProblem {
    pub fn into_error(self) -> ApiError {
        let description = match self {
            AccessProblem::Missing => {
                "missing access token: send Authorization: Bearer <access_token>"
            }
            AccessProblem::Unknown => "invalid access token",
            AccessProblem::Expired => "access token has expired",
            AccessProblem::Revoked => "access token has been revoked",
        };
        ApiError::new(choices::UNAUTHENTICATED, description)
    }
}

/// Everything the stub remembers. Methods here are the pieces shared by several endpoints and controls.
pub(crate) struct State {
    pub config: Config,
    pub clock: Clock,
    pub users: HashMap<String, User>,
    pub sms: HashMap<String, SmsHistory>,
    pub verifications: HashMap<String, Verification>,
    pub verification_tokens: HashMap<String, VerificationToken>,
    pub wechat_tickets: HashMap<String, WechatTicket>,
    pub wechat_codes: HashMap<String, WechatCode>,
    pub provider_tokens: HashMap<String, ProviderToken>,
    /// WeChat identities for the next QR tickets, in order (control `next_wechat_identity`).
    pub next_wechat: VecDeque<String>,
    sessions: HashMap<u64, Session>,
    next_session: u64,
    access_tokens: HashMap<String, AccessRecord>,
    refresh_tokens: HashMap<String, RefreshRecord>,
    faults: HashMap<Endpoint, VecDeque<Fault>>,
    calls: VecDeque<RecordedCall>,
    requests_since_sweep: u32,
}

impl State {
    pub fn new(config: Config) -> State {
        State {
            config,
            clock: Clock::new(),
            users: HashMap::new(),
            sms: HashMap::new(),
            verifications: HashMap::new(),
            verification_tokens: HashMap::new(),
            wechat_tickets: HashMap::new(),
            wechat_codes: HashMap::new(),
            provider_tokens: HashMap::new(),
            next_wechat: VecDeque::new(),
            sessions: HashMap::new(),
            next_session: 1,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            faults: HashMap::new(),
            calls: VecDeque::new(),
            requests_since_sweep: 0,
        }
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn is_enabled(&self, method: LoginMethod) -> bool {
        !self.config.disabled.contains(&method)
    }

    /// Refuses a call of a switched-off login method.
    pub fn require_enabled(&self, method: LoginMethod) -> Result<(), ApiError> {
        if self.is_enabled(method) {
            return Ok(());
        }
        let name = match method {
            LoginMethod::Sms => "SMS verification login",
            LoginMethod::WeChat => "WeChat login (wx_open)",
        };
        Err(ApiError::new(
            choices::LOGIN_METHOD_DISABLED,
            format!("{name} is disabled for environment {}", self.config.env_id),
        ))
    }

    pub fn set_login_method(&mut self, method: LoginMethod, enabled: bool) {
        if enabled {
            self.config.disabled.remove(&method);
        } else {
            self.config.disabled.insert(method);
        }
    }

    // Users.

    pub fn user_by_phone(&self, phone: &str) -> Option<&User> {
        self.users
            .values()
            .find(|user| user.phone.as_deref() == Some(phone))
    }

    pub fn user_by_openid(&self, openid: &str) -> Option<&User> {
        self.users
            .values()
            .find(|user| user.wechat_openid.as_deref() == Some(openid))
    }

    /// A new user with a fresh numeric `sub` (18 digits, like CloudBase's long numeric ids).
    pub fn create_user(
        &mut self,
        phone: Option<String>,
        name: String,
        picture: Option<String>,
        wechat_openid: Option<String>,
    ) -> String {
        let sub = loop {
            let candidate =
                rand::rngs::OsRng.gen_range(100_000_000_000_000_000u64..1_000_000_000_000_000_000);
            let candidate = candidate.to_string();
            if !self.users.contains_key(&candidate) {
                break candidate;
            }
        };
        let now = self.now();
        self.users.insert(
            sub.clone(),
            User {
                sub: sub.clone(),
                phone,
                name,
                picture,
                wechat_openid,
                created_at: now,
                updated_at: now,
            },
        );
        sub
    }

    /// The `seed_user` control: checks the phone and uniqueness, then creates.
    pub fn seed_user(&mut self, seed: SeedUser) -> Result<String, ApiError> {
        let phone = match &seed.phone {
            Some(raw) => Some(phone::normalize_lenient(raw).ok_or_else(|| {
                ApiError::invalid_argument(format!(
                    "phone {} is not a mainland China mobile number",
                    crate::error::quoted(raw)
                ))
            })?),
            None => None,
        };
        if let Some(phone) = &phone {
            if self.user_by_phone(phone).is_some() {
                return Err(ApiError::new(
                    choices::ALREADY_EXISTS,
                    format!("a user with phone number {phone} already exists"),
                ));
            }
        }
        if let Some(openid) = &seed.wechat_openid {
            if openid.is_empty() {
                return Err(ApiError::invalid_argument(
                    "wechat_openid must not be empty",
                ));
            }
            if self.user_by_openid(openid).is_some() {
                return Err(ApiError::new(
                    choices::ALREADY_EXISTS,
                    format!(
                        "a user with WeChat openid {} already exists",
                        crate::error::quoted(openid)
                    ),
                ));
            }
        }
        let name = seed.name.unwrap_or_else(|| match &phone {
            Some(phone) => choices::default_phone_user_name(phone::national_part(phone)),
            None => choices::WECHAT_DEFAULT_NICKNAME.to_owned(),
        });
        Ok(self.create_user(phone, name, seed.picture, seed.wechat_openid))
    }

    // SMS.

    /// A 6-digit code: the fixed one if configured, else from the OS CSPRNG.
    pub fn new_sms_code(&self) -> String {
        match &self.config.fixed_code {
            Some(code) => code.clone(),
            None => format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32)),
        }
    }

    /// The last code sent to a number given in any form the controls accept, with the number in wire format.
    pub fn last_sms_code(&self, phone: &str) -> Option<(String, String)> {
        let phone = phone::normalize_lenient(phone)?;
        let code = self.sms.get(&phone)?.last_code.clone()?;
        Some((phone, code))
    }

    // Sessions and tokens.

    /// Starts a sign-in for `sub` and answers its credentials.
    pub fn sign_in(
        &mut self,
        keys: &SigningKeys,
        sub: &str,
        provider_type: &str,
    ) -> Result<Value, ApiError> {
        let session = self.next_session;
        self.next_session += 1;
        self.sessions.insert(
            session,
            Session {
                sub: sub.to_owned(),
                provider_type: provider_type.to_owned(),
                revoked: false,
            },
        );
        self.issue_tokens(keys, session)
    }

    /// A new access token and refresh token for a live session, as the credentials body.
    fn issue_tokens(&mut self, keys: &SigningKeys, session_id: u64) -> Result<Value, ApiError> {
        let now = self.now();
        let config = &self.config;
        let session = self
            .sessions
            .get(&session_id)
            .ok_or_else(|| ApiError::new(choices::INTERNAL, "sign-in session vanished"))?;
        let jti = random_token(16);
        let iat = now / 1000;
        let expires_in = config.access_token_ttl.as_secs();
        let access_token = keys.sign(&AccessClaims {
            iss: format!(
                "http://{}.{}.tcb-api.tencentcloudapi.com",
                config.env_id, config.region
            ),
            sub: &session.sub,
            aud: &config.env_id,
            exp: iat.saturating_add(expires_in),
            iat,
            jti: &jti,
            scope: choices::TOKEN_SCOPE,
            project_id: &config.env_id,
            provider_type: &session.provider_type,
            user_type: choices::USER_TYPE,
        })?;
        // 64 characters, within the contract's 128.
        let refresh_token = random_token(48);
        let credentials = json!({
            "token_type": "Bearer",
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": expires_in,
            "scope": choices::TOKEN_SCOPE,
            "sub": session.sub,
        });
        let access_expires = after(now, config.access_token_ttl);
        let refresh_expires = after(now, config.refresh_token_ttl);
        self.access_tokens.insert(
            access_token,
            AccessRecord {
                session: session_id,
                expires_at: access_expires,
            },
        );
        self.refresh_tokens.insert(
            refresh_token,
            RefreshRecord {
                session: session_id,
                expires_at: refresh_expires,
                rotated: false,
            },
        );
        Ok(credentials)
    }

    /// The user behind a live access token.
    pub fn authenticate(&self, access_token: Option<&str>) -> Result<&User, AccessProblem> {
        let token = access_token.ok_or(AccessProblem::Missing)?;
        let record = self
            .access_tokens
            .get(token)
            .ok_or(AccessProblem::Unknown)?;
        let session = self
            .sessions
            .get(&record.session)
            .ok_or(AccessProblem::Unknown)?;
        if session.revoked {
            return Err(AccessProblem::Revoked);
        }
        if self.now() >= record.expires_at {
            return Err(AccessProblem::Expired);
        }
        self.users.get(&session.sub).ok_or(AccessProblem::Unknown)
    }

    /// Trades a refresh token for new credentials; the old refresh token dies at once.
    pub fn refresh(&mut self, keys: &SigningKeys, refresh_token: &str) -> Result<Value, ApiError> {
        let invalid_grant = |why: &str| ApiError::new(choices::INVALID_GRANT, why.to_owned());
        let now = self.now();
        let (session_id, rotated, expires_at) = self
            .refresh_tokens
            .get(refresh_token)
            .map(|record| (record.session, record.rotated, record.expires_at))
            .ok_or_else(|| invalid_grant("unknown refresh token"))?;
        if rotated {
            if choices::REVOKE_FAMILY_ON_REFRESH_REUSE {
                self.revoke_session(session_id);
            }
            return Err(invalid_grant(
                "refresh token was already used; the sign-in it belongs to has been revoked",
            ));
        }
        if now >= expires_at {
            return Err(invalid_grant("refresh token has expired; sign in again"));
        }
        if self
            .sessions
            .get(&session_id)
            .is_none_or(|session| session.revoked)
        {
            return Err(invalid_grant(
                "refresh token has been revoked; sign in again",
            ));
        }
        if let Some(record) = self.refresh_tokens.get_mut(refresh_token) {
            record.rotated = true;
        }
        self.issue_tokens(keys, session_id)
    }

    /// Ends the sign-in that an access or refresh token belongs to. Unknown tokens are ignored (RFC 7009).
    pub fn revoke_token(&mut self, token: &str) {
        let session = self
            .access_tokens
            .get(token)
            .map(|record| record.session)
            .or_else(|| self.refresh_tokens.get(token).map(|record| record.session));
        if let Some(session) = session {
            self.revoke_session(session);
        }
    }

    fn revoke_session(&mut self, session_id: u64) {
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.revoked = true;
        }
    }

    /// Ends every sign-in of a user.
    pub fn revoke_all_for_user(&mut self, sub: &str) {
        for session in self
            .sessions
            .values_mut()
            .filter(|session| session.sub == sub)
        {
            session.revoked = true;
        }
    }

    // Faults and calls.

    pub fn push_faults(&mut self, endpoint: Endpoint, times: usize, fault: Fault) {
        self.faults
            .entry(endpoint)
            .or_default()
            .extend(std::iter::repeat_n(fault, times));
    }

    pub fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        self.faults.get_mut(&endpoint)?.pop_front()
    }

    pub fn record_call(&mut self, call: RecordedCall) {
        if self.calls.len() >= choices::MAX_RECORDED_CALLS {
            self.calls.pop_front();
        }
        self.calls.push_back(call);
        self.requests_since_sweep += 1;
        if self.requests_since_sweep >= 256 {
            self.requests_since_sweep = 0;
            self.sweep();
        }
    }

    pub fn calls(&self) -> Vec<RecordedCall> {
        self.calls.iter().cloned().collect()
    }

    pub fn calls_to(&self, endpoint: Endpoint) -> usize {
        self.calls
            .iter()
            .filter(|call| call.endpoint() == Some(endpoint))
            .count()
    }

    pub fn clear_calls(&mut self) {
        self.calls.clear();
    }

    /// Forgets what expired more than a day ago, so that a long-running stub stays small. The day of grace keeps
    /// the "expired" (rather than "unknown") descriptions right for any test that jumps the clock.
    fn sweep(&mut self) {
        let cutoff = self.now().saturating_sub(24 * 60 * 60 * 1000);
        self.verifications.retain(|_, v| v.expires_at > cutoff);
        self.verification_tokens
            .retain(|_, t| t.expires_at > cutoff);
        self.wechat_tickets.retain(|_, t| t.expires_at > cutoff);
        self.wechat_codes.retain(|_, c| c.expires_at > cutoff);
        self.provider_tokens.retain(|_, t| t.expires_at > cutoff);
        self.access_tokens.retain(|_, t| t.expires_at > cutoff);
        self.refresh_tokens.retain(|_, t| t.expires_at > cutoff);
        let live: HashSet<u64> = self.refresh_tokens.values().map(|t| t.session).collect();
        self.sessions.retain(|id, _| live.contains(id));
    }
}

/// A callback for each SMS sent.
pub(crate) type SmsListener = Arc<dyn Fn(&SmsSent) + Send + Sync>;

/// What the router and the `MockCloudbase` handles share.
pub(crate) struct Shared {
    pub state: Mutex<State>,
    /// `http://127.0.0.1:PORT`, for URLs the stub hands out (the QR page, avatars).
    pub base_uri: String,
    sms_listeners: RwLock<Vec<SmsListener>>,
}

impl Shared {
    pub fn new(config: Config, base_uri: String) -> Shared {
        Shared {
            state: Mutex::new(State::new(config)),
            base_uri,
            sms_listeners: RwLock::new(Vec::new()),
        }
    }

    /// The signing key. [`crate::MockCloudbaseBuilder::start`] begins making it in the background, so
    /// that a stub (and an app embedding one) serves at once; a token issued before it is ready
    /// waits for it, once per process.
    pub fn keys(&self) -> Arc<SigningKeys> {
        SigningKeys::for_process()
    }

    pub fn add_sms_listener(&self, listener: SmsListener) {
        self.sms_listeners.write().push(listener);
    }

    /// Tells the listeners. Called with the state unlocked, so that a listener may use the controls.
    pub fn emit_sms(&self, sms: &SmsSent) {
        tracing::debug!(phone = %sms.masked_phone, "mock-cloudbase sent an SMS code");
        let listeners: Vec<SmsListener> = self.sms_listeners.read().clone();
        for listener in listeners {
            listener(sms);
        }
    }
}
