//! Every page of the app, and who may see it. Both guards (the axum layer on the server and the
//! layouts in the browser) read [`Route::access`], so adding a page without deciding its access
//! does not compile.

use std::fmt;

use dioxus::prelude::*;

use crate::auth::{encode_query_value, sanitize_from};
use crate::views::{GuestOnly, Home, Login, NotFound, SignedInOnly, WechatCallback};

/// Who may open a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Only people who are not signed in; signed-in people are sent home.
    GuestOnly,
    /// Only signed-in people; others are sent to the login page with a way back.
    Protected,
}

#[derive(Routable, Clone, Debug, PartialEq)]
#[rustfmt::skip]
pub enum Route {
    #[layout(SignedInOnly)]
        #[route("/")]
        Home {},
    #[end_layout]
    #[layout(GuestOnly)]
        #[route("/login?:..query")]
        Login { query: LoginQuery },
    #[end_layout]
    /// Served by the server's WeChat handler before the app renders; listed for its access.
    #[route("/login/wechat-callback?:..query")]
    WechatCallback { query: String },
    #[route("/:..segments")]
    NotFound { segments: Vec<String> },
}

impl Route {
    /// The access rule of each route: exhaustive on purpose.
    pub fn access(&self) -> Access {
        match self {
            Route::Home {} => Access::Protected,
            Route::Login { .. } => Access::GuestOnly,
            // Anyone: the handler checks the one-time state, signed in or not.
            Route::WechatCallback { .. } => Access::Public,
            Route::NotFound { .. } => Access::Public,
        }
    }

    /// The login page, remembering where to come back to.
    pub fn login_from(from: &str) -> Self {
        Route::Login {
            query: LoginQuery {
                from: Some(sanitize_from(from)),
                error: None,
            },
        }
    }
}

/// Access for the JSON API under `/api/`: the sign-in calls and `/api/public/*` are open, the
/// rest needs a session.
pub fn api_access(path: &str) -> Access {
    if path.starts_with("/api/public/") || path.starts_with("/api/auth/") {
        Access::Public
    } else {
        Access::Protected
    }
}

/// The login page's query: `?from=<path>&error=<code>`.
///
/// The router hands us the whole query already percent-decoded, so a `from` that itself holds
/// `&` arrives split; pieces that are neither `from=` nor `error=` are joined back onto `from`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginQuery {
    pub from: Option<String>,
    /// A machine code set by a server-side redirect (e.g. a failed WeChat sign-in).
    pub error: Option<String>,
}

impl From<&str> for LoginQuery {
    fn from(query: &str) -> Self {
        let mut out = LoginQuery::default();
        for piece in query.split('&').filter(|p| !p.is_empty()) {
            if let Some(value) = piece.strip_prefix("from=") {
                out.from = Some(value.to_owned());
            } else if let Some(value) = piece.strip_prefix("error=") {
                let is_code = !value.is_empty()
                    && value.len() <= 64
                    && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                if is_code {
                    out.error = Some(value.to_owned());
                }
            } else if let Some(from) = out.from.as_mut() {
                from.push('&');
                from.push_str(piece);
            }
        }
        out
    }
}

impl fmt::Display for LoginQuery {
    /// Writes the decoded form; the router percent-encodes what it must around it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(from) = &self.from {
            write!(f, "from={}", encode_query_value(from))?;
            sep = "&";
        }
        if let Some(error) = &self.error {
            write!(f, "{sep}error={error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn every_route_has_the_access_it_should() {
        let cases = [
            ("/", Access::Protected),
            ("/login", Access::GuestOnly),
            ("/login?from=%2F", Access::GuestOnly),
            ("/login/wechat-callback?code=x&state=y", Access::Public),
            ("/nowhere", Access::Public),
            ("/assets/main.css", Access::Public),
        ];
        for (path, want) in cases {
            let route = Route::from_str(path).expect("the catch-all matches everything");
            assert_eq!(route.access(), want, "{path}");
        }
    }

    #[test]
    fn api_paths_are_protected_unless_listed() {
        assert_eq!(api_access("/api/public/health"), Access::Public);
        assert_eq!(api_access("/api/auth/sms/send"), Access::Public);
        assert_eq!(api_access("/api/profile"), Access::Protected);
        assert_eq!(api_access("/api/anything"), Access::Protected);
    }

    #[test]
    fn login_query_reassembles_a_split_from() {
        let q = LoginQuery::from("from=/?x=1&y=2&error=wechat_state");
        assert_eq!(q.from.as_deref(), Some("/?x=1&y=2"));
        assert_eq!(q.error.as_deref(), Some("wechat_state"));
        assert_eq!(LoginQuery::from(""), LoginQuery::default());
        assert_eq!(LoginQuery::from("error=<script>").error, None);
    }

    #[test]
    fn login_route_round_trips_through_its_url() {
        let route = Route::login_from("/?x=1&y=2");
        let url = route.to_string();
        assert_eq!(Route::from_str(&url).expect("parses"), route, "{url}");
    }
}
