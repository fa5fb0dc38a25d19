//! The "(our choice)" points of the CloudBase auth contract (`docs/cloudbase-auth-api.md`), in one place.
//!
//! The public record of CloudBase is silent on these: statuses, error names and numbers, limits, lifetimes and
//! profile defaults were fixed by this project. Keep every such decision here so that it can be corrected in one
//! edit once a real environment has been observed. Facts the contract states (e.g. `invalid_argument` = 3, a
//! 600 s code life, one SMS per 30 s) live here too, marked as facts, so that the stub reads all its numbers from
//! one module.

use std::time::Duration;

/// One kind of error answer: the `error` string, its `error_code` and the HTTP status it is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    /// The snake_case `error` field of the envelope.
    pub error: &'static str,
    /// The `error_code` field, in gRPC numbering where there is one.
    pub code: i64,
    /// The HTTP status line. The official SDK ignores it; the app may not.
    pub status: u16,
}

// gRPC-style kinds. Numbers follow gRPC (3 is a fact; the others are our choice per the contract); statuses follow
// the grpc-gateway mapping, except where the contract names one.

/// Bad input of any kind: phone format, missing field, unknown id or token. Contract fact: 3, HTTP 400.
pub const INVALID_ARGUMENT: ErrorKind = ErrorKind {
    error: "invalid_argument",
    code: 3,
    status: 400,
};
/// An unknown user at sign-in, an unknown path, no SMS recorded for a number (control).
pub const NOT_FOUND: ErrorKind = ErrorKind {
    error: "not_found",
    code: 5,
    status: 404,
};
/// Sign-up of a phone number that already has a user. 409 as grpc-gateway maps ALREADY_EXISTS.
pub const ALREADY_EXISTS: ErrorKind = ErrorKind {
    error: "already_exists",
    code: 6,
    status: 409,
};
/// Not used by the flows; kept so that injected faults and the table in [`kind_for_status`] have it.
pub const PERMISSION_DENIED: ErrorKind = ErrorKind {
    error: "permission_denied",
    code: 7,
    status: 403,
};
/// SMS resend too soon or daily cap hit; the description says when to retry. Contract: HTTP 429.
pub const RESOURCE_EXHAUSTED: ErrorKind = ErrorKind {
    error: "resource_exhausted",
    code: 8,
    status: 429,
};
/// SMS asked for in a region other than Shanghai. Contract: HTTP 400.
pub const FAILED_PRECONDITION: ErrorKind = ErrorKind {
    error: "failed_precondition",
    code: 9,
    status: 400,
};
/// A known path called with the wrong HTTP method (grpc-gateway answers 405 with UNIMPLEMENTED).
pub const UNIMPLEMENTED: ErrorKind = ErrorKind {
    error: "unimplemented",
    code: 12,
    status: 405,
};
/// Injected 5xx faults other than 502/503/504, and a failure to sign a token (never expected).
pub const INTERNAL: ErrorKind = ErrorKind {
    error: "internal",
    code: 13,
    status: 500,
};
/// Injected 502/503/504 faults.
pub const UNAVAILABLE: ErrorKind = ErrorKind {
    error: "unavailable",
    code: 14,
    status: 503,
};
/// Missing, unknown, expired or revoked access token. Contract: HTTP 401.
pub const UNAUTHENTICATED: ErrorKind = ErrorKind {
    error: "unauthenticated",
    code: 16,
    status: 401,
};

// CloudBase's own error names (from the SDK's error list). Their numbers are ours: the gRPC code of the closest
// gRPC kind.

