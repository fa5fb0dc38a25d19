//! `spawn_app()`: a started app, its stub, and one method per thing a browser does.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use cloudbase_login::server::{build_state, router, Backend, Clock, Config, SessionDb};
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
    jar: Arc<reqwest::cookie::Jar>,
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
    let app = router(&server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("bound"));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("the app serves");
    });
    let (browser, jar) = new_browser();
    TestApp {
        address,
        browser,
        jar,
        stub,
        clock,
        _task: AbortOnDrop(task),
    }
}

fn new_browser() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
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
        // Every log line of the whole run is kept, so tests can prove what never appears in them.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,hyper=info,h2=info,reqwest=info,sqlx=warn,wiremock=info")
            .with_writer(|| LogBuffer)
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
        new_browser().0
    }
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
