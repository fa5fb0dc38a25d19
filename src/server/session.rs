//! Server-side sessions: the cookie holds only an opaque id; what a session knows (CloudBase
//! tokens, the profile, a pending SMS code) lives in the session store.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{CachingSessionStore, Expiry, Session, SessionManagerLayer};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_sqlx_store::SqliteStore;

use super::cloudbase::{Credentials, UserInfo};
use super::config::{Config, SessionDb};
use crate::auth::{mask_wire_phone, Profile};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "cloudbase_session";
/// How long a signed-in session lasts without a new sign-in.
pub const SIGNED_IN_TTL: time::Duration = time::Duration::days(30);
/// How long a session that only holds a pending SMS code or WeChat sign-in lives.
pub const PENDING_TTL: time::Duration = time::Duration::minutes(15);
/// How often expired sessions are deleted from the store.
pub const CLEANUP_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// How many sessions the in-memory cache in front of SQLite holds (a record is 1–2 KiB); the
/// least used fall back to SQLite.
pub const CACHED_SESSIONS: u64 = 4096;

/// Where sessions live: SQLite, so that a restart keeps people signed in, behind an in-memory
/// cache that every write goes through, so that a page view reads no file. The cache assumes one
/// app process per session database.
pub type Store = CachingSessionStore<MokaStore, SqliteStore>;

const SIGNED_IN_KEY: &str = "signed_in";
const PENDING_SMS_KEY: &str = "pending_sms";
const PENDING_WECHAT_KEY: &str = "pending_wechat";

/// A signed-in person: their CloudBase tokens and the profile shown to them.
#[derive(Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub sub: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds (app clock) when the access token expires.
    pub access_expires_at: u64,
    pub profile: Profile,
    /// Unix seconds (app clock) when the profile was last read from CloudBase.
    pub profile_fetched_at: u64,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("sub", &self.sub)
            .field("access_expires_at", &self.access_expires_at)
            .finish_non_exhaustive()
    }
}

impl SignedIn {
    pub fn new(credentials: Credentials, user: &UserInfo, now: u64) -> Self {
        Self {
            sub: credentials.sub.clone(),
            access_expires_at: now + credentials.expires_in,
            access_token: credentials.access_token,
            refresh_token: credentials.refresh_token,
            profile: profile_from(user),
            profile_fetched_at: now,
        }
    }

    /// Takes rotated tokens from a refresh.
    pub fn apply_refresh(&mut self, credentials: Credentials, now: u64) {
        self.access_token = credentials.access_token;
        self.refresh_token = credentials.refresh_token;
        self.access_expires_at = now + credentials.expires_in;
    }
}

/// What the browser may see of a CloudBase user.
pub fn profile_from(user: &UserInfo) -> Profile {
    let phone_masked = user
        .phone_number
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(mask_wire_phone);
    let name = user
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| phone_masked.clone())
        .unwrap_or_else(|| "CloudBase user".to_owned());
    Profile {
        name,
        phone_masked,
        avatar_url: user
            .picture
            .clone()
            .filter(|p| p.starts_with("https://") || p.starts_with("http://")),
        provider: user.providers.first().map(|p| p.id.clone()),
    }
}

/// An SMS code sent from this browser and not yet used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSms {
    /// The wire form of the number the code went to.
    pub phone_wire: String,
    pub verification_id: String,
    pub is_user: bool,
    /// Unix seconds (app clock).
    pub expires_at: u64,
}

/// A WeChat sign-in started in this browser: the one-time `state` and where to go afterwards.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingWechat {
    pub state: String,
    /// Already sanitised.
    pub from: String,
    /// Unix seconds (app clock).
    pub expires_at: u64,
}

impl fmt::Debug for PendingWechat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWechat")
            .field("from", &self.from)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub async fn store_pending_wechat(
    session: &Session,
    pending: &PendingWechat,
) -> Result<(), tower_sessions::session::Error> {
    keep_expiry(session).await?;
    session.insert(PENDING_WECHAT_KEY, pending).await
}