/// Wrong SMS code, or a verification killed by too many wrong codes. Contract: HTTP 400; code 3 like
/// invalid_argument, which it refines.
pub const INVALID_VERIFICATION_CODE: ErrorKind = ErrorKind {
    error: "invalid_verification_code",
    code: 3,
    status: 400,
};
/// Unknown, used, rotated, revoked or expired refresh token. Contract: HTTP 400; code 3 (OAuth's invalid_grant
/// is a kind of bad argument).
pub const INVALID_GRANT: ErrorKind = ErrorKind {
    error: "invalid_grant",
    code: 3,
    status: 400,
};
/// SMS or WeChat login switched off for the environment. Contract: HTTP 403; code 7 = permission_denied.
pub const LOGIN_METHOD_DISABLED: ErrorKind = ErrorKind {
    error: "login_method_disabled",
    code: 7,
    status: 403,
};
/// Image captcha demanded. Contract: HTTP 400; code 9 = failed_precondition. The stub never demands one on its
/// own (the rate limits answer `resource_exhausted`); inject it with `Fault::envelope` to test the app's path.
pub const CAPTCHA_REQUIRED: ErrorKind = ErrorKind {
    error: "captcha_required",
    code: 9,
    status: 400,
};
/// A request body over [`MAX_BODY_BYTES`]: the envelope is `invalid_argument`, the status 413.
pub const BODY_TOO_LARGE: ErrorKind = ErrorKind {
    error: "invalid_argument",
    code: 3,
    status: 413,
};

/// The envelope kind that goes with an HTTP status, for injected `Fault::Status(..)` answers and for
/// `Fault::Envelope` given without an `error_code` over HTTP.
pub fn kind_for_status(status: u16) -> ErrorKind {
    let kind = match status {
        400 => INVALID_ARGUMENT,
        401 => UNAUTHENTICATED,
        403 => PERMISSION_DENIED,
        404 => NOT_FOUND,
        409 => ALREADY_EXISTS,
        429 => RESOURCE_EXHAUSTED,
        501 => UNIMPLEMENTED,
        502..=504 => UNAVAILABLE,
        _ => INTERNAL,
    };
    ErrorKind { status, ..kind }
}

/// The gRPC-style number for an `error` name, for injected envelopes given without an `error_code`.
pub fn code_for_error(error: &str) -> i64 {
    [
        INVALID_ARGUMENT,
        NOT_FOUND,
        ALREADY_EXISTS,
        PERMISSION_DENIED,
        RESOURCE_EXHAUSTED,
        FAILED_PRECONDITION,
        UNIMPLEMENTED,
        INTERNAL,
        UNAVAILABLE,
        UNAUTHENTICATED,
        INVALID_VERIFICATION_CODE,
        INVALID_GRANT,
        LOGIN_METHOD_DISABLED,
        CAPTCHA_REQUIRED,
    ]
    .iter()
    .find(|kind| kind.error == error)
    .map_or(INTERNAL.code, |kind| kind.code)
}

// Environment defaults.

/// Environment id when the builder is given none.
pub const DEFAULT_ENV_ID: &str = "mock-env";
/// Contract fact: the default region, and the only one where SMS login works.
pub const SMS_REGION: &str = "ap-shanghai";
/// Human name of [`SMS_REGION`], for the failed_precondition description.
pub const SMS_REGION_NAME: &str = "Shanghai";

// SMS verification. Code life, resend window and daily cap are contract facts.

/// Life of an SMS code (`expires_in` of the send answer).
pub const SMS_CODE_TTL: Duration = Duration::from_secs(600);
/// Life of the verification_token that a right code buys (`expires_in` of the verify answer).
pub const VERIFICATION_TOKEN_TTL: Duration = Duration::from_secs(600);
/// Minimum time between two SMS to one number.
pub const SMS_RESEND_INTERVAL: Duration = Duration::from_secs(30);
/// At most this many SMS to one number within [`SMS_DAILY_WINDOW`].
pub const SMS_DAILY_CAP: usize = 10;
/// "Per day" is a rolling 24 h window rather than a calendar day: no time zone to pick, and a test needs only
/// one clock jump to see the cap lift.
pub const SMS_DAILY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// Wrong codes allowed before a verification is dead (the contract's "5 wrong tries").
pub const MAX_WRONG_CODES: u32 = 5;

