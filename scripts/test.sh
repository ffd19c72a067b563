#!/usr/bin/env bash
# The project's one test command (README.md names it; .ci/run and the CI workflow call it):
# PostgreSQL and Redis up, then formatting, lints, the whole test suite, schema drift, and the
# deployment validators and backup round trip.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are reused between runs when the cache folder survives; a fresh machine simply starts empty.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quickmart-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
ensure_postgres
ensure_redis

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked --no-fail-fast

if [[ -f cli/Cargo.toml ]]; then
  step "schema drift: subgraph SDLs, supergraph and OpenAPI documents match the code"
  cargo run --quiet --locked -p quickmart -- compose --check
  cargo run --quiet --locked -p quickmart -- openapi --check
fi

step "deployment validators"
bash scripts/validate-deploy.sh

step "backup and restore round trip"
bash scripts/test-backup.sh