/// Takes the pending WeChat sign-in out of the session: a state is good for one callback only.
/// A session with none pending is left untouched (a stray callback changes nothing); one with a
/// pending sign-in keeps its life (30 days when signed in) as it is saved without it.
pub async fn take_pending_wechat(
    session: &Session,
) -> Result<Option<PendingWechat>, tower_sessions::session::Error> {
    if session
        .get::<PendingWechat>(PENDING_WECHAT_KEY)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    keep_expiry(session).await?;
    session.remove(PENDING_WECHAT_KEY).await
}

/// Deletes a session that no longer holds anything (its cookie is cleared), instead of keeping
/// an empty record alive under a live cookie.
pub async fn end_if_unused(session: &Session) -> Result<(), tower_sessions::session::Error> {
    if signed_in(session).await?.is_none() && pending_sms(session).await?.is_none() {
        session.flush().await?;
    }
    Ok(())
}

/// Typed access to what a session holds.
pub async fn signed_in(
    session: &Session,
) -> Result<Option<SignedIn>, tower_sessions::session::Error> {
    session.get(SIGNED_IN_KEY).await
}

/// Saves the signed-in state. The store does not remember a session's expiry between requests,
/// so every save says it again: otherwise the re-sent cookie would lose its `Max-Age`.
pub async fn store_signed_in(
    session: &Session,
    signed_in: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    session.set_expiry(Some(Expiry::OnInactivity(SIGNED_IN_TTL)));
    session.insert(SIGNED_IN_KEY, signed_in).await
}

/// The expiry a save of pre-sign-in data must carry: a signed-in session keeps its 30 days, a
/// guest's session lives only as long as its pending step.
async fn keep_expiry(session: &Session) -> Result<(), tower_sessions::session::Error> {
    let ttl = if signed_in(session).await?.is_some() {
        SIGNED_IN_TTL
    } else {
        PENDING_TTL
    };
    session.set_expiry(Some(Expiry::OnInactivity(ttl)));
    Ok(())
}

/// Starts a signed-in session: a fresh id (so an id planted before sign-in is worthless), the
/// tokens, and a 30-day life (`Max-Age`), extended whenever the session changes.
pub async fn begin_signed_in(
    session: &Session,
    signed_in: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.remove_value(PENDING_SMS_KEY).await?;
    session.remove_value(PENDING_WECHAT_KEY).await?;
    store_signed_in(session, signed_in).await
}

pub async fn pending_sms(
    session: &Session,
) -> Result<Option<PendingSms>, tower_sessions::session::Error> {
    session.get(PENDING_SMS_KEY).await
}

pub async fn store_pending_sms(
    session: &Session,
    pending: &PendingSms,
) -> Result<(), tower_sessions::session::Error> {
    keep_expiry(session).await?;
    session.insert(PENDING_SMS_KEY, pending).await
}

/// The session layer and the store behind it, as the configuration says.
pub async fn layer(config: &Config) -> Result<(SessionManagerLayer<Store>, Store), sqlx::Error> {
    let options = match &config.session_db {
        // One connection: every connection to `:memory:` would be a database of its own.
        SessionDb::Memory => SqliteConnectOptions::from_str("sqlite::memory:")?,
        // Write-ahead logging: a sign-in's write does not block other connections' reads, and
        // `NORMAL` sync is durable across a crash of the app (only a power cut may lose the
        // last sign-ins).
        SessionDb::File(path) => SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal),
    };
    let max_connections = match config.session_db {
        SessionDb::Memory => 1,
        SessionDb::File(_) => 4,
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    // Abandoned sessions (a code requested and never used) are deleted, not kept forever.
    tokio::spawn(store.clone().continuously_delete_expired(CLEANUP_EVERY));
    let store = CachingSessionStore::new(MokaStore::new(Some(CACHED_SESSIONS)), store);
    let layer = SessionManagerLayer::new(store.clone())
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnSessionEnd);
    Ok((layer, store))
}