// WeChat QR login.

/// Life of a QR ticket (the fake QR page) before it must be confirmed. WeChat's QR codes live a few minutes; the
/// stub uses the code life so there is one number to remember.
pub const WECHAT_TICKET_TTL: Duration = Duration::from_secs(600);
/// Contract fact: a WeChat code is single use and lives 10 minutes.
pub const WECHAT_CODE_TTL: Duration = Duration::from_secs(600);
/// Life of a provider_token (`expires_in` of provider/token). It is single use: `signin/with/provider`
/// consumes it, as a sign-in credential that could be replayed for an hour would be odd.
pub const PROVIDER_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Nickname of the WeChat identity that a QR ticket stands for, unless a next identity was queued.
pub const WECHAT_DEFAULT_NICKNAME: &str = "WeChat User";
/// WeChat's own error number for a bad code, quoted in the description of a bad `provider_code`.
pub const WECHAT_BAD_CODE_ERRCODE: i64 = 40029;
/// The only provider the stub knows (WeChat Open Platform, website QR login).
pub const WECHAT_PROVIDER_ID: &str = "wx_open";

// Sessions and tokens.

/// Default access-token life (contract: 2 h); the builder can change it.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(7200);
/// Default refresh-token life (contract: 31 days). Each rotation issues a new refresh token with a full life (a
/// sliding window), our choice.
pub const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(31 * 24 * 60 * 60);
/// `scope` of credentials and introspection.
pub const TOKEN_SCOPE: &str = "user sso";
/// `user_type` claim of access tokens: end users of an app are CloudBase "external" users.
pub const USER_TYPE: &str = "externalUser";
/// `provider_type` claim for SMS sign-ins.
pub const PHONE_PROVIDER_TYPE: &str = "phone";
/// Reusing a rotated refresh token revokes the whole sign-in (reuse detection, as OAuth 2.0 security BCP
/// recommends), on top of answering `invalid_grant`.
pub const REVOKE_FAMILY_ON_REFRESH_REUSE: bool = true;
/// `/auth/v1/token` accepts only this grant; any other answers [`UNSUPPORTED_GRANT`].
pub const REFRESH_GRANT_TYPE: &str = "refresh_token";
/// An unsupported `grant_type` is a plain invalid_argument (the SDK's list has no unsupported_grant_type).
pub const UNSUPPORTED_GRANT: ErrorKind = INVALID_ARGUMENT;

// Users.

/// Display name of a new phone user, from the last four digits: "User 0000".
pub fn default_phone_user_name(national_number: &str) -> String {
    let digits: Vec<char> = national_number.chars().collect();
    let last4: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("User {last4}")
}
/// A phone user's `username` is their phone number in wire format, as sign-in sends it as `username`. WeChat
/// users have an empty username.
pub const PHONE_USER_USERNAME_IS_PHONE: bool = true;
/// Absent text fields of the profile (`picture`, `email`, `username`, `phone_number`) are `""`, not null or
/// missing.
pub const EMPTY_PROFILE_FIELD: &str = "";
/// `gender` of every user: the stub has no way to learn one.
pub const DEFAULT_GENDER: &str = "UNKNOWN";
/// `status` of every user.
pub const USER_STATUS: &str = "ACTIVE";

// Requests.

/// Largest accepted request body; larger ones get [`BODY_TOO_LARGE`].
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Allowed length of the `x-device-id` header, in characters (contract: 16–48).
pub const DEVICE_ID_LEN: std::ops::RangeInclusive<usize> = 16..=48;
/// Calls kept for `calls()`; the oldest are dropped beyond this, so that a long-running stub (the app's default
/// backend) does not grow without bound.
pub const MAX_RECORDED_CALLS: usize = 10_000;
/// RSA key size of the token-signing key.
pub const RSA_KEY_BITS: usize = 2048;
