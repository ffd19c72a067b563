#!/usr/bin/env bash
# Whole-stack benchmark (a measurement, not a test) for two of docs/ARCHITECTURE.md's performance targets:
#   1. cache: cached `product(id)` reads straight at the product subgraph, with Redis vs with the cache off
#      (REDIS_URL=none://): RPS ratio (target ≥ 3×);
#   2. ordering: `placeOrder` through the gateway, one unit each of 20 products, unique idempotency keys,
#      for DURATION seconds: placed orders per second (target ≥ 200/s) and oversold units (target 0:
#      initial stock − final stock must equal the units ordered);
#   1c. the cached reads signed in: the cost of the token-version check per request;
#   3. browse mix through the gateway, signed in (so every request also checks the token version): a product
#      page, one product, the category list, in turn: RPS, p50/p99;
#   3b. the storefront's heavy query (orders with user and items.product.category, three fetches) through the
#      gateway, identical concurrent requests, with in-flight deduplication on and off; and a page of 20 products
#      straight at the product subgraph without totalCount (no count in the core);
#   4. memory: peak RSS of the one `quickmart up` process that runs all seven services;
#   5. with FAULTS=1, the fault suite (cli/tests/faults) and its recovery times.
# Release-builds `quickmart`, runs `quickmart up --no-seed` on bench-only databases (dropped afterwards) on
# BASE_PORT..BASE_PORT+6, and drives it with wrk.
#
# Env: DURATION (s, default 20), WARMUP (s, default 3), CONNECTIONS (default 50), THREADS (default 2),
#      BASE_PORT (default 14400), BENCH_BIN (a folder holding quickmart from another build, to compare; not
#      rebuilt).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
BASE_PORT=${BASE_PORT:-14400}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quickmart-target}
source scripts/lib/services.sh
ensure_postgres
ensure_redis
command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)

if [[ -n "${BENCH_BIN:-}" ]]; then
  BIN="$BENCH_BIN/quickmart"
else
  cargo build --release -q -p quickmart --bin quickmart
  BIN="$CARGO_TARGET_DIR/release/quickmart"
fi
WORK=$(mktemp -d)
RUN_ID=$(date +%s)$$
DBS=(quickmart_bench_user_$RUN_ID quickmart_bench_product_$RUN_ID quickmart_bench_order_$RUN_ID)
UP_PID=""
stop_stack() { [[ -n "$UP_PID" ]] && kill -INT "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null; UP_PID=""; }
cleanup() {
  stop_stack || true
  for db in "${DBS[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

GATEWAY="http://127.0.0.1:$BASE_PORT/graphql"
PRODUCT_SUBGRAPH="http://127.0.0.1:$((BASE_PORT + 2))/graphql"
PRODUCT_CORE="http://127.0.0.1:$((BASE_PORT + 5))"
TOKEN=bench-internal-token-0123456789

start_stack() { # $1 = REDIS_URL, $2 = GATEWAY_DEDUPE (default true)
  env RUST_LOG=error LOG_FORMAT=json GATEWAY_DEDUPE="${2:-true}" \
    GATEWAY_LISTEN_ADDR=127.0.0.1:$BASE_PORT USER_SUBGRAPH_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 1)) \
    PRODUCT_SUBGRAPH_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 2)) ORDER_SUBGRAPH_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 3)) \
    USER_CORE_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 4)) PRODUCT_CORE_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 5)) \
    ORDER_CORE_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 6)) \
    USER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[0]} \
    PRODUCT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[1]} \
    ORDER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[2]} \
    USER_DB_MAX_CONNECTIONS=32 PRODUCT_DB_MAX_CONNECTIONS=32 ORDER_DB_MAX_CONNECTIONS=32 \
    REDIS_URL="$1" CACHE_NAMESPACE="bench-$RUN_ID:" INTERNAL_API_TOKEN=$TOKEN \
    QUICKMART_STATE_DIR="$WORK/state" QUICKMART_ADMIN_PASSWORD=bench-admin-password \
    "$BIN" up --no-seed >"$WORK/up.log" 2>&1 &
  UP_PID=$!
  wait_for_quickmart_up "$WORK/up.log" "$UP_PID" 30
}

core() { curl -sf -H "x-internal-token: $TOKEN" -H 'content-type: application/json' "$@"; }
gql() { curl -sf -H 'content-type: application/json' "$GATEWAY" "$@"; }

rps_of() { awk '/Requests\/sec/ { print $2 }' "$1"; }

