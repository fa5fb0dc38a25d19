//! `spawn_app()`: a started app, its stub, and one method per thing a browser does.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use cloudbase_login::server::{build_state, serve, Backend, Clock, Config, SessionDb};
use mock_cloudbase::MockCloudbase;
use reqwest::header::{HeaderMap, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

pub const PHONE: &str = "13800138000";
pub const OTHER_PHONE: &str = "13912345678";

pub struct TestApp {
    pub address: String,
    /// One browser: a cookie jar, no redirects followed.
    pub browser: reqwest::Client,
    jar: Arc<RecordingJar>,
    /// Every session id the app gave to any of this test's browsers.
    session_ids: Arc<Mutex<Vec<String>>>,
    pub stub: MockCloudbase,
    pub clock: Clock,
    _task: AbortOnDrop,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The app against a fresh stub, sessions in memory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with a configuration the test adjusts.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let stub = MockCloudbase::start().await;
    spawn_app_on(stub, adjust).await
}

/// The app against a given stub.
pub async fn spawn_app_on(stub: MockCloudbase, adjust: impl FnOnce(&mut Config)) -> TestApp {
    init();
    let mut config = Config::for_backend(Backend::Remote {
        api_url: stub.uri().parse().expect("the stub's address is a URL"),
        env_id: stub.env_id(),
    });
    config.cloudbase_timeout = Duration::from_secs(2);
    adjust(&mut config);
    let clock = Clock::default();
    let server = build_state(config, clock.clone())
        .await
        .expect("the app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("bound"));
    let task = tokio::spawn(async move {
        serve(listener, &server, std::future::pending())
            .await
            .expect("the app serves");
    });
    let session_ids = Arc::default();
    let (browser, jar) = new_browser(&session_ids);
    TestApp {
        address,
        browser,
        jar,
        session_ids,
        stub,
        clock,
        _task: AbortOnDrop(task),
    }
}

fn new_browser(session_ids: &Arc<Mutex<Vec<String>>>) -> (reqwest::Client, Arc<RecordingJar>) {
    let jar = Arc::new(RecordingJar {
        jar: reqwest::cookie::Jar::default(),
        session_ids: session_ids.clone(),
    });
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a test client");
    (client, jar)
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // The Dioxus router serves a public folder; HTTP tests need only the server-rendered
        // pages, browser tests name the built bundle's folder themselves.
        if std::env::var_os("DIOXUS_PUBLIC_PATH").is_none() {
            let public = std::env::temp_dir().join("cloudbase-login-test-public");
            std::fs::create_dir_all(&public).expect("a temp folder");
            std::fs::write(
                public.join("index.html"),
                cloudbase_login::app::BARE_INDEX_HTML,
            )
            .expect("a page template");
            std::env::set_var("DIOXUS_PUBLIC_PATH", &public);
        }
        // Every log line of the whole run is kept, so tests can prove what never appears in them
        // (without timestamps, whose digits would only blur the search).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                "debug,hyper=info,h2=info,reqwest=info,sqlx=warn,wiremock=info,cookie_store=info",
            )
            .with_writer(|| LogBuffer)
            .without_time()
            .with_ansi(false)
            .try_init();
    });
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Collects log output; echoes it to stderr when `TEST_LOG` is set.
struct LogBuffer;

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged so far in this test run, by every test.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// A temporary SQLite file path, removed with the returned guard.
pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("sessions.db");
    (dir, path)
}

