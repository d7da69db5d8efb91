#!/usr/bin/env bash
# Start-up benchmark of the provider next to the Go `null` provider, in the
# same run on the same machine: release build time, binary size, spawn to
# go-plugin handshake, peak RSS, and `terraform providers schema -json`.
# Usage: scripts/bench.sh [--runs N]   (default 9; extra arguments go to the
# bench binary, see `cargo run -p acceptance-tests --bin bench -- --help`)
# Paste the printed table into docs/performance.md.
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

echo "==> building the bench binary" >&2
cargo build --release -p acceptance-tests --bin bench

PROVIDER="${CARGO_TARGET_DIR:-$ROOT/target}/release/terraform-provider-multicloud"
MULTICLOUD_TOOLS_DIR="$TOOLS_DIR" "${CARGO_TARGET_DIR:-$ROOT/target}/release/bench" \
    --provider "$PROVIDER" --build-secs "$build_secs" "$@"
