#!/usr/bin/env bash
# Benchmark of the provider next to the Go `null` provider, in the same run on
# the same machine: release build time, binary size, spawn to go-plugin
# handshake, peak RSS, `terraform providers schema -json`, and refresh + plan
# of 200 applied resources; then the quickstart's cloud API calls per phase
# (counted by the emulators; skip with BENCH_API_CALLS=0); last the organization-scale run
# (scripts/bench-org.sh, 1,000 member accounts; skip with BENCH_ORG=0).
# Usage: scripts/bench.sh [--runs N] [--plan-runs N] [--rss-runs N]
# (arguments go to the bench binary, see
# `cargo run -p acceptance-tests --bin bench -- --help`).
# Paste the printed tables into docs/performance.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/tools.sh
source "$ROOT/scripts/tools.sh"

echo "==> cargo build --release -p terraform-provider-multicloud (timed)" >&2
start=$(date +%s.%N)
cargo build --release -p terraform-provider-multicloud --bin terraform-provider-multicloud
build_secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
echo "    (an incremental build is fast; run \`cargo clean -p terraform-provider-multicloud --release\` first for a full one)" >&2

# The driver only spawns processes and waits on them: a debug build is
# enough and spares a release build of the harness's dependencies.
echo "==> building the bench binary (with the whole workspace, as the tests build it)" >&2
cargo build --workspace --bins

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
MULTICLOUD_TOOLS_DIR="$TOOLS_DIR" "$TARGET/debug/bench" \
    --provider "$TARGET/release/terraform-provider-multicloud" --build-secs "$build_secs" "$@"

if [[ "${BENCH_API_CALLS:-1}" != 0 ]]; then
    echo "==> quickstart API calls (debug build, emulated clouds)" >&2
    MULTICLOUD_TARGET_DIR="$TARGET/debug" MULTICLOUD_TOOLS_DIR="$TOOLS_DIR" "$TARGET/debug/bench" --api-calls
fi

if [[ "${BENCH_ORG:-1}" != 0 ]]; then
    echo "==> organization scale (scripts/bench-org.sh)" >&2
    "$ROOT/scripts/bench-org.sh"
fi
