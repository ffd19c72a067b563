#!/usr/bin/env bash
# Throughput of the whole stack as users load it (a measurement, not a test; docs/ARCHITECTURE.md,
# "Performance targets"). The gateway runs as its own process (`quickmart serve gateway`, or hive-router when
# HIVE_ROUTER_BIN names a build of it) in front of `quickmart up`, which serves the subgraphs and cores, so
# CPU per request is reported for the gateway and for the services separately (and for PostgreSQL):
#   1. a page of 20 products straight at the product subgraph;
#   2. a page of 20 orders (with items) straight at the order subgraph, as the admin;
#   3. the storefront's heavy query through the gateway (orders with user and items.product.category, three
#      fetches), identical concurrent requests, with in-flight deduplication on and off;
#   3b. the heavy query as a persisted document (APQ hash only), through our gateway with deduplication on;
#   4. a mix of distinct queries through the gateway, where deduplication cannot help: product pages of every
#      size and sort, single products out of 200, and each of 16 customers' own orders, with their own token.
# Each row: RPS, p50/p99, and CPU per request = the process's user+system CPU time during the run / requests.
#
# With PROFILE=callgrind the services run under valgrind's callgrind, which counts instructions (the same count
# for the same binary and input, however busy the machine): rows 1, 2 and 3 (without deduplication), and each of
# the mix's four kinds of request through the gateway (its product pages differ in one literal, a new text each
# time, as in the mix), each send PROFILE_REQUESTS (default 200) requests one after another, and the report gives
# the services' instructions per request and the functions that cost the most, inclusive. wrk does not run. With
# PROFILE_PROCESS=gateway the gateway without deduplication runs under callgrind instead, for a product page, the
# mix's four kinds and the heavy query, all through it.
#
# Env: PROFILE, PROFILE_PROCESS (services or gateway), PROFILE_REQUESTS, PROFILE_TOP (functions listed, default 40), PROFILE_OUT (a folder to keep the
#      callgrind dumps in, for callgrind_annotate or KCachegrind),
#      DURATION (s, default 15), WARMUP (s, default 3), CONNECTIONS (default 50), THREADS (default 2),
#      BASE_PORT (default 14500), BENCH_BIN (a folder holding quickmart from another build, to compare; not
#      rebuilt), HIVE_ROUTER_BIN (a hive-router binary: rows 3 and 4 run through it too; not installed by the
#      project. `cargo install hive-router@0.2.19 --locked --features graphiql --root DIR` builds one with this
#      toolchain: 0.3 needs a newer rustc, and without `graphiql` its build script fetches an npm package the
#      registry no longer serves).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
BASE_PORT=${BASE_PORT:-14500}
PROFILE=${PROFILE:-}
PROFILE_REQUESTS=${PROFILE_REQUESTS:-200}
PROFILE_PROCESS=${PROFILE_PROCESS:-services}
[[ -z "$PROFILE" || "$PROFILE" == callgrind ]] || { echo "PROFILE is callgrind or unset" >&2; exit 2; }
[[ "$PROFILE_PROCESS" == services || "$PROFILE_PROCESS" == gateway ]] || {
  echo "PROFILE_PROCESS is services or gateway" >&2
  exit 2
}
# The prefix that runs a process under callgrind, when it is the one profiled (`services` or `gateway`).
callgrind_for() {
  if [[ -n "$PROFILE" && "$PROFILE_PROCESS" == "$1" ]]; then
    echo "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$WORK/callgrind.out"
  fi
}
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
DBS=(quickmart_tput_user_$RUN_ID quickmart_tput_product_$RUN_ID quickmart_tput_order_$RUN_ID)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${DBS[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

UP_GATEWAY="http://127.0.0.1:$BASE_PORT/graphql"
PRODUCT_SUBGRAPH="http://127.0.0.1:$((BASE_PORT + 2))/graphql"
ORDER_SUBGRAPH="http://127.0.0.1:$((BASE_PORT + 3))/graphql"
PRODUCT_CORE="http://127.0.0.1:$((BASE_PORT + 5))"
TOKEN=bench-internal-token-0123456789

wait_for() { # url log pid
  for _ in $(seq 1 "$([[ -n "$PROFILE" ]] && echo 3000 || echo 300)"); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    kill -0 "$3" 2>/dev/null || { cat "$2"; exit 1; }
    sleep 0.1
  done
  cat "$2"; exit 1
}

env RUST_LOG=error LOG_FORMAT=json \
  GATEWAY_LISTEN_ADDR=127.0.0.1:$BASE_PORT USER_SUBGRAPH_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 1)) \
  PRODUCT_SUBGRAPH_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 2)) ORDER_SUBGRAPH_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 3)) \
  USER_CORE_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 4)) PRODUCT_CORE_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 5)) \
  ORDER_CORE_LISTEN_ADDR=127.0.0.1:$((BASE_PORT + 6)) \
  USER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[0]} \
  PRODUCT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[1]} \
  ORDER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[2]} \
  REDIS_URL=redis://127.0.0.1:6379 CACHE_NAMESPACE="tput-$RUN_ID:" INTERNAL_API_TOKEN=$TOKEN \
  QUICKMART_STATE_DIR="$WORK/state" QUICKMART_ADMIN_PASSWORD=bench-admin-password \
  $(callgrind_for services) "$BIN" up --no-seed >"$WORK/up.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_for_quickmart_up "$WORK/up.log" "$UP_PID" "$([[ -n "$PROFILE" ]] && echo 600 || echo 30)"
