#!/usr/bin/env bash
# The crate graph rule of docs/ARCHITECTURE.md ("Crates and what they may depend on"): a core's callers
# depend on its contract crate, never on the core. Fails naming the crate that broke it.
set -euo pipefail
cd "$(dirname "$0")/.."

CORES=(product-core user-core order-core)
# Each caller, and the core crates its normal and build dependencies must not contain.
CALLERS=(product-subgraph user-subgraph order-subgraph order-core quickmart-gateway product-contract user-contract order-contract)
failed=0
for caller in "${CALLERS[@]}"; do
  tree=$(cargo tree --locked -e normal,build -p "$caller" --prefix none | sort -u)
  for core in "${CORES[@]}"; do
    [[ "$core" == "$caller" ]] && continue
    if grep -q "^$core " <<<"$tree"; then
      echo "error: $caller depends on $core; depend on its contract crate instead" >&2
      failed=1
    fi
  done
done
# Heavy crates by job: subgraphs, contracts and the gateway never link diesel; the gateway never async-graphql.
forbid() { # package crate...
  local package=$1; shift
  local tree
  tree=$(cargo tree --locked -e normal,build -p "$package" --prefix none | sort -u)
  for crate in "$@"; do
    if grep -q "^$crate " <<<"$tree"; then
      echo "error: $package links $crate; enable only the quickmart-shared features it uses" >&2
      failed=1
    fi
  done
}
for package in product-subgraph user-subgraph order-subgraph product-contract user-contract order-contract; do
  forbid "$package" diesel diesel-async
done
# The gateway links redis since persisted documents are shared through it (docs/ARCHITECTURE.md).
forbid quickmart-gateway diesel diesel-async async-graphql utoipa
[[ $failed -eq 0 ]] && echo "crate graph: no caller depends on a core crate; no heavy crate outside its job"
exit "$failed"
