#!/usr/bin/env bash
# The project's one test command (README.md names it; .ci/run calls it with no arguments, which runs every
# stage). The CI workflow runs the stages as parallel jobs: `scripts/test.sh lint`, `unit`, `integration`,
# `deploy`.
#
#   lint         cargo fmt --check, clippy (warnings are errors), GraphiQL's checksums, the crate-graph rule,
#                cargo package of the shared library, cargo deny (licences, bans, sources)
#   unit         unit tests of every crate (cargo nextest, profile ci)
#   integration  integration and end-to-end tests, doc tests, the surface tests (browser, GraphQL over HTTP,
#                Schemathesis against the OpenAPI documents), schema and OpenAPI drift
#   deploy       the deployment validators and the backup/restore round trip
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds are reused between runs when the cache folder survives; a fresh machine simply starts empty.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quickmart-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TOOLS="${QUICKMART_CARGO_TOOLS:-$HOME/.cache/quickmart-cargo-tools}"
export PATH="$TOOLS/bin:$PATH"

STAGES=("$@")
[[ ${#STAGES[@]} -eq 0 ]] && STAGES=(lint unit integration deploy)
for stage in "${STAGES[@]}"; do
  case "$stage" in
    lint | unit | integration | deploy) ;;
    *) echo "unknown stage '$stage' (lint, unit, integration, deploy)" >&2; exit 2 ;;
  esac
done
wants() { [[ " ${STAGES[*]} " == *" $1 "* ]]; }

step() { printf '\n==> %s\n' "$*"; }

# cargo-nextest is on the machines this project runs on; cargo-deny is installed once, from crates.io, into a
# cache folder that later runs reuse.
ensure_cargo_tool() {
  local binary=$1 crate=$2 version=$3
  if command -v "$binary" >/dev/null 2>&1; then return 0; fi
  step "installing $crate $version into $TOOLS"
  cargo install --locked --root "$TOOLS" "$crate" --version "$version"
}

if wants unit || wants integration || wants deploy; then
  # shellcheck source=scripts/lib/services.sh
  source scripts/lib/services.sh
  ensure_postgres
  ensure_redis
fi

if wants lint; then
  step "cargo fmt --check"
  cargo fmt --all -- --check

  step "cargo clippy (warnings are errors)"
  cargo clippy --workspace --all-targets --locked -- -D warnings

  step "vendored GraphiQL matches its checksums"
  bash scripts/vendor-graphiql.sh --check

  step "crate graph: callers depend on contracts, never on cores; docs/ARCHITECTURE.md's table matches"
  bash scripts/check-deps.sh
  python3 scripts/check-architecture.py

  # The shared library is released as a package of its own (shared/CHANGELOG.md): it must package and build
  # alone, from its published sources and crates.io dependencies only.
  step "cargo package -p quickmart-shared"
  cargo package -p quickmart-shared --locked --allow-dirty

  ensure_cargo_tool cargo-deny cargo-deny 0.20.2
  step "cargo deny check licenses bans sources"
  cargo deny --locked check licenses bans sources
fi

if wants unit || wants integration; then
  ensure_cargo_tool cargo-nextest cargo-nextest 0.9.143
fi

if wants unit; then
  step "unit tests"
  cargo nextest run --workspace --locked --profile ci --no-tests warn -E 'kind(lib) + kind(bin)'
fi

if wants integration; then
  step "integration and end-to-end tests"
  cargo nextest run --workspace --locked --profile ci -E 'kind(test)'
  step "doc tests"
  cargo test --workspace --locked --doc

  step "developer surfaces: GraphiQL and Swagger UI offline in headless Chromium, the GraphQL-over-HTTP audit, Schemathesis"
  bash scripts/test-surfaces.sh

  step "schema drift: subgraph SDLs, supergraph and OpenAPI documents match the code"
  cargo run --quiet --locked -p quickmart -- compose --check
  cargo run --quiet --locked -p quickmart -- openapi --check
fi

if wants deploy; then
  step "deployment validators"
  bash scripts/validate-deploy.sh

  step "backup and restore round trip"
  bash scripts/test-backup.sh
fi
