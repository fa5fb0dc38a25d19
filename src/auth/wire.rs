//! What the browser and the API exchange: request and answer bodies, and the profile the browser
//! may see. Nothing here carries a CloudBase token.

use serde::{Deserialize, Serialize};

/// `POST /api/auth/sms/send`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendCodeRequest {
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendCodeResponse {
    /// When the "Get code" button may be pressed again.
    pub resend_after_secs: u64,
    /// How long the code that was sent stays valid.
    pub expires_in_secs: u64,
}

/// `POST /api/auth/sms/verify`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCodeRequest {
    pub phone: String,
    pub code: String,
    #[serde(default)]
    pub from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCodeResponse {
    /// A same-origin path to go to now.
    pub redirect: String,
}

/// The signed-in person, as the browser may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// Already masked: `+86 138****8000`.
    #[serde(default)]
    pub phone_masked: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// How they signed in: `phone` or `wx_open`.
    #[serde(default)]
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOutResponse {
    pub redirect: String,
}
