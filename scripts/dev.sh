#!/usr/bin/env bash
# Installs what is missing, then serves the app with hot reload on the built-in CloudBase stub
# (or on the CloudBase that the environment variables name; see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/tools.sh
exec dx serve --platform web "$@"