pub fn sqlite(path: &std::path::Path) -> SessionDb {
    SessionDb::File(path.to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.browser
            .get(self.url(path))
            .send()
            .await
            .expect("the app answers")
    }

    /// A same-origin POST with a JSON body, as the browser's client sends it.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.browser
            .post(self.url(path))
            .header(ORIGIN, &self.address)
            .json(body)
            .send()
            .await
            .expect("the app answers")
    }

    pub async fn send_code(&self, phone: &str) -> Response {
        self.post_json("/api/auth/sms/send", &json!({ "phone": phone }))
            .await
    }

    pub async fn verify(&self, phone: &str, code: &str, from: Option<&str>) -> Response {
        self.post_json(
            "/api/auth/sms/verify",
            &json!({ "phone": phone, "code": code, "from": from }),
        )
        .await
    }

    pub async fn sign_out(&self) -> Response {
        self.post_json("/api/auth/signout", &json!({})).await
    }

    /// The code the stub last texted to `phone`.
    pub fn code_for(&self, phone: &str) -> String {
        self.stub
            .sms_code_for(phone)
            .expect("the stub sent a code to this number")
    }

    /// The whole SMS sign-in; returns the verify answer.
    pub async fn sign_in(&self, phone: &str) -> Response {
        let sent = self.send_code(phone).await;
        assert_eq!(
            sent.status(),
            StatusCode::OK,
            "send: {}",
            sent.text().await.unwrap_or_default()
        );
        let code = self.code_for(phone);
        let verified = self.verify(phone, &code, None).await;
        assert_eq!(verified.status(), StatusCode::OK);
        verified
    }

    /// Moves the app's clock and the stub's clock forward together.
    pub fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
        self.stub.advance_clock(by);
    }

    /// The session cookie this browser holds, if any.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.address.parse().expect("a URL");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("cloudbase_session="))
            .map(str::to_owned)
    }

    /// Another browser on the same app: an empty cookie jar.
    pub fn other_browser(&self) -> reqwest::Client {
        new_browser(&self.session_ids).0
    }
}

/// A browser's cookie jar that also notes every session id it is given, so that the logs can be
/// searched for them.
struct RecordingJar {
    jar: reqwest::cookie::Jar,
    session_ids: Arc<Mutex<Vec<String>>>,
}

impl reqwest::cookie::CookieStore for RecordingJar {
    fn set_cookies(
        &self,
        cookie_headers: &mut dyn Iterator<Item = &reqwest::header::HeaderValue>,
        url: &url::Url,
    ) {
        let headers: Vec<_> = cookie_headers.cloned().collect();
        {
            let mut ids = self.session_ids.lock().unwrap_or_else(|e| e.into_inner());
            for header in &headers {
                let id = header
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("cloudbase_session="))
                    .and_then(|v| v.split(';').next())
                    .filter(|id| !id.is_empty());
                if let Some(id) = id {
                    ids.push(id.to_owned());
                }
            }
        }
        self.jar.set_cookies(&mut headers.iter(), url);
    }

    fn cookies(&self, url: &url::Url) -> Option<reqwest::header::HeaderValue> {
        self.jar.cookies(url)
    }
}

impl TestApp {
    /// The secrets this test's app handled: session ids, and what the app sent to CloudBase
    /// (codes, verification and provider tokens, access and refresh tokens, OAuth states, full
    /// phone numbers).
    fn secrets(&self) -> Vec<String> {
        let mut secrets = self
            .session_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for call in self.stub.calls() {
            if let Some(auth) = call.header("authorization") {
                secrets.push(auth.trim_start_matches("Bearer ").to_owned());
            }
            for (key, value) in
                url::form_urlencoded::parse(call.query.as_deref().unwrap_or("").as_bytes())
            {
                if matches!(key.as_ref(), "state" | "code") {
                    secrets.push(value.into_owned());
                }
            }
            if let Some(body) = call.body.as_object() {
                for (key, value) in body {
                    let secret = matches!(
                        key.as_str(),
                        "verification_code"
                            | "verification_token"
                            | "refresh_token"
                            | "access_token"
                            | "provider_token"
                            | "provider_code"
                            | "code"
                            | "phone_number"
                            | "token"
                    );
                    if let (true, Some(value)) = (secret, value.as_str()) {
                        secrets.push(value.to_owned());
                    }
                }
            }
        }
        secrets.retain(|s| s.len() >= 6);
        secrets.sort();
        secrets.dedup();
        secrets
    }
}

