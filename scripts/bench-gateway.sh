#!/usr/bin/env bash
# Gateway benchmark (a measurement, not a test): release-builds the gateway and the fixture
# subgraphs (gateway/examples/fixture_subgraphs), runs each as its own process on loopback
# (the gateway as `quickmart serve gateway`, what images run), and drives them with wrk.
#
#   1. heavy: 20 orders × 3 items, products and users joined from two subgraphs (3 fetches),
#      through the gateway: RPS, p50/p99, gateway CPU µs per request (utime+stime from
#      /proc/<pid>/stat), gateway peak RSS (VmHWM).
#   3. with `Authorization`: the heavy query with a bearer token (forwarded to every fetch), and
#      `{ __typename }` with one (verified by the gateway itself): gateway CPU µs per request.
#   2. single fetch: one products query straight to the subgraph vs through the gateway:
#      RPS ratio (target ≥ 0.7) and p99 ratio (target ≤ 1.5), and the gateway's CPU µs per
#      request. The ratios swing by ±10% between runs on a shared 2-core box (the direct run
#      alone varies that much); the CPU per request is the steadier figure to compare.
#
# The gateway logs as in production (LOG_FORMAT=json, into a file as a container runtime would take it) at
# GATEWAY_RUST_LOG (default warn; `info` is the production default: one line per request).
#
# Env: DURATION (s, default 30), WARMUP (s, default 5), CONNECTIONS (default 50),
#      THREADS (wrk threads, default 2), BASE_PORT (default 14300), BENCH_BIN (a folder holding
#      quickmart and examples/fixture_subgraphs from another build, to compare; not rebuilt; a folder
#      from before the one binary, holding quickmart-gateway instead, works too).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
BASE_PORT=${BASE_PORT:-14300}
GATEWAY_PORT=$((BASE_PORT + 10))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quickmart-target}

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

if [[ -n "${BENCH_BIN:-}" ]]; then
  BIN=$BENCH_BIN
else
  cargo build --release -q -p quickmart --bin quickmart
  cargo build --release -q -p quickmart-gateway --example fixture_subgraphs
  BIN="$CARGO_TARGET_DIR/release"
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/examples/fixture_subgraphs" serve "$BASE_PORT" &
PIDS+=($!)
export GATEWAY_SUBGRAPH_USERS_URL="http://127.0.0.1:$BASE_PORT/graphql"
export GATEWAY_SUBGRAPH_PRODUCTS_URL="http://127.0.0.1:$((BASE_PORT + 1))/graphql"
export GATEWAY_SUBGRAPH_INVENTORY_URL="http://127.0.0.1:$((BASE_PORT + 2))/graphql"
export GATEWAY_SUBGRAPH_ORDERS_URL="http://127.0.0.1:$((BASE_PORT + 3))/graphql"
if [[ -x "$BIN/quickmart" ]]; then
  GATEWAY=("$BIN/quickmart" serve gateway)
else
  GATEWAY=("$BIN/quickmart-gateway")
fi
RUST_LOG=${GATEWAY_RUST_LOG:-warn} LOG_FORMAT=json QUICKMART_STATE_DIR="$WORK/state" \
SUPERGRAPH_PATH=gateway/tests/fixtures/supergraph.graphql \
GATEWAY_LISTEN_ADDR="127.0.0.1:$GATEWAY_PORT" \
  "${GATEWAY[@]}" >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$GATEWAY_PORT/healthz" >/dev/null && break
  sleep 0.1
done

# wrk script posting one JSON body.
lua_for() { # name body [authorization]
  local file="$WORK/$1.lua"
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$2" >"$file"
  if [[ -n "${3:-}" ]]; then printf 'wrk.headers["Authorization"] = "%s"\n' "$3" >>"$file"; fi
  echo "$file"
}

HEAVY='{"query":"{ orders(first: 20) { id total user { name } items { quantity product { name price } } } }"}'
SINGLE='{"query":"{ topProducts(first: 3) { upc name price } }"}'
HEAVY_LUA=$(lua_for heavy "$HEAVY")
SINGLE_LUA=$(lua_for single "$SINGLE")

# Sanity: the heavy query answers with data and no errors.
if ! curl -sf "http://127.0.0.1:$GATEWAY_PORT/graphql" -H 'content-type: application/json' -d "$HEAVY" \
  | grep -q '"product":{"name":"Product 60"'; then
  echo "the heavy query did not answer as expected" >&2
  exit 1
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
requests_of() { awk '/requests in/ { print $1 }' "$1"; }
rps_of() { awk '/Requests\/sec/ { print $2 }' "$1"; }
percentile_of() { awk -v p="$2" '$1 == p { print $2 }' "$1"; }

run_wrk() { # url lua duration output
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3"s --latency -s "$2" "$1" >"$4"
}

GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT/graphql"
PRODUCTS_URL="http://127.0.0.1:$((BASE_PORT + 1))/graphql"
TICKS_PER_SECOND=$(getconf CLK_TCK)

