//! The error envelope every failed call answers: `{"error", "error_code", "error_description"}`.

use serde_json::json;
use wiremock::ResponseTemplate;

use crate::choices::{self, ErrorKind};

/// A failed call, as the stub answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub error: String,
    pub error_code: i64,
    pub description: String,
    /// Seconds for a `Retry-After` header (rate limits).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, description: impl Into<String>) -> ApiError {
        ApiError {
            status: kind.status,
            error: kind.error.to_owned(),
            error_code: kind.code,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn invalid_argument(description: impl Into<String>) -> ApiError {
        ApiError::new(choices::INVALID_ARGUMENT, description)
    }

    pub fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// The envelope as a response. A status that HTTP cannot carry (an injected fault's typo) becomes 500 rather
    /// than a panic inside the server.
    pub fn into_template(self) -> ResponseTemplate {
        let status = if (100..=999).contains(&self.status) {
            self.status
        } else {
            500
        };
        let template = ResponseTemplate::new(status).set_body_json(json!({
            "error": self.error,
            "error_code": self.error_code,
            "error_description": self.description,
        }));
        match self.retry_after {
            Some(seconds) => template.insert_header("retry-after", seconds.to_string().as_str()),
            None => template,
        }
    }
}

/// A piece of request data for an error description: quoted, and cut short so that a 60 KiB field does not come
/// back in full.
pub(crate) fn quoted(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut short: String = value.chars().take(MAX_CHARS).collect();
    if short.len() < value.len() {
        short.push('…');
    }
    format!("{short:?}")
}