/// At the end of every test, the whole run's logs so far are searched for this test's secrets,
/// and for anything shaped like a token or a full mainland phone number.
impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let logs = logs();
        for secret in self.secrets() {
            // A phone number in its wire form leaks as its 11 national digits too.
            let needle = secret.strip_prefix("+86 ").unwrap_or(&secret);
            if let Some(line) = logs.lines().find(|line| contains_standalone(line, needle)) {
                panic!(
                    "a secret ({}…) is in the logs: {}",
                    needle.chars().take(3).collect::<String>(),
                    line.replace(needle, "<secret>")
                );
            }
        }
        if let Some(line) = logs.lines().find(|line| leaks_by_shape(line)) {
            panic!("a log line holds a token or a full phone number: {line}");
        }
    }
}

/// `needle` occurs in `haystack` not as part of a longer run of digits (a short numeric code
/// inside a longer number is no leak).
fn contains_standalone(haystack: &str, needle: &str) -> bool {
    let digits = needle.bytes().all(|b| b.is_ascii_digit());
    haystack.match_indices(needle).any(|(at, _)| {
        if !digits {
            return true;
        }
        let before = haystack[..at].bytes().next_back();
        let after = haystack[at + needle.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

/// A JWT (`eyJ…` with a dot) or eleven digits standing alone (not inside a longer word, such as
/// a hex id) that form a mainland mobile number.
fn leaks_by_shape(line: &str) -> bool {
    let jwt = line.match_indices("eyJ").any(|(at, _)| {
        let rest = &line[at..];
        let run = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        run > 20 && rest[..run].contains('.')
    });
    let phone = line.split(|c: char| !c.is_ascii_alphanumeric()).any(|run| {
        run.len() == 11 && run.starts_with('1') && (b'3'..=b'9').contains(&run.as_bytes()[1])
    });
    jwt || phone
}

/// Every `Set-Cookie` for the session cookie in a response.
pub fn session_set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("cloudbase_session="))
        .map(str::to_owned)
        .collect()
}

/// The seconds a `Retry-After` header asks for; the test fails without one.
pub fn retry_after(response: &Response) -> u64 {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in seconds")
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The JSON error a failed server function answers with: our `ApiError` is in `data` (Dioxus'
/// envelope) or at the top level (the guard's answers).
pub async fn api_error(response: Response) -> Value {
    let body: Value = response.json().await.expect("a JSON error body");
    match body.get("data") {
        Some(data) if data.is_object() => data.clone(),
        _ => body,
    }
}

impl TestApp {
    /// `GET /api/auth/wechat/start?from=…` in this browser; returns the QR page's address.
    pub async fn start_wechat(&self, from: &str) -> String {
        let path = format!("/api/auth/wechat/start?from={}", urlencode(from));
        let answer = self.get(&path).await;
        assert_eq!(answer.status(), StatusCode::FOUND);
        location(&answer)
    }

    /// Opens the stub's QR page and presses Confirm or Cancel; returns where WeChat sends the
    /// browser back (the app's callback URL).
    pub async fn press_on_qr_page(&self, qr_page: &str, button: &str) -> String {
        let html = self
            .other_browser()
            .get(qr_page)
            .send()
            .await
            .expect("the QR page")
            .text()
            .await
            .expect("text");
        let marker = format!("id=\"{button}\"");
        let tag = html
            .split(&marker)
            .nth(1)
            .expect("the button is on the page");
        let href = tag
            .split("href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the button is a link")
            .replace("&amp;", "&");
        let answer = self
            .other_browser()
            .get(format!("{}{}", self.stub.uri(), href))
            .send()
            .await
            .expect("the stub answers");
        assert_eq!(answer.status(), StatusCode::FOUND);
        location(&answer)
    }

    /// The whole WeChat sign-in in this browser; returns the callback's answer.
    pub async fn sign_in_with_wechat(&self, from: &str) -> Response {
        let qr = self.start_wechat(from).await;
        let callback = self.press_on_qr_page(&qr, "confirm").await;
        self.browser
            .get(callback)
            .send()
            .await
            .expect("the app answers")
    }
}

pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
