#!/usr/bin/env bash
# Installs what is missing, then serves the app with hot reload on the built-in CloudBase stub
# (or on the CloudBase that the environment variables name; see README).
#   DEV_PORT   the port to open in the browser (default 8080)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/tools.sh
port=${DEV_PORT:-8080}
# The dev server proxies to the app and rewrites `Host`, so the app is told its public address.
export PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:$port}
# The console shows what a person needs (the SMS codes, warnings), not every SQL statement of a
# debug build; set RUST_LOG for more.
export RUST_LOG=${RUST_LOG:-info}
echo "open $PUBLIC_URL (SMS codes from the built-in stub appear below)"
exec dx serve --platform web --port "$port" "$@"
