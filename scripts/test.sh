#!/usr/bin/env bash
# Runs every check and test: formatting, lints (server and browser builds), the browser build's
# type check, the stub's tests, and the app's HTTP tests against a started app and stub.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

say "cargo fmt --check"
cargo fmt --all --check

say "clippy (no features, server, browser)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --features server -- -D warnings
cargo clippy --target wasm32-unknown-unknown --features web -- -D warnings

say "tests"
cargo test --workspace --features server
