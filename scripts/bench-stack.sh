#!/usr/bin/env bash
# Whole-stack benchmark (a measurement, not a test) for two of docs/ARCHITECTURE.md's performance targets:
#   1. cache: cached `product(id)` reads straight at the product subgraph, with Redis vs with the cache off
#      (REDIS_URL=none://): RPS ratio (target ≥ 3×);
#   2. ordering: `placeOrder` through the gateway, one unit each of 20 products, unique idempotency keys,
#      for DURATION seconds: placed orders per second (target ≥ 200/s) and oversold units (target 0:
#      initial stock − final stock must equal the units ordered).
# Release-builds `quickmart`, runs `quickmart up --no-seed` on bench-only databases (dropped afterwards) on
# BASE_PORT..BASE_PORT+6, and drives it with wrk.
#
# Env: DURATION (s, default 20), WARMUP (s, default 3), CONNECTIONS (default 50), THREADS (default 2),
#      BASE_PORT (default 14400).
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

cargo build --release -q -p quickmart --bin quickmart
BIN="$CARGO_TARGET_DIR/release/quickmart"
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

start_stack() { # $1 = REDIS_URL
  env RUST_LOG=error LOG_FORMAT=json \
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
  for _ in $(seq 1 300); do
    grep -q "QuickMart is running" "$WORK/up.log" && return 0
    kill -0 "$UP_PID" 2>/dev/null || { cat "$WORK/up.log"; exit 1; }
    sleep 0.1
  done
  cat "$WORK/up.log"; exit 1
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
echo
echo "== ordering: placeOrder through the gateway, $CONNECTIONS connections, ${DURATION}s =="
python3 -c "print(f'placed          {$PLACED / $DURATION:10.1f} orders/s  ({$PLACED} placed, {$FAILED} failed; target >= 200/s)')"
echo "orders in db    $ORDERS_IN_DB  (still placing: $STILL_PLACING)"
echo "units taken     $TAKEN  (units taken minus orders: $((TAKEN - ORDERS_IN_DB)); target 0: no unit lost or oversold)"
