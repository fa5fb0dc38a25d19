#!/usr/bin/env bash
# Installs, when missing, what building the web client needs, from crates.io and the npm
# registry only: the wasm32 target, the Dioxus CLI at the dioxus version in Cargo.lock, the
# wasm-bindgen CLI at the wasm-bindgen version in Cargo.lock, esbuild and wasm-opt.
# Source it (`. scripts/tools.sh`) to get PATH and the Dioxus CLI's offline settings.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${CLOUDBASE_LOGIN_TOOLS:-$HOME/.cache/cloudbase-login/tools}
ESBUILD_VERSION=0.27.3   # the version dx 0.7.10 expects
BINARYEN_VERSION=129.0.0 # Debian's binaryen is too old for the wasm rustc emits
mkdir -p "$tools/bin"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The version of a package as Cargo.lock pins it.
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' \
    "$repo/Cargo.lock"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v npm >/dev/null; then
  say "installing Node.js and npm from Debian (for esbuild and wasm-opt)"
  as_root apt-get update -qq
  as_root apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -f "$repo/Cargo.lock" ]; then
  (cd "$repo" && cargo generate-lockfile)
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

dioxus_version=$(locked_version dioxus)
if [ "$(dx --version 2>/dev/null | awk '{print $2}')" != "$dioxus_version" ]; then
  say "installing the Dioxus CLI $dioxus_version (about 15 minutes, once)"
  cargo install dioxus-cli --version "$dioxus_version" --locked
fi

bindgen_version=$(locked_version wasm-bindgen)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  # Not --locked: its own lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

if [ ! -x "$tools/bin/esbuild" ] || [ "$("$tools/bin/esbuild" --version)" != "$ESBUILD_VERSION" ]; then
  say "installing esbuild $ESBUILD_VERSION from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@esbuild/linux-x64@$ESBUILD_VERSION" >/dev/null && tar xzf ./*.tgz)
  install -m 755 "$tmp/package/bin/esbuild" "$tools/bin/esbuild"
  rm -rf "$tmp"
fi

if [ ! -x "$tools/binaryen/node_modules/binaryen/bin/wasm-opt" ]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION) from npm"
  mkdir -p "$tools/binaryen"
  (cd "$tools/binaryen" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null)
fi
ln -sf "$tools/binaryen/node_modules/binaryen/bin/wasm-opt" "$tools/bin/wasm-opt"

export PATH="$tools/bin:$HOME/.cargo/bin:$PATH"
# dx takes every tool from PATH and downloads nothing.
export NO_DOWNLOADS=1
export DX_TELEMETRY_ENABLED=false
