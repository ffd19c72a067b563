#!/usr/bin/env bash
# The developer surfaces as their users meet them (surfaces/; docs/ARCHITECTURE.md, "GraphiQL", "GraphQL over
# HTTP" and "OpenAPI documents"): headless Chromium opens GraphiQL and a core's Swagger UI, the GraphQL-over-HTTP
# audit runs against the gateway, CD's smoke test (scripts/deploy/smoke.sh) runs, Schemathesis runs every check
# against each core's OpenAPI document (surfaces/schemathesis.toml, a fixed seed), and every metric the alerts and
# the dashboard name must be exported. The whole system is started here by `quickmart up` on free ports, with
# databases of its own (dropped afterwards) and the demo catalog. Installs Debian's chromium, the locked npm
# packages and the pinned Python packages (in a virtual environment of its own) when they are missing.
# scripts/test.sh runs it in the integration stage.
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
# A virtual environment per set of pins, reused while surfaces/requirements.txt stays the same.
VENV="${QUICKMART_VENV_ROOT:-$HOME/.cache/quickmart-venvs}/$(sha256sum surfaces/requirements.txt | cut -c1-16)"
if [[ ! -x "$VENV/bin/schemathesis" ]]; then
  echo "installing Schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r surfaces/requirements.txt
fi

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

# CD's smoke test (scripts/deploy/smoke.sh) passes against a running stack, and fails where no gateway answers.
bash scripts/deploy/smoke.sh "http://127.0.0.1:${PORTS[0]}/graphql" 20
if bash scripts/deploy/smoke.sh "http://127.0.0.1:${PORTS[5]}/graphql" 0 2>/dev/null; then
  echo "the smoke test passed against product-core, which serves no GraphQL" >&2
  exit 1
fi
echo "ok   - smoke: fails where no gateway answers"

# After the browser tests, which expect the demo catalog as seeded: Schemathesis creates and changes data.
export QUICKMART_INTERNAL_TOKEN=quickmart-dev-internal-token
# Hypothesis keeps its files with the run's other leftovers, not in the checkout.
export HYPOTHESIS_STORAGE_DIRECTORY="$WORK/hypothesis"
failed=()
for core in user:${PORTS[4]} product:${PORTS[5]} order:${PORTS[6]}; do
  echo "--- Schemathesis: ${core%%:*}-core"
  if "$VENV/bin/schemathesis" --config-file surfaces/schemathesis.toml run --no-color \
    "http://127.0.0.1:${core##*:}/openapi.json" >"$WORK/schemathesis.log" 2>&1; then
    sed -n '/SUMMARY/,$p' "$WORK/schemathesis.log"
  else
    cat "$WORK/schemathesis.log"
    failed+=("${core%%:*}-core")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "Schemathesis found failures in: ${failed[*]} (replay a case with its 'st replay' line above)"
  exit 1
fi

# Every metric the alerts and the Grafana dashboard name (k8s/components/monitoring) is exported, now that the
# tests above have exercised every service (one process, so one scrape holds them all); an empty scrape fails.
curl -fsS "http://127.0.0.1:${PORTS[0]}/metrics" >"$WORK/metrics.txt"
"$VENV/bin/python" k8s/tests/monitoring_metrics.py check "$WORK/metrics.txt"
if "$VENV/bin/python" k8s/tests/monitoring_metrics.py check /dev/null >/dev/null; then
  echo "the metrics check passed on an empty scrape" >&2
  exit 1
fi
