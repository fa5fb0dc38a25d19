//! Everything that runs only on the server: configuration, the CloudBase client, sessions, the
//! route guard and the sign-in flows the server functions call.

pub mod clock;
pub mod cloudbase;
pub mod config;
pub mod cookies;
pub mod csp;
pub mod flows;
pub mod guard;
pub mod rate_limit;
pub mod refresh;
pub mod session;
pub mod startup;
pub mod state;
pub mod wechat;

pub use clock::Clock;
pub use config::{Backend, Config, ConfigError, SessionDb};
pub use startup::{build_state, router, serve, Server};
pub use state::AppState;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::auth::ApiError;

/// Our JSON error body with its status, for answers made outside a server function.
pub fn json_error(err: &ApiError) -> Response {
    let body = serde_json::to_string(err).expect("ApiError always serialises");
    let mut response = (err.status(), body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Some(wait) = err.retry_after_secs {
        headers.insert(RETRY_AFTER, HeaderValue::from(wait));
    }
    response
}
