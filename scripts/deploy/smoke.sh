#!/usr/bin/env bash
# Smoke test of a deployed QuickMart, through its public endpoint (the Ingress in a cluster): the gateway
# answers `{ __typename }`, and a product list resolves through the gateway, the product subgraph and
# product-core. CD runs it after every rollout and rolls back when it fails (.github/workflows/deploy.yml);
# scripts/test-surfaces.sh runs it against `quickmart up`.
#
#   scripts/deploy/smoke.sh https://api.quickmart.example/graphql [SECONDS]
#
# Retries for SECONDS (default 120: a new Ingress rule or certificate can take a moment), then fails with the
# last answer. Needs curl and python3 (standard library only).
set -euo pipefail

url=${1:?usage: smoke.sh GRAPHQL_URL [SECONDS]}
budget=${2:-120}

# query NAME DOCUMENT CHECK: CHECK is a Python expression over `data`, the answer's data field.
query() {
  local name=$1 document=$2 check=$3 answer="" deadline=$((SECONDS + budget))
  local body
  body=$(python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$document")
  while true; do
    answer=$(curl -sS --max-time 10 -H 'content-type: application/json' -H 'accept: application/graphql-response+json' \
      --data "$body" "$url" 2>&1) || true
    if python3 -c '
import json, sys
answer = json.loads(sys.argv[1])
data = answer.get("data")
sys.exit(0 if not answer.get("errors") and data and ('"$check"') else 1)' "$answer" 2>/dev/null; then
      echo "ok   - smoke: $name"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      echo "FAIL - smoke: $name at $url; last answer: ${answer:0:500}" >&2
      return 1
    fi
    sleep 5
  done
}

query "the gateway answers { __typename }" '{ __typename }' 'data["__typename"] == "Query"'
query "a product list resolves through the product subgraph and core" \
  '{ products(first: 3) { nodes { id name price { amount currency } } } }' 'isinstance(data["products"]["nodes"], list)'
