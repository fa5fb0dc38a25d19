//! What every request handler shares: configuration, the CloudBase client, the clock and the
//! in-memory limits.

use std::sync::Arc;

use mock_cloudbase::MockCloudbase;

use super::clock::Clock;
use super::cloudbase::CloudbaseClient;
use super::config::Config;
use super::rate_limit::{SmsLimiter, WrongCodes};
use super::refresh::Refresher;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub cloudbase: CloudbaseClient,
    pub clock: Clock,
    pub refresher: Refresher,
    pub sms_limiter: SmsLimiter,
    pub wrong_codes: WrongCodes,
    /// The in-process stub, when no CloudBase is configured; kept here so it lives as long as
    /// the app.
    pub embedded_stub: Option<MockCloudbase>,
}

impl AppState {
    pub fn new(
        config: Config,
        cloudbase: CloudbaseClient,
        clock: Clock,
        embedded_stub: Option<MockCloudbase>,
    ) -> Self {
        Self(Arc::new(Inner {
            sms_limiter: SmsLimiter::new(config.sms_resend),
            config,
            cloudbase,
            clock,
            refresher: Refresher::default(),
            wrong_codes: WrongCodes::default(),
            embedded_stub,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
