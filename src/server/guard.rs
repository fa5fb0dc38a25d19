//! The server half of the route guard: an axum layer around the whole app that reads
//! [`Route::access`] (and [`api_access`] for the JSON API) and
//! - sends people who are not signed in from protected pages to `/login?from=…` (302),
//! - answers API calls without a session with 401 JSON, never a redirect,
//! - sends signed-in people away from guest-only pages (302 to `/`),
//! - refuses state-changing calls from other origins (403 JSON),
//! - marks every answer that depends on the session `Cache-Control: private, no-store`,
//! - gives every 429 a `Retry-After` header with the wait its JSON body names,
//! - tells the handlers the client's address ([`ClientAddress`]) for the per-address limits.
//!
//! Assets and public routes pass untouched. Server functions check the session again themselves.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, HOST, LOCATION, ORIGIN, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::flows;
use super::state::AppState;
use crate::auth::{login_path_for, ApiError, ErrorCode, HOME};
use crate::route::{api_access, Access, Route};

/// What a request is, as far as the guard cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Api(Access),
    Page(Access),
}

/// The one spelling of a page path that both the guard and the renderer read alike, when `path`
/// is another spelling of it: escapes of plain characters decoded (`/%6Cogin`, `/login%2F`),
/// doubled slashes collapsed (`//`, `/login//x`), no trailing slash (`/login/`). `None` when
/// `path` is already canonical, or when decoding would give characters that have no plain
/// spelling in a path (`%20`, `%3F`, non-ASCII): such a path stays as it is, an unknown page.
/// Without this, the router (which ignores a trailing slash) and the guard could take one URL
/// for two different pages.
fn canonical_page_path(path: &str) -> Option<String> {
    let odd = path.contains('%') || path.contains("//") || (path.len() > 1 && path.ends_with('/'));
    if !odd {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || "/-._~!$&'()*+,;=:@".contains(c);
    if !decoded.chars().all(plain) {
        return None;
    }
    let mut canonical = String::with_capacity(decoded.len());
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        canonical.push('/');
        canonical.push_str(segment);
    }
    if canonical.is_empty() {
        canonical.push('/');
    }
    (canonical != path).then_some(canonical)
}

fn classify(method: &Method, path: &str, path_and_query: &str) -> Target {
    if path.starts_with("/api/") {
        return Target::Api(api_access(path));
    }
    if method != Method::GET && method != Method::HEAD {
        return Target::Page(Access::Public);
    }
    // Unknown paths (assets included) parse as the public catch-all route.
    let access = Route::from_str(path_and_query)
        .map(|route| route.access())
        .unwrap_or(Access::Public);
    Target::Page(access)
}

/// The address a request came from, as far as the app can tell: the connection's peer, or with
/// `TRUST_PROXY=1` the last `X-Forwarded-For` entry. `None` when neither is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    fn of(app: &AppState, request: &Request) -> Self {
        if app.config.trust_proxy {
            return Self(last_forwarded_for(request.headers()));
        }
        Self(
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
        )
    }
}

/// The last address in `X-Forwarded-For`: the one the trusted proxy itself added.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str()
        .ok()?
        .rsplit(',')
        .next()
        .and_then(|a| a.trim().parse().ok())
}

/// The largest error body read to find its wait (our JSON errors are a few hundred bytes).
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn guard(
    State(app): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let client = ClientAddress::of(&app, &request);
    request.extensions_mut().insert(client);
    let path = request.uri().path().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );

    if unsafe_method && !is_same_origin(&app, request.headers()) {
        tracing::info!(path = %path, "cross-origin state-changing request refused");
        return crate::server::json_error(&ApiError::new(
            ErrorCode::Forbidden,
            "This request did not come from this site, so it was refused.",
        ));
    }

    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    if is_read && !path.starts_with("/api/") {
        if let Some(canonical) = canonical_page_path(&path) {
            let location = match request.uri().query() {
                Some(query) => format!("{canonical}?{query}"),
                None => canonical,
            };
            return redirect_with(StatusCode::PERMANENT_REDIRECT, &location);
        }
    }

    let target = classify(request.method(), &path, &path_and_query);
    let response = match target {
        Target::Page(Access::Public) => return next.run(request).await,
        Target::Api(Access::Public) => json_api(next.run(request).await).await,
        Target::Api(Access::Protected) | Target::Page(Access::Protected) => {
            match flows::current_user(&app, &session).await {
                Ok(Some(_)) if matches!(target, Target::Api(_)) => {
                    json_api(next.run(request).await).await
                }
                Ok(Some(_)) => next.run(request).await,
                Ok(None) if matches!(target, Target::Api(_)) => {
                    crate::server::json_error(&ApiError::unauthenticated())
                }
                Ok(None) => redirect(&login_path_for(&path_and_query)),
                Err(err) => crate::server::json_error(&err),
            }
        }
        Target::Api(Access::GuestOnly) | Target::Page(Access::GuestOnly) => {
            match flows::current_user(&app, &session).await {
                Ok(Some(_)) => redirect(HOME),
                Ok(None) => next.run(request).await,
                Err(err) => crate::server::json_error(&err),
            }
        }
    };
    private(response)
}