start_stack "redis://127.0.0.1:6379"
PRODUCTS=()
for n in $(seq 1 20); do
  PRODUCTS+=("$(core -X POST "$PRODUCT_CORE/v1/products" -d "{\"sku\":\"BENCH-$n\",\"name\":\"Bench $n\",\"price\":100,\"stock\":1000000}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
done

# 1. Cache: the same product read again and again, straight at the product subgraph.
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"query":"{ product(id: \\"%s\\") { id sku name stock price { amount currency } } }"}]]\n' \
  "${PRODUCTS[0]}" >"$WORK/product.lua"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/product.lua" "$PRODUCT_SUBGRAPH" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/product.lua" "$PRODUCT_SUBGRAPH" >"$WORK/cached.txt"

# 2. Ordering through the gateway, as a signed-in customer.
ADMIN=$(gql -d '{"query":"mutation { login(email: \"admin@quickmart.local\", password: \"bench-admin-password\") { accessToken } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')
ACCESS=$(gql -d '{"query":"mutation { register(input: { email: \"bench@bench.test\", password: \"bench-password-42\", name: \"Bench\" }) { accessToken } }"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["register"]["accessToken"])')
{
  echo 'local products = {'; for id in "${PRODUCTS[@]}"; do echo "  \"$id\","; done; echo '}'
  cat <<LUA
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args) thread_id = tid; placed = 0; failed = 0 end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $ACCESS"
function request()
  counter = counter + 1
  local product = products[(counter % #products) + 1]
  local body = '{"query":"mutation(\$i: PlaceOrderInput!) { placeOrder(input: \$i) { id } }","variables":{"i":{"idempotencyKey":"bench-' .. thread_id .. '-' .. counter .. '","items":[{"productId":"' .. product .. '","quantity":1}]}}}'
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  if status == 200 and not body:find('"errors"') then placed = placed + 1 else failed = failed + 1 end
end
function done(summary, latency, requests)
  local total_placed, total_failed = 0, 0
  for _, thread in ipairs(threads) do total_placed = total_placed + thread:get("placed"); total_failed = total_failed + thread:get("failed") end
  io.write(string.format("placed %d failed %d\n", total_placed, total_failed))
end
LUA
} >"$WORK/order.lua"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/order.lua" "$GATEWAY" >"$WORK/orders.txt"

# 1c. The cached reads again, signed in: the difference is the token-version check's cost.
{ cat "$WORK/product.lua"; printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ACCESS"; } >"$WORK/product-auth.lua"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/product-auth.lua" "$PRODUCT_SUBGRAPH" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/product-auth.lua" "$PRODUCT_SUBGRAPH" >"$WORK/cached-auth.txt"

# 3. Browse mix through the gateway, signed in.
gql -H "Authorization: Bearer $ADMIN" -d '{"query":"mutation { createCategory(input: { name: \"Bench\", slug: \"bench\" }) { id } }"}' >/dev/null
cat >"$WORK/browse.lua" <<LUA
local bodies = {
  [[{"query":"{ products(first: 10, sort: PRICE_ASC) { totalCount nodes { id name price { amount } stock } } }"}]],
  [[{"query":"{ product(id: \\"${PRODUCTS[1]}\\") { id name stock price { amount currency } } }"}]],
  [[{"query":"{ categories { id name slug } }"}]],
}
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $ACCESS"
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end
LUA
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/browse.lua" "$GATEWAY" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/browse.lua" "$GATEWAY" >"$WORK/browse.txt"
PEAK_RSS=$(awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$UP_PID/status")

# 3b. The heavy query, identical for every connection (a popular page), as the admin who sees every order.
heavy_lua() { # file
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n' "$ADMIN" >"$1"
  printf 'wrk.body = [[{"query":"{ orders(first: 20) { nodes { id total { amount } user { name email } items { quantity product { name price { amount } category { name } } } } } }"}]]\n' >>"$1"
}
heavy_lua "$WORK/heavy.lua"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/heavy.lua" "$GATEWAY" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/heavy.lua" "$GATEWAY" >"$WORK/heavy-dedupe.txt"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"query":"{ products(first: 20) { nodes { id name price { amount } stock category { id } } } }"}]]\n' >"$WORK/page.lua"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/page.lua" "$PRODUCT_SUBGRAPH" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/page.lua" "$PRODUCT_SUBGRAPH" >"$WORK/page.txt"
# Requests still in flight when wrk stops finish on their own; let them land before counting.
sleep 2
PLACED=$(awk '/^placed/ { print $2 }' "$WORK/orders.txt")
FAILED=$(awk '/^placed/ { print $4 }' "$WORK/orders.txt")
REMAINING=0
for id in "${PRODUCTS[@]}"; do
  REMAINING=$((REMAINING + $(core "$PRODUCT_CORE/v1/products/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stock"])')))
done
TAKEN=$((20 * 1000000 - REMAINING))
ORDERS_IN_DB=$(psql -h 127.0.0.1 -U postgres -d "${DBS[2]}" -tAc "SELECT count(*) FROM orders WHERE status <> 'PLACING'")
STILL_PLACING=$(psql -h 127.0.0.1 -U postgres -d "${DBS[2]}" -tAc "SELECT count(*) FROM orders WHERE status = 'PLACING'")
stop_stack

# 3c. The heavy query again with deduplication off.
start_stack "redis://127.0.0.1:6379" false
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/heavy.lua" "$GATEWAY" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/heavy.lua" "$GATEWAY" >"$WORK/heavy-alone.txt"
stop_stack

# 1b. The same reads with the cache off.
start_stack "none://"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/product.lua" "$PRODUCT_SUBGRAPH" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/product.lua" "$PRODUCT_SUBGRAPH" >"$WORK/uncached.txt"
stop_stack

CACHED=$(rps_of "$WORK/cached.txt")
UNCACHED=$(rps_of "$WORK/uncached.txt")
echo
echo "== cache: product(id) at the product subgraph, $CONNECTIONS connections, ${DURATION}s =="
printf 'with Redis      %10.0f req/s  p99 %s\n' "$CACHED" "$(awk '/ 99%/ { print $2 }' "$WORK/cached.txt")"
printf 'cache off       %10.0f req/s  p99 %s\n' "$UNCACHED" "$(awk '/ 99%/ { print $2 }' "$WORK/uncached.txt")"
python3 -c "print(f'ratio           {$CACHED / $UNCACHED:10.2f}x  (target >= 3x)')"
CACHED_AUTH=$(rps_of "$WORK/cached-auth.txt")
# The machine is saturated in both runs, so its CPU time per request is cores / RPS.
printf 'signed in       %10.0f req/s  p99 %s  (signature check + token-version check: ~%s µs of CPU more per request)\n' \
  "$CACHED_AUTH" "$(awk '/ 99%/ { print $2 }' "$WORK/cached-auth.txt")" \
  "$(python3 -c "print(f'{($(nproc) / $CACHED_AUTH - $(nproc) / $CACHED) * 1e6:.0f}')")"
echo
echo "== ordering: placeOrder through the gateway, $CONNECTIONS connections, ${DURATION}s =="
python3 -c "print(f'placed          {$PLACED / $DURATION:10.1f} orders/s  ({$PLACED} placed, {$FAILED} failed; target >= 200/s)')"
echo "orders in db    $ORDERS_IN_DB  (still placing: $STILL_PLACING)"
echo "units taken     $TAKEN  (units taken minus orders: $((TAKEN - ORDERS_IN_DB)); target 0: no unit lost or oversold)"
echo
echo "== browse mix through the gateway (page, product, categories; signed in), $CONNECTIONS connections, ${DURATION}s =="
printf 'browse          %10.0f req/s  p50 %s  p99 %s\n' "$(rps_of "$WORK/browse.txt")" \
  "$(awk '/ 50%/ { print $2 }' "$WORK/browse.txt")" "$(awk '/ 99%/ { print $2 }' "$WORK/browse.txt")"
grep -E "Non-2xx|Socket errors" "$WORK/browse.txt" || true
echo
echo "== heavy query through the gateway (orders(first: 20) with user and items.product.category), identical requests =="
for run in dedupe alone; do
  label=$([[ $run == dedupe ]] && echo "dedupe on " || echo "dedupe off")
  printf '%s      %10.0f req/s  p50 %s  p99 %s\n' "$label" "$(rps_of "$WORK/heavy-$run.txt")" \
    "$(awk '/ 50%/ { print $2 }' "$WORK/heavy-$run.txt")" "$(awk '/ 99%/ { print $2 }' "$WORK/heavy-$run.txt")"
  grep -E "Non-2xx|Socket errors" "$WORK/heavy-$run.txt" || true
done
echo
echo "== a page of 20 products straight at the product subgraph, no totalCount =="
printf 'page            %10.0f req/s  p50 %s  p99 %s\n' "$(rps_of "$WORK/page.txt")" \
  "$(awk '/ 50%/ { print $2 }' "$WORK/page.txt")" "$(awk '/ 99%/ { print $2 }' "$WORK/page.txt")"
echo
echo "== memory =="
echo "peak RSS        $PEAK_RSS  (all seven services in one quickmart up process, after every run above)"
if [[ "${FAULTS:-0}" == 1 ]]; then
  echo
  echo "== faults: cli/tests/faults (debug build, its own PostgreSQL and Redis) =="
  QUICKMART_FAULTS_REPORT="$WORK/faults.txt" cargo nextest run -p quickmart --test faults >/dev/null 2>&1 \
    || echo "the fault suite failed; run: cargo nextest run -p quickmart --test faults"
  cat "$WORK/faults.txt" 2>/dev/null || true
fi