PROFILED_PID=$UP_PID

# The gateways under test read a supergraph whose subgraph URLs point at this stack.
sed -e "s#127.0.0.1:4001/#127.0.0.1:$((BASE_PORT + 1))/#" -e "s#127.0.0.1:4002/#127.0.0.1:$((BASE_PORT + 2))/#" \
  -e "s#127.0.0.1:4003/#127.0.0.1:$((BASE_PORT + 3))/#" schema/supergraph.graphql >"$WORK/supergraph.graphql"
start_gateway() { # name port dedupe [profiled]
  env RUST_LOG=error LOG_FORMAT=json GATEWAY_LISTEN_ADDR=127.0.0.1:$2 GATEWAY_DEDUPE="$3" INTERNAL_API_TOKEN=$TOKEN \
    QUICKMART_STATE_DIR="$WORK/state" \
    SUPERGRAPH_PATH="$WORK/supergraph.graphql" $([[ -n "${4:-}" ]] && callgrind_for gateway) "$BIN" serve gateway \
    >"$WORK/$1.log" 2>&1 &
  PIDS+=("$!")
  eval "PID_$1=$!"
  wait_for "http://127.0.0.1:$2/readyz" "$WORK/$1.log" "$!"
}
start_gateway ours_dedupe $((BASE_PORT + 10)) true
start_gateway ours_alone $((BASE_PORT + 11)) false profiled
[[ -n "$PROFILE" && "$PROFILE_PROCESS" == gateway ]] && PROFILED_PID=$PID_ours_alone
GATEWAYS=(ours_dedupe ours_alone)
if [[ -n "${HIVE_ROUTER_BIN:-}" ]]; then
  # hive-router's defaults (deduplication on), except that it forwards the caller's token to the subgraphs as ours
  # does: by default it forwards no header, and every signed-in row would be answered with errors, cheaply.
  printf 'headers:\n  all:\n    request:\n      - propagate:\n          named: Authorization\n' >"$WORK/hive.yaml"
  env HOST=127.0.0.1 PORT=$((BASE_PORT + 12)) LOG_LEVEL=error SUPERGRAPH_FILE_PATH="$WORK/supergraph.graphql" \
    ROUTER_CONFIG_FILE_PATH="$WORK/hive.yaml" "$HIVE_ROUTER_BIN" >"$WORK/hive.log" 2>&1 &
  PIDS+=("$!")
  PID_hive=$!
  for _ in $(seq 1 100); do curl -sf -H 'content-type: application/json' -d '{"query":"{ __typename }"}' \
    "http://127.0.0.1:$((BASE_PORT + 12))/graphql" >/dev/null 2>&1 && break; sleep 0.1; done
  GATEWAYS+=(hive)
