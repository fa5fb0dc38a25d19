//! The return address after sign-in (`from`): one sanitiser, used by the server guard, the server
//! functions and the browser alike, so that every side agrees on what may be followed.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Longer return addresses are dropped in favour of `/`: nobody needs them, and they would make
/// the redirect header itself a risk.
pub const MAX_FROM_LEN: usize = 2048;

/// Where a person goes when `from` is missing or refused.
pub const HOME: &str = "/";

/// Everything but RFC 3986's unreserved characters is encoded in a query value.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Characters that may stand in a path we send back as-is in a `Location` header; anything else
/// (non-ASCII, spaces, quotes) is percent-encoded on the way out.
const LOCATION_UNSAFE: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'^');

/// Returns `from` if it is a same-origin path, else [`HOME`].
///
/// `from` must already be decoded exactly once (as a query parser does); this function never
/// decodes again, so `/%2F%2Fevil.example` stays a harmless path. A path survives only if it
/// starts with exactly one `/` (not `//`, not `/\`), and holds no backslash, no control character
/// and no scheme before its first `/`. The result is safe to put in a `Location` header.
pub fn sanitize_from(from: &str) -> String {
    let ok = from.len() <= MAX_FROM_LEN
        && from.starts_with('/')
        && !from[1..].starts_with(['/', '\\'])
        && !from.contains('\\')
        && !from.chars().any(char::is_control);
    if ok {
        encode_stray_percent(&utf8_percent_encode(from, LOCATION_UNSAFE).to_string())
    } else {
        HOME.to_owned()
    }
}

/// `%` not followed by two hex digits becomes `%25`, so the result is a well-formed URL.
fn encode_stray_percent(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    for (i, c) in path.char_indices() {
        let escape = c == '%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if escape {
            out.push_str("%25");
        } else {
            out.push(c);
        }
    }
    out
}

/// Encodes a value for use inside a query string (`/login?from=%2F`).
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The login page's address for someone who wanted `from`.
pub fn login_path_for(from: &str) -> String {
    format!("/login?from={}", encode_query_value(&sanitize_from(from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_paths_survive() {
        for path in [
            "/",
            "/?x=1",
            "/profile/settings?tab=2&x=%2F",
            "/a/b#frag",
            "/%2F%2Fevil",
        ] {
            assert_eq!(sanitize_from(path), path, "{path:?}");
        }
    }

    #[test]
    fn hostile_values_fall_back_home() {
        let long = format!("/{}", "a".repeat(8 * 1024));
        let cases = [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "/\r\nSet-Cookie:x=1",
            "/\nx",
            "/\u{0}x",
            "/a\\b",
            "evil.example",
            " /x",
            long.as_str(),
        ];
        for case in cases {
            assert_eq!(sanitize_from(case), HOME, "{case:?}");
        }
    }

    #[test]
    fn output_is_header_safe() {
        assert_eq!(sanitize_from("/页面?q=a b"), "/%E9%A1%B5%E9%9D%A2?q=a%20b");
        assert_eq!(sanitize_from("/\"<x>"), "/%22%3Cx%3E");
        assert_eq!(sanitize_from("/\u{FFFD}%A"), "/%EF%BF%BD%25A");
        assert_eq!(sanitize_from("/100%"), "/100%25");
    }

    #[test]
    fn login_path_encodes_the_return_address() {
        assert_eq!(login_path_for("/"), "/login?from=%2F");
        assert_eq!(
            login_path_for("/?x=1&y=2"),
            "/login?from=%2F%3Fx%3D1%26y%3D2"
        );
        assert_eq!(login_path_for("//evil.example"), "/login?from=%2F");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Strings built from the pieces open-redirect payloads are made of, and any string.
        fn from_values() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[/\\\\%:.?#@a-zA-Z0-9 \t\r\n\x00\x7f\u{3000}\u{ff0f}-]{0,40}",
                "(/|//|/\\\\|\\\\|https?:|javascript:|%2[fF]|%5[cC]|\t|\n)*[a-z.:/]{0,20}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            #[test]
            fn output_is_always_a_same_origin_path(from in from_values()) {
                let out = sanitize_from(&from);
                // What a browser makes of it, resolved against the app's own address.
                let base = url::Url::parse("https://app.example/login").expect("a URL");
                let resolved = base.join(&out).expect("the output is a valid relative URL");
                prop_assert_eq!(resolved.origin(), base.origin(), "{:?} -> {:?}", from, out);
                prop_assert!(out.starts_with('/') && !out.starts_with("//"));
                prop_assert!(out.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\'));
                prop_assert!(out.len() <= MAX_FROM_LEN * 3 + 2);
            }

            #[test]
            fn sanitising_twice_changes_nothing(from in from_values()) {
                let once = sanitize_from(&from);
                prop_assert_eq!(sanitize_from(&once), once.clone());
            }

            #[test]
            fn the_login_path_always_parses_back_to_a_safe_from(from in from_values()) {
                let login = login_path_for(&from);
                let url = url::Url::parse("https://app.example")
                    .and_then(|base| base.join(&login))
                    .expect("a URL");
                let back: Vec<_> = url.query_pairs().filter(|(k, _)| k == "from").collect();
                prop_assert_eq!(back.len(), 1);
                prop_assert_eq!(back[0].1.as_ref(), sanitize_from(&from));
            }
        }
    }
}