echo "gateway logging: RUST_LOG=${GATEWAY_RUST_LOG:-warn}, JSON into a file"
echo "== heavy query (20 orders x 3 items, 3 fetches) through the gateway: warm-up ${WARMUP}s, run ${DURATION}s, ${CONNECTIONS} connections"
run_wrk "$GATEWAY_URL" "$HEAVY_LUA" "$WARMUP" "$WORK/warmup.txt"
before=$(cpu_ticks "$GATEWAY_PID")
run_wrk "$GATEWAY_URL" "$HEAVY_LUA" "$DURATION" "$WORK/heavy.txt"
after=$(cpu_ticks "$GATEWAY_PID")
requests=$(requests_of "$WORK/heavy.txt")
cpu_us=$(awk -v t=$((after - before)) -v hz="$TICKS_PER_SECOND" -v n="$requests" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')
peak_rss=$(awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$GATEWAY_PID/status")
echo "RPS $(rps_of "$WORK/heavy.txt")  p50 $(percentile_of "$WORK/heavy.txt" 50%)  p99 $(percentile_of "$WORK/heavy.txt" 99%)"
echo "gateway CPU per request: ${cpu_us} µs (target < 400)   gateway peak RSS: ${peak_rss} (target < 47 MB)"
grep -E "Non-2xx|Socket errors" "$WORK/heavy.txt" || true

echo "== single fetch: straight to the products subgraph vs through the gateway"
run_wrk "$PRODUCTS_URL" "$SINGLE_LUA" "$WARMUP" "$WORK/warmup.txt"
run_wrk "$PRODUCTS_URL" "$SINGLE_LUA" "$DURATION" "$WORK/direct.txt"
run_wrk "$GATEWAY_URL" "$SINGLE_LUA" "$WARMUP" "$WORK/warmup.txt"
before=$(cpu_ticks "$GATEWAY_PID")
run_wrk "$GATEWAY_URL" "$SINGLE_LUA" "$DURATION" "$WORK/through.txt"
after=$(cpu_ticks "$GATEWAY_PID")
single_cpu_us=$(awk -v t=$((after - before)) -v hz="$TICKS_PER_SECOND" -v n="$(requests_of "$WORK/through.txt")" \
  'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
direct_rps=$(rps_of "$WORK/direct.txt")
through_rps=$(rps_of "$WORK/through.txt")
direct_p99=$(percentile_of "$WORK/direct.txt" 99%)
through_p99=$(percentile_of "$WORK/through.txt" 99%)
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else print v * 1000 }'; }
echo "direct:  RPS $direct_rps  p99 $direct_p99"
echo "gateway: RPS $through_rps  p99 $through_p99  gateway CPU per request: ${single_cpu_us} µs"
awk -v g="$through_rps" -v d="$direct_rps" -v gp="$(to_ms "$through_p99")" -v dp="$(to_ms "$direct_p99")" \
  'BEGIN { printf "RPS ratio %.2f (target >= 0.70)   p99 ratio %.2f (target <= 1.50)\n", g / d, gp / dp }'

echo "== with Authorization: a bearer token on the heavy query (forwarded) and on { __typename } (verified here)"
if ! TOKEN=$("$BIN/examples/fixture_subgraphs" token "$WORK/state" 2>/dev/null); then
  echo "skipped: this build's fixture_subgraphs cannot mint tokens"
  exit 0
fi
measure_cpu() { # lua output -> µs per request
  run_wrk "$GATEWAY_URL" "$1" "$WARMUP" "$WORK/warmup.txt"
  local before after
  before=$(cpu_ticks "$GATEWAY_PID")
  run_wrk "$GATEWAY_URL" "$1" "$DURATION" "$2"
  after=$(cpu_ticks "$GATEWAY_PID")
  awk -v t=$((after - before)) -v hz="$TICKS_PER_SECOND" -v n="$(requests_of "$2")" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'
}
HEAVY_AUTH_LUA=$(lua_for heavy-auth "$HEAVY" "Bearer $TOKEN")
LOCAL_AUTH_LUA=$(lua_for local-auth '{"query":"{ __typename }"}' "Bearer $TOKEN")
heavy_auth_cpu=$(measure_cpu "$HEAVY_AUTH_LUA" "$WORK/heavy-auth.txt")
echo "heavy + Authorization:       RPS $(rps_of "$WORK/heavy-auth.txt")  gateway CPU per request: ${heavy_auth_cpu} µs"
local_auth_cpu=$(measure_cpu "$LOCAL_AUTH_LUA" "$WORK/local-auth.txt")
echo "{ __typename } + token check: RPS $(rps_of "$WORK/local-auth.txt")  gateway CPU per request: ${local_auth_cpu} µs"
grep -E "Non-2xx|Socket errors" "$WORK/heavy-auth.txt" "$WORK/local-auth.txt" || true
