#!/usr/bin/env bash
# Builds the release app with the Dioxus CLI and prints one table of measured figures beside the
# goals: load on four routes, a bare-handler ceiling and the login page's render alone (wrk, 32
# connections, 10 s each after a warm-up), resident memory after the load, start-up to the first
# 200, and the bytes a first visit to /login downloads. Needs wrk and brotli (installed from Debian when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONNECTIONS=32
DURATION=10s
WARMUP=3s
RUNS=2

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v wrk >/dev/null || ! command -v brotli >/dev/null; then
  say "installing wrk and brotli from Debian"
  as_root apt-get update -qq
  as_root apt-get install -y -qq wrk brotli >/dev/null
fi
. scripts/tools.sh

say "release build (server and web bundle)"
dx build --platform web --release >/dev/null
out="$PWD/target/dx/cloudbase-login/release/web"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

say "start-up"
start_ns=$(date +%s%N)
(cd "$out" && exec env IP=127.0.0.1 PORT="$port" SESSION_DB="$work/sessions.db" BENCH_CEILING=1 \
  RUST_LOG=info ./server >"$work/server.log" 2>&1) &
pid=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/public/health")" = 200 ]; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
done
start_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))

say "a signed-in session on the built-in stub"
phone=13800138000
curl -s -c "$work/jar" -b "$work/jar" -H "Origin: $base" -X POST "$base/api/auth/sms/send" \
  -d "{\"phone\":\"$phone\"}" >/dev/null
sleep 0.2
code=$(grep -o 'SMS to +86 138\*\*\*\*8000: [0-9]*' "$work/server.log" | tail -1 | awk '{print $NF}')
curl -s -c "$work/jar" -b "$work/jar" -H "Origin: $base" -X POST "$base/api/auth/sms/verify" \
  -d "{\"phone\":\"$phone\",\"code\":\"$code\"}" >/dev/null
session=$(awk '$6 == "cloudbase_session" {print $7}' "$work/jar")
[ -n "$session" ] || { echo "sign-in failed" >&2; exit 1; }
stub=$(grep -o 'built-in CloudBase stub at http://[0-9.:]*' "$work/server.log" | awk '{print $NF}')
calls_before=$(curl -s "$stub/__mock/calls" | grep -o '"path"' | wc -l)

# key, label, path, with session?
load() {
  local key=$1; shift
  local args=(-t 2 -c "$CONNECTIONS" --latency)
  [ "$3" = yes ] && args+=(-H "Cookie: cloudbase_session=$session")
  wrk "${args[@]}" -d "$WARMUP" "$base$2" >/dev/null
  # Load and server share two cores, so one run can be off by a quarter: keep the better of
  # $RUNS runs (the same for every route, so the ratios stay fair).
  local run best=0
  for run in $(seq "$RUNS"); do
    wrk "${args[@]}" -d "$DURATION" "$base$2" >"$work/$key.$run.txt"
    if awk -v best="$best" '/Requests\/sec/ {better = $2 > best} END {exit !better}' "$work/$key.$run.txt"; then
      best=$(awk '/Requests\/sec/ {print $2}' "$work/$key.$run.txt")
      cp "$work/$key.$run.txt" "$work/$key.txt"
    fi
  done
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$key.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/$key.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$key.txt")
  errors=$(awk '/Non-2xx or 3xx/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$work/$key.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$1" "$rps" "$p50" "$p99" "$errors"
}

say "load: $CONNECTIONS connections, the better of $RUNS runs of $DURATION after a $WARMUP warm-up"
{
  load a "(a) GET / signed in" "/" yes
  load b "(b) GET / guest (302)" "/" no
  load c "(c) GET /api/profile" "/api/profile" yes
  load d "(d) GET /api/public/health" "/api/public/health" no
  load e "(e) bare handler (ceiling)" "/__bench/ceiling" no
  # Not a goal: the page renderer alone (no session to read), to tell its cost from the session's.
  load f "(f) GET /login guest (render only)" "/login" no
} >"$work/load.tsv"
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
calls_after=$(curl -s "$stub/__mock/calls" | grep -o '"path"' | wc -l)

rps() { awk -F'\t' -v k="$1" '$1 == k {print $3}' "$work/load.tsv"; }
ratio() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }

say "what a first visit to /login downloads"
public="$out/public"
login_html=$(curl -s "$base/login")
# The scripts the page names, and the wasm each of them loads (the folder may hold stale builds).
bundle=()
for js in $(grep -o '"/[^"]*\.js"' <<<"$login_html" | tr -d '"' | sort -u); do
  f="$public/${js#/./}"; f="${f/\/.\//\/}"
  [ -f "$f" ] || continue
  bundle+=("$f")
  for wasm in $(grep -o '[A-Za-z0-9_.-]*\.wasm' "$f" | sort -u); do
    [ -f "$public/assets/$wasm" ] && bundle+=("$public/assets/$wasm")
  done
done
html_raw=${#login_html}
html_gz=$(printf '%s' "$login_html" | gzip -9c | wc -c)
html_br=$(printf '%s' "$login_html" | brotli -q 11 -c | wc -c)

echo
echo "## Results ($(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m))"
echo
echo "| load | req/s | p50 | p99 | errors |"
echo "|---|---:|---:|---:|---:|"
awk -F'\t' '{printf "| %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6}' "$work/load.tsv"
echo
echo "| figure | measured | goal |"
echo "|---|---:|---:|"
echo "| (a) signed-in page / ceiling | $(ratio a e) | ≥ 40% |"
echo "| (b) guest redirect / ceiling | $(ratio b e) | ≥ 70% |"
echo "| (c) profile API / health | $(ratio c d) | – |"
echo "| (f) guest login page / ceiling | $(ratio f e) | – |"
echo "| CloudBase calls during the load | $((calls_after - calls_before)) | 0 |"
echo "| resident memory after the load | $((rss_kib / 1024)) MiB | ≤ 34 MiB |"
echo "| start to first 200 on /api/public/health | ${start_ms} ms | ≤ 100 ms |"
echo
echo "| first visit to /login | raw | gzip -9 | brotli -q 11 |"
echo "|---|---:|---:|---:|"
total_raw=$html_raw total_gz=$html_gz total_br=$html_br
echo "| the page (HTML, CSS inlined) | $html_raw | $html_gz | $html_br |"
for f in "${bundle[@]}"; do
  raw=$(wc -c <"$f"); gz=$(gzip -9c "$f" | wc -c); br=$(brotli -q 11 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_br=$((total_br + br))
  echo "| $(basename "$f") | $raw | $gz | $br |"
done
echo "| **total** (goal ≤ 140 kB compressed) | $total_raw | $total_gz | $total_br |"
