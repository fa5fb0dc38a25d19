//! One refresh per refresh token, however many requests need it at once.
//!
//! CloudBase rotates refresh tokens: the first refresh kills the old token, so two requests of one
//! session refreshing side by side would sign the person out. Requests that hold the same refresh
//! token share one call and its answer; the answer is kept for [`SHARED_FOR`] so that a request
//! which read the session just before the refresh finished still gets the new tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::cloudbase::{CloudbaseClient, CloudbaseError, Credentials};

/// How long a refresh's answer is kept for late requests holding the old token.
pub const SHARED_FOR: Duration = Duration::from_secs(60);

type Outcome = Result<Credentials, CloudbaseError>;
/// When a refresh started, and the cell its answer lands in.
type SharedCall = (Instant, Arc<OnceCell<Outcome>>);

#[derive(Default)]
pub struct Refresher {
    /// Keyed by the refresh token being traded in.
    calls: Mutex<HashMap<String, SharedCall>>,
}

impl Refresher {
    pub async fn refresh(&self, client: &CloudbaseClient, refresh_token: &str) -> Outcome {
        let cell = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            calls.retain(|_, (started, _)| now.duration_since(*started) < SHARED_FOR);
            calls
                .entry(refresh_token.to_owned())
                .or_insert_with(|| (now, Arc::new(OnceCell::new())))
                .1
                .clone()
        };
        let outcome = cell
            .get_or_init(|| client.refresh(refresh_token))
            .await
            .clone();
        if matches!(&outcome, Err(err) if err.is_transient()) {
            // A transient failure must not stick: the next request tries again.
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            if calls
                .get(refresh_token)
                .is_some_and(|(_, c)| Arc::ptr_eq(c, &cell))
            {
                calls.remove(refresh_token);
            }
        }
        outcome
    }
}
