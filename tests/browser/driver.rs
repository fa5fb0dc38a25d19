//! A headless Chromium per test, driven over WebDriver by chromedriver, that never reaches for
//! the network; and the app it looks at.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// How long to wait for something to appear on a page.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The app (serving the built web bundle) and a fresh browser.
pub async fn start() -> (TestApp, Browser) {
    static PUBLIC: Once = Once::new();
    PUBLIC.call_once(|| {
        let dir = std::env::var("BROWSER_TEST_PUBLIC_DIR").expect(
            "BROWSER_TEST_PUBLIC_DIR must name the built web bundle's public folder; \
             run the browser tests through scripts/test.sh",
        );
        assert!(
            PathBuf::from(&dir).join("index.html").exists(),
            "no index.html in {dir}: build the bundle with `dx build --platform web`"
        );
        std::env::set_var("DIOXUS_PUBLIC_PATH", dir);
    });
    let app = spawn_app().await;
    let browser = Browser::launch().await;
    (app, browser)
}

impl Browser {
    async fn launch() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("bound").port()
        };
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium-driver)");
        let profile = tempfile::tempdir().expect("a profile folder");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("built as an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            // chromedriver is on loopback: plain HTTP, no TLS stack needed.
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(err) if started.elapsed() < WAIT => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => panic!("chromedriver did not start a browser: {err}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    /// Waits until an element is on the page.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("{css} never appeared: {err}"))
    }

    /// Waits until `css` holds text containing `needle`; returns the whole text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                }
            }
            assert!(
                started.elapsed() < WAIT,
                "{css} never showed {needle:?}; page: {}",
                self.client.source().await.unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the address bar shows `path` (path and query) on `app`.
    pub async fn wait_for_path(&self, app: &TestApp, path: &str) {
        let want = app.url(path);
        let started = Instant::now();
        loop {
            let now = self.client.current_url().await.expect("a URL").to_string();
            if now == want {
                return;
            }
            assert!(started.elapsed() < WAIT, "stayed on {now}, expected {want}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's client has hydrated (its buttons come alive).
    pub async fn wait_until_enabled(&self, css: &str) {
        let started = Instant::now();
        loop {
            let element = self.find(css).await;
            if element.is_enabled().await.unwrap_or(false) {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "{css} stayed disabled: the client never hydrated"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into a field, again if a re-render of the page put the old value back
    /// between clearing and typing.
    pub async fn type_into(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            let field = self.find(css).await;
            field.clear().await.expect("cleared");
            field.send_keys(text).await.expect("typed");
            let value = field
                .prop("value")
                .await
                .expect("a value")
                .unwrap_or_default();
            if value == text {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "{css} holds {value:?}, not {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("clicked");
    }

    /// Saves a screenshot under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("saved");
    }

    /// Every console message since the last call (all levels: Dioxus reports hydration
    /// mismatches with `console.log`).
    pub async fn console(&self) -> Vec<Value> {
        match self.client.issue_cmd(BrowserLog).await {
            Ok(Value::Array(entries)) => entries,
            other => panic!("the browser log could not be read: {other:?}"),
        }
    }

    /// Fails on any console message at warning level or above, and on hydration complaints.
    pub async fn assert_clean_console(&self, page: &str) {
        self.assert_console_clean_but(page, &[]).await;
    }

    /// Like [`Self::assert_clean_console`], but lets through the network lines Chrome writes for
    /// API answers the test provoked on purpose (`"/api/auth/sms/verify - … 400"`): a typed
    /// error travels with its HTTP status, and Chrome logs every non-2xx fetch.
    pub async fn assert_console_clean_but(&self, page: &str, expected: &[(&str, u16)]) {
        let bad: Vec<Value> = self
            .console()
            .await
            .into_iter()
            .filter(|entry| {
                let level = entry["level"].as_str().unwrap_or_default();
                let message = entry["message"].as_str().unwrap_or_default();
                let provoked = entry["source"] == "network"
                    && expected.iter().any(|(path, status)| {
                        message.contains(&format!("{path} - "))
                            && message.contains(&format!("status of {status} "))
                    });
                let lower = message.to_lowercase();
                !provoked
                    && (matches!(level, "SEVERE" | "WARNING")
                        || lower.contains("hydrat")
                        || lower.contains("error deserializing"))
            })
            .collect();
        assert!(bad.is_empty(), "console errors on {page}: {bad:#?}");
    }
}

/// chromedriver's `POST /session/{id}/se/log` with `{"type":"browser"}`.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}
