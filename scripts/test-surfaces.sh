#!/usr/bin/env bash
# The developer surfaces as their users meet them (surfaces/; docs/ARCHITECTURE.md, "GraphiQL" and "GraphQL
# over HTTP"): headless Chromium opens GraphiQL and a core's Swagger UI, and the GraphQL-over-HTTP audit runs
# against the gateway. The whole system is started here by `quickmart up` on free ports, with databases of its
# own (dropped afterwards) and the demo catalog. Installs Debian's chromium and the locked npm packages when they
# are missing. scripts/test.sh runs it in the integration stage.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quickmart-target}"
source scripts/lib/services.sh
ensure_postgres
ensure_redis

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  echo "installing Debian's chromium"
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
fi
(cd surfaces && npm ci --silent --no-audit --no-fund)

cargo build -q --locked -p quickmart --bin quickmart
BIN="$CARGO_TARGET_DIR/debug/quickmart"

WORK=$(mktemp -d)
RUN_ID=$(date +%s)$$
DBS=(quickmart_surfaces_user_$RUN_ID quickmart_surfaces_product_$RUN_ID quickmart_surfaces_order_$RUN_ID)
UP_PID=""
cleanup() {
  [[ -n "$UP_PID" ]] && kill -INT "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
  for db in "${DBS[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

mapfile -t PORTS < <(python3 - <<'PY'
import socket
sockets = [socket.socket() for _ in range(7)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
for s in sockets:
    print(s.getsockname()[1])
PY
)
env RUST_LOG=warn \
  GATEWAY_LISTEN_ADDR=127.0.0.1:${PORTS[0]} USER_SUBGRAPH_LISTEN_ADDR=127.0.0.1:${PORTS[1]} \
  PRODUCT_SUBGRAPH_LISTEN_ADDR=127.0.0.1:${PORTS[2]} ORDER_SUBGRAPH_LISTEN_ADDR=127.0.0.1:${PORTS[3]} \
  USER_CORE_LISTEN_ADDR=127.0.0.1:${PORTS[4]} PRODUCT_CORE_LISTEN_ADDR=127.0.0.1:${PORTS[5]} \
  ORDER_CORE_LISTEN_ADDR=127.0.0.1:${PORTS[6]} \
  USER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[0]} \
  PRODUCT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[1]} \
  ORDER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/${DBS[2]} \
  REDIS_URL=redis://127.0.0.1:6379 CACHE_NAMESPACE="surfaces-$RUN_ID:" \
  QUICKMART_STATE_DIR="$WORK/state" \
  "$BIN" up >"$WORK/up.log" 2>&1 &
UP_PID=$!
wait_for_quickmart_up "$WORK/up.log" "$UP_PID" 60

QUICKMART_GATEWAY_URL="http://127.0.0.1:${PORTS[0]}/graphql" \
  QUICKMART_CORE_DOCS_URL="http://127.0.0.1:${PORTS[5]}/docs/" CHROMIUM="$CHROMIUM" \
  node --test --test-timeout=120000 surfaces/browser.test.mjs surfaces/graphql-http.test.mjs || { echo "--- quickmart up's log:"; tail -50 "$WORK/up.log"; exit 1; }
