# syntax=docker/dockerfile:1
# QuickMart: one image, one binary. Every service runs from it as `quickmart serve <service>`, and the
# migration Job as `quickmart migrate`.
#
#   planner  reduces the source tree to what decides the dependency graph (manifests, lockfile, stub roots)
#   builder  builds the dependencies from that skeleton (a layer that stays cached until a manifest or the
#            lockfile changes), then the real sources
#   backup   (`--target backup`) the backup and restore CronJobs' image: PostgreSQL 15's client tools with age
#            and the aws CLI, for the encrypted off-site copies (scripts/backup/offsite.sh)
#   runtime  distroless (glibc + CA certificates, no shell), non-root, just the binary (the default target)

FROM rust:1.95-slim-bookworm AS planner
WORKDIR /src
COPY . .
# Keep Cargo manifests, the lockfile and cargo's own config; empty every target root file (lib.rs and
# main.rs, src/bin/*, build.rs, and the roots of tests, benches and examples, which cargo needs to find
# to read a manifest); delete everything else. Editing a module, a migration or an asset then leaves this
# stage's output byte-for-byte the same, so the dependency layer below stays cached.
RUN find . -type f \
        ! -name Cargo.toml ! -name Cargo.lock ! -path './.cargo/*' ! -name 'rust-toolchain*' \
        ! -regex '.*/\(src/lib\|src/main\|src/bin/[^/]*\|src/bin/[^/]*/main\|build\|\(tests\|benches\|examples\)/[^/]*\|\(tests\|benches\|examples\)/[^/]*/main\)\.rs' \
        -delete \
    && find . -type d -empty -delete \
    && printf 'fn main() {}\n' > /tmp/main-stub.rs \
    && find . -name '*.rs' ! -path '*/src/lib.rs' -exec cp /tmp/main-stub.rs {} ';' \
    && find . -path '*/src/lib.rs' -exec truncate -s 0 {} +

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
# Dependencies only: this layer is reused until Cargo.toml/Cargo.lock change.
COPY --from=planner /src ./
RUN cargo build --release --locked -p quickmart --bin quickmart
COPY . .
# COPY keeps the sources' own modification times, which can be older than the stub build above; touch
# them so cargo rebuilds the workspace crates instead of reusing the stubs.
RUN find . -path ./target -prune -o -name '*.rs' -exec touch {} + \
    && cargo build --release --locked -p quickmart --bin quickmart \
    && install -D -m 0755 target/release/quickmart /out/quickmart

FROM postgres:15-bookworm AS backup
# Debian's packages, pinned to bookworm's versions; the scripts come from a ConfigMap, not the image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends age=1.1.1-1+b3 awscli=2.9.19-1 \
    && rm -rf /var/lib/apt/lists/*
USER 10001:10001

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="quickmart" \
      org.opencontainers.image.description="QuickMart e-commerce backend: gateway, subgraphs and core services in one binary" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /out/quickmart /usr/local/bin/quickmart
# Listen on every interface inside the container; each service still picks its own port.
ENV LOG_FORMAT=json \
    GATEWAY_LISTEN_ADDR=0.0.0.0:4000 \
    USER_SUBGRAPH_LISTEN_ADDR=0.0.0.0:4001 \
    PRODUCT_SUBGRAPH_LISTEN_ADDR=0.0.0.0:4002 \
    ORDER_SUBGRAPH_LISTEN_ADDR=0.0.0.0:4003 \
    USER_CORE_LISTEN_ADDR=0.0.0.0:8081 \
    PRODUCT_CORE_LISTEN_ADDR=0.0.0.0:8082 \
    ORDER_CORE_LISTEN_ADDR=0.0.0.0:8083
EXPOSE 4000 4001 4002 4003 8081 8082 8083
# The numeric id of distroless's `nonroot` user, so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/quickmart"]
CMD ["--help"]
