//! Content-Security-Policy for the pages. The Dioxus page carries inline `<script>` blocks (the
//! loader of the WebAssembly client and the hydration data, which differs on every page) and an
//! inline `<style>`, so a fixed list of hashes cannot cover it. Each HTML answer instead gets a
//! fresh nonce: it is written into every `<script` and `<style` tag the server rendered, and the
//! policy allows only scripts and styles that carry it. Text a person controls (a nickname) is
//! escaped by the renderer and never forms a tag, so it cannot pick up the nonce.

use axum::body::{to_bytes, Body};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cloudbase::random_hex;

/// The largest page the nonce is written into. The app's pages are a few kilobytes; a page this
/// large would be a bug, and is refused rather than sent without its policy.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Random bytes in a nonce (128 bits, as CSP Level 3 asks).
const NONCE_BYTES: usize = 16;

/// For answers that are not pages (JSON, assets, redirects): nothing may run or frame them.
pub const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// What a page may load besides its own origin's files.
#[derive(Debug, Clone)]
pub struct PagePolicy {
    /// `img-src`: this origin, `data:` (the favicon), https (WeChat avatars), and the CloudBase
    /// stub's origin when it serves avatars over plain http.
    img_src: Arc<str>,
}

impl PagePolicy {
    /// `cloudbase` is the CloudBase base URL the app talks to.
    pub fn new(cloudbase: &url::Url) -> Self {
        let mut img_src = "'self' data: https:".to_owned();
        if cloudbase.scheme() == "http" {
            img_src.push(' ');
            img_src.push_str(&cloudbase.origin().ascii_serialization());
        }
        Self {
            img_src: img_src.into(),
        }
    }

    /// The policy of a page whose inline scripts and styles carry `nonce`.
    /// - scripts: this origin's files, the page's own nonce'd blocks, and compiling WebAssembly;
    /// - styles: this origin's files and the page's nonce'd `<style>`;
    /// - fetches: this origin only (server functions, and the dev server's reload socket);
    /// - no plugins, no `<base>` rewriting, forms post only here, and no framing at all.
    pub fn with_nonce(&self, nonce: &str) -> String {
        page_policy(nonce, &self.img_src)
    }
}

fn page_policy(nonce: &str, img_src: &str) -> String {
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; \
         img-src {img_src}; \
         connect-src 'self'; \
         object-src 'none'; \
         base-uri 'none'; \
         form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Adds the page policy to HTML answers (with the nonce written into the page), and the strict
/// policy to everything else.
pub async fn content_security_policy(
    State(policy): State<PagePolicy>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !is_html {
        return with_policy(response, NON_PAGE_POLICY);
    }
    let (mut parts, body) = response.into_parts();
    let page = match to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(page) => page,
        Err(err) => {
            tracing::error!(error = %err, limit = MAX_PAGE_BYTES, "a page could not be read to add its policy");
            return with_policy(
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "This page could not be shown.",
                )
                    .into_response(),
                NON_PAGE_POLICY,
            );
        }
    };
    let nonce = random_hex(NONCE_BYTES);
    let page = add_nonce(&String::from_utf8_lossy(&page), &nonce);
    parts.headers.remove(CONTENT_LENGTH);
    let response = Response::from_parts(parts, Body::from(page));
    with_policy(response, &policy.with_nonce(&nonce))
}

fn with_policy(mut response: Response, policy: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(policy) {
        response
            .headers_mut()
            .insert(CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Writes ` nonce="…"` into every `<script` and `<style` start tag.
fn add_nonce(page: &str, nonce: &str) -> String {
    let attribute = format!(" nonce=\"{nonce}\"");
    let mut out = String::with_capacity(page.len() + 8 * attribute.len());
    let mut rest = page;
    while let Some(at) = rest.find('<') {
        let (before, tag) = rest.split_at(at);
        out.push_str(before);
        let name_len = ["<script", "<style"]
            .into_iter()
            .find(|name| {
                tag.get(..name.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(name))
                    && tag[name.len()..].starts_with([' ', '>', '\t', '\n', '/'])
            })
            .map(str::len);
        match name_len {
            Some(len) => {
                out.push_str(&tag[..len]);
                out.push_str(&attribute);
                rest = &tag[len..];
            }
            None => {
                out.push('<');
                rest = &tag[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_and_style_tag_gets_the_nonce_and_nothing_else_does() {
        let page = "<head><style>a{}</style><SCRIPT type=\"module\">x()</SCRIPT></head>\
                    <body><p>&lt;script&gt;</p><scripted></scripted><script>\
                    window.x=1</script></body>";
        assert_eq!(
            add_nonce(page, "ab12"),
            "<head><style nonce=\"ab12\">a{}</style><SCRIPT nonce=\"ab12\" type=\"module\">x()</SCRIPT></head>\
             <body><p>&lt;script&gt;</p><scripted></scripted><script nonce=\"ab12\">\
             window.x=1</script></body>"
        );
    }

    #[test]
    fn the_page_policy_names_its_nonce_and_forbids_framing() {
        let stub = url::Url::parse("http://127.0.0.1:9400/").expect("a URL");
        let policy = PagePolicy::new(&stub).with_nonce("ab12");
        assert!(policy.contains("script-src 'self' 'nonce-ab12' 'wasm-unsafe-eval'"));
        assert!(policy.contains("img-src 'self' data: https: http://127.0.0.1:9400;"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        let real =
            url::Url::parse("https://env.ap-shanghai.tcb-api.tencentcloudapi.com/").expect("a URL");
        assert!(PagePolicy::new(&real)
            .with_nonce("ab12")
            .contains("img-src 'self' data: https:;"));
    }
}
