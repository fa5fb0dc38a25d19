#!/usr/bin/env bash
# Runs every check and test: formatting; lints of the server, the browser client and the tests;
# the stub's tests; the app's HTTP tests against a started app and stub; then the release web
# bundle built with the Dioxus CLI and the browser tests in headless Chromium against it.
# Installs what is missing first (wasm target, Dioxus CLI, wasm-bindgen, esbuild, wasm-opt,
# Chromium and chromedriver).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "installing Chromium and chromedriver from Debian"
  as_root apt-get update -qq
  as_root apt-get install -y -qq chromium chromium-driver >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
. scripts/tools.sh

say "cargo fmt --check"
cargo fmt --all --check

say "clippy: no features; server with all tests; browser client"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --features server,browser-tests -- -D warnings
cargo clippy --target wasm32-unknown-unknown --features web -- -D warnings

say "unit and HTTP tests"
cargo test --workspace --features server

say "release web bundle"
dx build --platform web --release
public="$PWD/target/dx/cloudbase-login/release/web/public"

say "browser tests (headless Chromium; screenshots in target/screenshots/)"
BROWSER_TEST_PUBLIC_DIR="$public" \
  cargo test --features server,browser-tests --test browser -- --test-threads=1