/// `Origin` must be this app's origin; a request without one must say `Sec-Fetch-Site:
/// same-origin`. Without a configured `PUBLIC_URL`, the origin is the one the `Host` header names.
fn is_same_origin(app: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin");
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    match app.config.public_origin() {
        Some(expected) => origin == expected || same_loopback_origin(origin, &expected),
        None => {
            let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
                return false;
            };
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|rest| rest == host)
        }
    }
}

/// `http://localhost:8080` and `http://127.0.0.1:8080` are one machine talking to itself: on
/// loopback, either name is accepted for the other.
fn same_loopback_origin(origin: &str, expected: &str) -> bool {
    let parse = |s: &str| url::Url::parse(s).ok();
    let (Some(a), Some(b)) = (parse(origin), parse(expected)) else {
        return false;
    };
    let loopback = |u: &url::Url| matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    loopback(&a)
        && loopback(&b)
        && a.scheme() == b.scheme()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn redirect(location: &str) -> Response {
    redirect_with(StatusCode::FOUND, location)
}

fn redirect_with(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(LOCATION, value);
        }
        Err(_) => {
            response
                .headers_mut()
                .insert(LOCATION, HeaderValue::from_static(HOME));
        }
    }
    response
}

/// The API answers in JSON: an unknown path (which the app would render as its HTML 404 page) or
/// a wrong method (an empty 405) gets our error body instead, and a 429 says its wait in
/// `Retry-After` too.
async fn json_api(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    match response.status() {
        StatusCode::NOT_FOUND if !is_json => crate::server::json_error(&ApiError::new(
            ErrorCode::NotFound,
            "There is no such API call.",
        )),
        StatusCode::METHOD_NOT_ALLOWED if !is_json => {
            let allow = response.headers().get(axum::http::header::ALLOW).cloned();
            let mut answer = crate::server::json_error(&ApiError::new(
                ErrorCode::MethodNotAllowed,
                "This API call does not take that method.",
            ));
            if let Some(allow) = allow {
                answer
                    .headers_mut()
                    .insert(axum::http::header::ALLOW, allow);
            }
            answer
        }
        StatusCode::TOO_MANY_REQUESTS if is_json => with_retry_after(response).await,
        _ => response,
    }
}

/// Copies `retry_after_secs` from a 429's JSON body (ours, or inside Dioxus' error envelope)
/// into `Retry-After`.
async fn with_retry_after(response: Response) -> Response {
    if response.headers().contains_key(RETRY_AFTER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return crate::server::json_error(&ApiError::too_many_requests(60));
    };
    let wait = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|body| {
            let data = body.get("data").unwrap_or(&body);
            data.get("retry_after_secs")
                .or_else(|| body.get("retry_after_secs"))
                .and_then(serde_json::Value::as_u64)
        });
    if let Some(wait) = wait {
        parts.headers.insert(RETRY_AFTER, HeaderValue::from(wait));
    }
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// Answers that depend on the session must not be stored by browsers or proxies.
fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_stand_for_each_other_only_on_loopback() {
        let expected = "http://127.0.0.1:8080";
        assert!(same_loopback_origin("http://localhost:8080", expected));
        assert!(!same_loopback_origin("http://localhost:8081", expected));
        assert!(!same_loopback_origin("https://localhost:8080", expected));
        assert!(!same_loopback_origin("http://evil.example:8080", expected));
        assert!(!same_loopback_origin(
            "http://localhost",
            "https://login.example.com"
        ));
    }

    #[test]
    fn other_spellings_of_a_page_path_have_one_canonical_form() {
        let cases = [
            ("/", None),
            ("/login", None),
            ("/login/wechat-callback", None),
            ("/nowhere", None),
            ("//", Some("/")),
            ("///", Some("/")),
            ("//login", Some("/login")),
            ("//evil.example", Some("/evil.example")),
            ("/login/", Some("/login")),
            ("/login//", Some("/login")),
            ("/login%2F", Some("/login")),
            ("/%6Cogin", Some("/login")),
            ("/login/wechat-callback/", Some("/login/wechat-callback")),
            ("/%2F%2Fevil.example", Some("/evil.example")),
            // No plain spelling: left alone, an unknown page.
            ("/caf%C3%A9/", None),
            ("/a%20b/", None),
            ("/a%3Fb", None),
            ("/%5Cevil.example/", None),
            ("/%ZZ/", None),
            ("/%FF/", None),
        ];
        for (path, want) in cases {
            assert_eq!(canonical_page_path(path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn requests_are_classified_by_the_route_table() {
        let get = Method::GET;
        assert_eq!(classify(&get, "/", "/"), Target::Page(Access::Protected));
        assert_eq!(
            classify(&get, "/login", "/login?from=%2F"),
            Target::Page(Access::GuestOnly)
        );
        assert_eq!(
            classify(&get, "/assets/main.css", "/assets/main.css"),
            Target::Page(Access::Public)
        );
        assert_eq!(
            classify(&get, "/api/profile", "/api/profile"),
            Target::Api(Access::Protected)
        );
        assert_eq!(
            classify(&Method::POST, "/", "/"),
            Target::Page(Access::Public)
        );
    }
}
