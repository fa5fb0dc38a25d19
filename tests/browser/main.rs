//! Both sign-in flows in headless Chromium, against the real wasm bundle built by the Dioxus
//! CLI, served by the app on a free port with a stub the test controls.
//!
//! Run through `scripts/test.sh`, which builds the bundle and sets `BROWSER_TEST_PUBLIC_DIR`.
//! Screenshots land in `target/screenshots/`.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod driver;
mod flows;