fi
gateway_url() { case $1 in ours_dedupe) echo "http://127.0.0.1:$((BASE_PORT + 10))/graphql" ;;
  ours_alone) echo "http://127.0.0.1:$((BASE_PORT + 11))/graphql" ;; hive) echo "http://127.0.0.1:$((BASE_PORT + 12))/graphql" ;; esac; }

core() { curl -sf -H "x-internal-token: $TOKEN" -H 'content-type: application/json' "$@"; }
gql() { curl -sf -H 'content-type: application/json' "$UP_GATEWAY" "$@"; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Data: 5 categories, 200 products, 16 customers (registrations are limited to 20 an hour per address) with 3 orders of 2 items each.
ADMIN=$(gql -d '{"query":"mutation { login(email: \"admin@quickmart.local\", password: \"bench-admin-password\") { accessToken } }"}' \
  | json_field 'd["data"]["login"]["accessToken"]')
CATEGORIES=()
for n in $(seq 1 5); do
  CATEGORIES+=("$(core -X POST "$PRODUCT_CORE/v1/categories" -d "{\"name\":\"Category $n\",\"slug\":\"category-$n\"}" | json_field 'd["id"]')")
done
PRODUCTS=()
for n in $(seq 1 200); do
  PRODUCTS+=("$(core -X POST "$PRODUCT_CORE/v1/products" -d "{\"sku\":\"TPUT-$n\",\"name\":\"Product $n\",\"price\":$((100 + n * 7)),\"stock\":1000000,\"category_id\":\"${CATEGORIES[$((n % 5))]}\"}" \
    | json_field 'd["id"]')")
done
CUSTOMERS=()
for n in $(seq 1 16); do
  access=$(gql -d "{\"query\":\"mutation { register(input: { email: \\\"tput$n@bench.test\\\", password: \\\"bench-password-42\\\", name: \\\"Customer $n\\\" }) { accessToken } }\"}" \
    | json_field 'd["data"]["register"]["accessToken"]')
  CUSTOMERS+=("$access")
  for o in 1 2 3; do
    a=${PRODUCTS[$(((n * 3 + o) % 200))]}; b=${PRODUCTS[$(((n * 7 + o * 11) % 200))]}
    gql -H "Authorization: Bearer $access" -d "{\"query\":\"mutation(\$i: PlaceOrderInput!) { placeOrder(input: \$i) { id } }\",\"variables\":{\"i\":{\"idempotencyKey\":\"tput-$n-$o\",\"items\":[{\"productId\":\"$a\",\"quantity\":1},{\"productId\":\"$b\",\"quantity\":2}]}}}" >/dev/null
  done
done

cpu_ticks() { # pid…: user+system CPU ticks of these processes
  local total=0 pid
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
  done
  echo "$total"
}
postgres_pids() { pgrep -x postgres 2>/dev/null || pgrep postgres 2>/dev/null || true; }
TICKS=$(getconf CLK_TCK)
printf '%-44s %9s %9s %9s %12s %12s %12s\n' "row" "req/s" "p50" "p99" "gateway µs" "services µs" "postgres µs" >"$WORK/report.txt"

run() { # label url lua gateway-pid (or "-")
  local label=$1 url=$2 lua=$3 gateway_pid=$4
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$lua" "$url" >/dev/null
  local gateway_before services_before pg_pids pg_before
  gateway_before=$([[ $gateway_pid == - ]] && echo 0 || cpu_ticks "$gateway_pid")
  services_before=$(cpu_ticks "$UP_PID")
  mapfile -t pg_pids < <(postgres_pids)
  pg_before=$(cpu_ticks "${pg_pids[@]}")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$lua" "$url" >"$WORK/run.txt"
  local gateway_after services_after pg_after requests
  gateway_after=$([[ $gateway_pid == - ]] && echo 0 || cpu_ticks "$gateway_pid")
  services_after=$(cpu_ticks "$UP_PID")
  pg_after=$(cpu_ticks "${pg_pids[@]}")
  requests=$(awk '/requests in/ { print $1 }' "$WORK/run.txt")
  python3 - "$label" "$requests" "$TICKS" "$gateway_pid" \
    "$((gateway_after - gateway_before))" "$((services_after - services_before))" "$((pg_after - pg_before))" \
    "$(awk '/Requests\/sec/ { print $2 }' "$WORK/run.txt")" "$(awk '/ 50%/ { print $2 }' "$WORK/run.txt")" \
    "$(awk '/ 99%/ { print $2 }' "$WORK/run.txt")" >>"$WORK/report.txt" <<'PY'
import sys
label, requests, ticks, gateway_pid, gw, svc, pg, rps, p50, p99 = sys.argv[1:]
per = lambda t: f"{int(t) / int(ticks) / max(int(requests), 1) * 1e6:.0f}"
print(f"{label:<44} {float(rps):9.0f} {p50:>9} {p99:>9} {('-' if gateway_pid == '-' else per(gw)):>12} {per(svc):>12} {per(pg):>12}")
PY
  grep -E "Non-2xx|Socket errors" "$WORK/run.txt" | sed "s/^/    ($label) /" >>"$WORK/report.txt" || true
}

post_lua() { # file body [token]
  { printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
    [[ -n "${3:-}" ]] && printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$3"
    printf 'wrk.body = [[%s]]\n' "$2"; } >"$1"
}

if [[ -n "$PROFILE" ]]; then
  command -v callgrind_control >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind >/dev/null)
  send_requests() { # url body token count first: one after another on one connection; stops at the first non-200.
    # Each request's body has @N@ replaced by its number, counting from `first`: distinct texts when it is used.
    python3 - "$@" <<'PY'
import http.client, sys, urllib.parse
url, body, token, count, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
target = urllib.parse.urlsplit(url)
connection = http.client.HTTPConnection(target.hostname, target.port)
headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
for n in range(first, first + count):
    connection.request("POST", target.path, body.replace("@N@", str(n)).encode(), headers)
    answer = connection.getresponse()
    if answer.status != 200:
        sys.exit(f"{url}: {answer.status} {answer.read()[:300]!r}")
    answer.read()
PY
  }
  profile() { # label url body [token]: instructions per request of the services, and the costliest functions
    local label=$1 url=$2 body=$3 token=${4:-} dump
    send_requests "$url" "$body" "$token" 5 0 # warm the caches and connections first, uncounted
    callgrind_control -z "$PROFILED_PID" >/dev/null
    callgrind_control -i on "$PROFILED_PID" >/dev/null
    send_requests "$url" "$body" "$token" "$PROFILE_REQUESTS" 5
    callgrind_control -i off "$PROFILED_PID" >/dev/null
    callgrind_control -d "$PROFILED_PID" >/dev/null
    dump=$(ls -t "$WORK"/callgrind.out.* | head -n 1)
    if [[ -n "${PROFILE_OUT:-}" ]]; then mkdir -p "$PROFILE_OUT" && cp "$dump" "$PROFILE_OUT/"; fi
    {
      echo "== $label: $PROFILE_REQUESTS requests"
      for inclusive in yes no; do
        callgrind_annotate --inclusive=$inclusive "$dump" 2>/dev/null | python3 -c '
import re, sys
count, top, inclusive = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "yes"
lines = sys.stdin.read().splitlines()
total = next(int(re.match(r"\s*([\d,]+)", l).group(1).replace(",", "")) for l in lines if "PROGRAM TOTALS" in l)
if inclusive:
    print(f"   {sys.argv[4]}: {total / count:,.0f} instructions per request")
print("   costliest, " + ("with what they call:" if inclusive else "by their own instructions:"))
rows = [l for l in lines if re.match(r"^\s*[\d,]+ \(", l)]
for row in rows[:top]:
    print("   " + row[:170])
'  "$PROFILE_REQUESTS" "${PROFILE_TOP:-40}" "$inclusive" "$PROFILE_PROCESS"
      done
    } >>"$WORK/report.txt"
  }
  : >"$WORK/report.txt"
  if [[ "$PROFILE_PROCESS" == services ]]; then
    profile "products(first: 20) at the product subgraph" "$PRODUCT_SUBGRAPH" \
      '{"query":"{ products(first: 20) { nodes { id name price { amount } stock category { id } } } }"}'
    profile "orders(first: 20) at the order subgraph" "$ORDER_SUBGRAPH" \
      '{"query":"{ orders(first: 20) { nodes { id status total { amount } items { quantity unitPrice { amount } } } } }"}' "$ADMIN"
  else
    profile "a product page via ours_alone" "$(gateway_url ours_alone)" \
      '{"query":"{ products(first: 20, sort: PRICE_ASC) { nodes { id name price { amount } stock } } }"}'
  fi
  # The mix's four kinds of request (row 4), one at a time. Its product pages: a new text each time, the same
  # operation but for its literals.
  profile "distinct product pages via ours_alone" "$(gateway_url ours_alone)" \
    '{"query":"{ products(first: 20, sort: PRICE_ASC, filter: { minPrice: @N@ }) { nodes { id name price { amount } stock } } }"}'
  profile "a product by id via ours_alone" "$(gateway_url ours_alone)" \
    "{\"query\":\"{ product(id: \\\"${PRODUCTS[0]}\\\") { id name stock price { amount currency } category { name } } }\"}"
  profile "a customer's orders via ours_alone" "$(gateway_url ours_alone)" \
    '{"query":"{ orders(first: 3) { nodes { id status total { amount } } } }"}' "${CUSTOMERS[0]}"
  profile "a customer's orders with their products via ours_alone" "$(gateway_url ours_alone)" \
    '{"query":"{ me { name } orders(first: 3) { nodes { id items { quantity product { name price { amount } } } } } }"}' "${CUSTOMERS[0]}"
  profile "heavy query via ours_alone" "$(gateway_url ours_alone)" \
    '{"query":"{ orders(first: 20) { nodes { id total { amount } user { name email } items { quantity product { name price { amount } category { name } } } } } }"}' "$ADMIN"
  echo
  if [[ "$PROFILE_PROCESS" == services ]]; then
    echo "== profile: instructions counted by callgrind, inclusive; the gateway (its own process) is not counted =="
  else
    echo "== profile of the gateway: instructions counted by callgrind, inclusive; the services are not counted =="
  fi
  cat "$WORK/report.txt"
  exit 0
fi

# 1 and 2: single-subgraph reads.
post_lua "$WORK/products.lua" '{"query":"{ products(first: 20) { nodes { id name price { amount } stock category { id } } } }"}'
run "products(first: 20) at the product subgraph" "$PRODUCT_SUBGRAPH" "$WORK/products.lua" -
post_lua "$WORK/orders.lua" '{"query":"{ orders(first: 20) { nodes { id status total { amount } items { quantity unitPrice { amount } } } } }"}' "$ADMIN"
run "orders(first: 20) at the order subgraph" "$ORDER_SUBGRAPH" "$WORK/orders.lua" -

# wrk counts HTTP statuses only, and a GraphQL error is a 200: each gateway must answer a signed-in request with
# data before it is timed, or a gateway that drops the token would look fast.
answers_with_data() { # url body token
  curl -sf -H 'content-type: application/json' -H "Authorization: Bearer $3" "$1" -d "$2" | python3 -c '
import json, sys
answer = json.load(sys.stdin)
if answer.get("errors") or not answer.get("data"):
    sys.exit(f"{sys.argv[1]} answered {json.dumps(answer)[:300]}")' "$1"
}

# 3: the heavy query, identical requests.
post_lua "$WORK/heavy.lua" '{"query":"{ orders(first: 20) { nodes { id total { amount } user { name email } items { quantity product { name price { amount } category { name } } } } } }"}' "$ADMIN"
for gateway in "${GATEWAYS[@]}"; do
  answers_with_data "$(gateway_url "$gateway")" '{"query":"{ orders(first: 20) { nodes { id total { amount } user { name email } items { quantity product { name price { amount } category { name } } } } } }"}' "$ADMIN"
  answers_with_data "$(gateway_url "$gateway")" '{"query":"{ me { name } orders(first: 3) { nodes { id items { quantity product { name price { amount } } } } } }"}' "${CUSTOMERS[0]}"
done
for gateway in "${GATEWAYS[@]}"; do
  pid_var="PID_$gateway"
  run "heavy query via $gateway" "$(gateway_url "$gateway")" "$WORK/heavy.lua" "${!pid_var}"
done

# 3b: the same heavy query as a persisted document (APQ): registered once, then sent as its hash alone, so the
# gateway finds the text by hash and the plan in its cache, and parses nothing.
HEAVY_QUERY='{ orders(first: 20) { nodes { id total { amount } user { name email } items { quantity product { name price { amount } category { name } } } } } }'
HEAVY_HASH=$(printf '%s' "$HEAVY_QUERY" | sha256sum | cut -d' ' -f1)
curl -sf -H 'content-type: application/json' -H "Authorization: Bearer $ADMIN" "$(gateway_url ours_dedupe)" \
  -d "{\"query\":\"$HEAVY_QUERY\",\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"$HEAVY_HASH\"}}}" >/dev/null
post_lua "$WORK/heavy-persisted.lua" "{\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"$HEAVY_HASH\"}}}" "$ADMIN"
run "heavy query via ours_dedupe, persisted (hash only)" "$(gateway_url ours_dedupe)" "$WORK/heavy-persisted.lua" "$PID_ours_dedupe"

# 4: distinct queries. Each request picks its query, page and caller at random.
{
  echo 'local products = {'; for id in "${PRODUCTS[@]}"; do echo "  \"$id\","; done; echo '}'
  echo 'local customers = {'; for t in "${CUSTOMERS[@]}"; do echo "  \"$t\","; done; echo '}'
  cat <<'LUA'
local sorts = { "NEWEST", "PRICE_ASC", "PRICE_DESC", "NAME_ASC" }
wrk.method = "POST"
function init(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)) end
function request()
  local pick = math.random(4)
  local headers = { ["Content-Type"] = "application/json" }
  local body
  if pick == 1 then
    body = '{"query":"{ products(first: ' .. math.random(20) .. ', sort: ' .. sorts[math.random(#sorts)]
      .. ', filter: { minPrice: ' .. (100 + math.random(1000)) .. ' }) { nodes { id name price { amount } stock } } }"}'
  elseif pick == 2 then
    body = '{"query":"{ product(id: \\"' .. products[math.random(#products)] .. '\\") { id name stock price { amount currency } category { name } } }"}'
  else
    headers["Authorization"] = "Bearer " .. customers[math.random(#customers)]
    if pick == 3 then
      body = '{"query":"{ orders(first: ' .. math.random(3) .. ') { nodes { id status total { amount } } } }"}'
    else
      body = '{"query":"{ me { name } orders(first: 3) { nodes { id items { quantity product { name price { amount } } } } } }"}'
    end
  end
  return wrk.format(nil, nil, headers, body)
end
LUA
} >"$WORK/mixed.lua"
for gateway in "${GATEWAYS[@]}"; do
  pid_var="PID_$gateway"
  run "distinct mix via $gateway" "$(gateway_url "$gateway")" "$WORK/mixed.lua" "${!pid_var}"
done

echo
echo "== throughput: $CONNECTIONS connections, ${DURATION}s per row, $(nproc) cores; CPU per request in µs =="
cat "$WORK/report.txt"
echo "(services = the quickmart up process: three subgraphs and three cores; postgres = every postgres process)"
