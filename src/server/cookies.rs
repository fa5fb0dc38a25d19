//! Tidies the `Cookie` header before the session layer reads it. The cookie parser underneath
//! gives up on a whole header for one bad pair, and takes the last of two cookies with our name;
//! either would make a signed-in person look signed out.

use std::str::FromStr;

use axum::extract::{Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

use super::session::{Store, COOKIE_NAME};

/// The most session cookies of ours looked up in the store for one request. A browser holds one;
/// a second can come from a sibling site that set one for a narrower path.
pub const MAX_SESSION_IDS: usize = 4;

/// Keeps the pairs that are printable ASCII, and of our session cookies the first whose id is a
/// live session (else the first that looks like a session id: 22 characters of URL-safe base64).
/// A session cookie that was dropped as malformed is cleared in the browser, as the session
/// layer clears unknown ids.
pub async fn tidy_cookies(
    State(store): State<Store>,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.headers().contains_key(COOKIE) {
        return next.run(request).await;
    }
    let tidied = tidy(
        request
            .headers()
            .get_all(COOKIE)
            .iter()
            .map(HeaderValue::as_bytes),
    );
    let id = match tidied.ids.as_slice() {
        [] => None,
        [only] => Some(only.as_str()),
        several => Some(first_live(&store, several).await.unwrap_or(&several[0])),
    };
    let headers = request.headers_mut();
    headers.remove(COOKIE);
    if let Some(value) = tidied
        .header(id)
        .and_then(|v| HeaderValue::from_bytes(&v).ok())
    {
        headers.insert(COOKIE, value);
    }
    let mut response = next.run(request).await;
    let prefix = format!("{COOKIE_NAME}=");
    let sets_ours = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(prefix.as_bytes()));
    if tidied.dropped_session && !sets_ours {
        let removal = format!("{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&removal) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The first of `ids` that names a live session in the store.
async fn first_live<'a>(store: &Store, ids: &'a [String]) -> Option<&'a str> {
    for id in ids {
        let Ok(parsed) = Id::from_str(id) else {
            continue;
        };
        if let Ok(Some(_)) = store.load(&parsed).await {
            return Some(id);
        }
    }
    None
}

struct Tidied {
    /// The well-formed pairs that are not ours, in order.
    others: Vec<Vec<u8>>,
    /// Our well-formed session ids, in order (at most [`MAX_SESSION_IDS`]).
    ids: Vec<String>,
    /// A session cookie was sent, and none of them was well formed.
    dropped_session: bool,
}

impl Tidied {
    /// The header the session layer is to read: the other pairs, then our cookie with `id`.
    fn header(&self, id: Option<&str>) -> Option<Vec<u8>> {
        let ours = id.map(|id| format!("{COOKIE_NAME}={id}").into_bytes());
        let pairs: Vec<&[u8]> = self
            .others
            .iter()
            .map(Vec::as_slice)
            .chain(ours.as_deref())
            .collect();
        (!pairs.is_empty()).then(|| pairs.join(&b"; "[..]))
    }
}

fn tidy<'a>(values: impl Iterator<Item = &'a [u8]>) -> Tidied {
    let prefix = format!("{COOKIE_NAME}=");
    let mut others = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut saw_session = false;
    for value in values {
        for pair in value.split(|b| *b == b';').map(<[u8]>::trim_ascii) {
            if pair.starts_with(prefix.as_bytes()) {
                saw_session = true;
            }
            if pair.is_empty() || !pair.iter().all(|b| (0x20..0x7f).contains(b)) {
                continue;
            }
            match pair.strip_prefix(prefix.as_bytes()) {
                Some(id) if looks_like_id(id) => {
                    let id = String::from_utf8_lossy(id).into_owned();
                    if ids.len() < MAX_SESSION_IDS && !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                Some(_) => {}
                None => others.push(pair.to_vec()),
            }
        }
    }
    Tidied {
        dropped_session: saw_session && ids.is_empty(),
        others,
        ids,
    }
}

fn looks_like_id(id: &[u8]) -> bool {
    id.len() == 22
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header as tidied when the store knows none of the ids.
    fn run(values: &[&[u8]]) -> Option<String> {
        let tidied = tidy(values.iter().copied());
        tidied
            .header(tidied.ids.first().map(String::as_str))
            .map(|v| String::from_utf8(v).expect("ASCII"))
    }

    #[test]
    fn bad_pairs_are_dropped_and_ours_survives() {
        let good = "cloudbase_session=AAAAAAAAAAAAAAAAAAAAAA";
        let with_bad = format!("x=\u{ff}; {good}");
        assert_eq!(
            run(&[b"x=\xff\xfe; cloudbase_session=AAAAAAAAAAAAAAAAAAAAAA"]).as_deref(),
            Some(good)
        );
        assert!(run(&[with_bad.as_bytes()]).is_some_and(|v| v.ends_with(good)));
        assert_eq!(run(&[b"\xff"]), None);
    }

    #[test]
    fn of_two_session_cookies_the_first_well_formed_one_wins() {
        let good = "cloudbase_session=AAAAAAAAAAAAAAAAAAAAAA";
        for header in [
            format!("cloudbase_session=garbage; {good}"),
            format!("{good}; cloudbase_session=garbage"),
            format!("{good}; cloudbase_session=BBBBBBBBBBBBBBBBBBBBBB"),
        ] {
            assert_eq!(run(&[header.as_bytes()]).as_deref(), Some(good), "{header}");
        }
        assert_eq!(run(&[b"a=1; b=2"]).as_deref(), Some("a=1; b=2"));
        assert!(tidy([b"cloudbase_session=garbage".as_slice()].into_iter()).dropped_session);
        assert!(!tidy([good.as_bytes()].into_iter()).dropped_session);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Cookie headers made of our name, ids of the right and wrong shapes, separators and
        /// stray bytes, or any bytes at all.
        fn cookie_header() -> impl Strategy<Value = Vec<u8>> {
            let pair = prop_oneof![
                "cloudbase_session=[A-Za-z0-9_-]{22}".prop_map(String::into_bytes),
                "cloudbase_session=[A-Za-z0-9_=;,\\- ]{0,30}".prop_map(String::into_bytes),
                "[a-z]{1,8}=[ -~]{0,12}".prop_map(String::into_bytes),
                proptest::collection::vec(any::<u8>(), 0..16),
            ];
            proptest::collection::vec(pair, 0..6).prop_map(|pairs| pairs.join(&b"; "[..]))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            #[test]
            fn what_reaches_the_session_layer_is_clean(
                headers in proptest::collection::vec(cookie_header(), 0..3),
            ) {
                let tidied = tidy(headers.iter().map(Vec::as_slice));
                let prefix = format!("{COOKIE_NAME}=");
                prop_assert!(tidied.ids.len() <= MAX_SESSION_IDS);
                // Whichever id the store picks (the last is as good a test as any).
                let Some(header) = tidied.header(tidied.ids.last().map(String::as_str)) else {
                    return Ok(());
                };
                // A valid header value: printable ASCII only.
                prop_assert!(HeaderValue::from_bytes(&header).is_ok());
                prop_assert!(header.iter().all(|b| (0x20..0x7f).contains(b)));
                let text = String::from_utf8(header).expect("ASCII");
                let ours: Vec<&str> = text
                    .split("; ")
                    .filter_map(|pair| pair.strip_prefix(prefix.as_str()))
                    .collect();
                prop_assert!(ours.len() <= 1, "{}", text);
                for id in ours {
                    prop_assert!(looks_like_id(id.as_bytes()), "{}", text);
                }
            }
        }
    }
}
