//! The one error type that crosses the wire: a stable machine code, a sentence a person can read,
//! and the HTTP status it travels with.

use dioxus::fullstack::{AsStatusCode, ServerFnError, StatusCode};
use serde::{Deserialize, Serialize};

/// Stable machine codes. The browser switches on these, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request itself is malformed (not JSON, wrong field types, missing fields).
    InvalidRequest,
    /// The body is over the size the API accepts.
    PayloadTooLarge,
    InvalidPhone,
    InvalidCode,
    /// The code was right once, but is now expired, used up or killed by wrong tries.
    CodeExpired,
    /// No code was requested in this browser (or the request expired).
    NoPendingCode,
    TooManyRequests,
    RegionUnsupported,
    LoginMethodDisabled,
    /// CloudBase did not answer, answered garbage, or answered too slowly.
    Unreachable,
    /// CloudBase refused the sign-in for a reason the person cannot fix here.
    SignInRejected,
    Unauthenticated,
    /// A state-changing call from another origin.
    Forbidden,
    /// No such API call.
    NotFound,
    MethodNotAllowed,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest
            | Self::InvalidPhone
            | Self::InvalidCode
            | Self::CodeExpired
            | Self::NoPendingCode
            | Self::RegionUnsupported => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::LoginMethodDisabled | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unreachable => StatusCode::BAD_GATEWAY,
            Self::SignInRejected => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as the browser receives it: `{"error": "invalid_code", "message": "…", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
    /// For `too_many_requests`: how long to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// For `invalid_code`: how many more tries this code allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
}

impl ApiError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            retry_after_secs: None,
            tries_left: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "Please sign in to continue.")
    }

    pub fn unreachable() -> Self {
        Self::new(
            ErrorCode::Unreachable,
            "CloudBase is unreachable right now. Please try again in a moment.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again.",
        )
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                ErrorCode::TooManyRequests,
                format!(
                    "Too many requests. Please wait {} and try again.",
                    readable_wait(retry_after_secs)
                ),
            )
        }
    }

    pub fn wrong_code(tries_left: u32) -> Self {
        let message = match tries_left {
            0 => "That code is not right, and no tries are left. Request a new code.".to_owned(),
            1 => "That code is not right. 1 try left.".to_owned(),
            n => format!("That code is not right. {n} tries left."),
        };
        Self {
            tries_left: Some(tries_left),
            ..Self::new(ErrorCode::InvalidCode, message)
        }
    }

    pub fn code_expired() -> Self {
        Self::new(
            ErrorCode::CodeExpired,
            "That code has expired or was already used. Request a new code.",
        )
    }

    pub fn region_unsupported() -> Self {
        Self::new(
            ErrorCode::RegionUnsupported,
            "SMS sign-in is only available for CloudBase environments in the Shanghai region (ap-shanghai).",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.error.status()
    }
}

/// "45 s", "3 minutes", "about 24 hours".
pub fn readable_wait(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} minutes", secs.div_ceil(60)),
        _ => format!("about {} hours", secs.div_ceil(3600)),
    }
}

impl AsStatusCode for ApiError {
    fn as_status_code(&self) -> StatusCode {
        self.status()
    }
}

/// Errors that never reached our code as an `ApiError`: the network, or a response without our
/// body (a proxy's 502, the guard's plain refusals). Mapped by status so the UI still speaks.
impl From<ServerFnError> for ApiError {
    fn from(err: ServerFnError) -> Self {
        let status = StatusCode::from(err.clone());
        match status {
            StatusCode::UNAUTHORIZED => Self::unauthenticated(),
            StatusCode::FORBIDDEN => Self::new(
                ErrorCode::Forbidden,
                "This request was refused. Reload the page and try again.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(ErrorCode::PayloadTooLarge, "That input is too long.")
            }
            StatusCode::TOO_MANY_REQUESTS => Self::too_many_requests(60),
            s if s.is_client_error() => Self::invalid_request("That request was not understood."),
            _ => match err {
                ServerFnError::Request(_) => Self::new(
                    ErrorCode::Unreachable,
                    "The server could not be reached. Check your connection and try again.",
                ),
                _ => Self::internal(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_like_a_person_would_say_them() {
        assert_eq!(readable_wait(40), "40 s");
        assert_eq!(readable_wait(600), "10 minutes");
        assert_eq!(readable_wait(86_090), "about 24 hours");
    }
}
