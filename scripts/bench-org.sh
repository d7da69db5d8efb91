#!/usr/bin/env bash
# Organization-scale benchmark: the management account of an AWS organization onboarded with
# 1,000 member accounts (plan set, OIDC trust by CloudFormation with an organization block,
# organization-mode security connector) through the real Terraform CLI, against emulators
# that enforce the rate-limit model of docs/performance.md. Runs without and with 10% of the
# calls throttled at random, then at 100 and 300 accounts for peak RSS per size.
# Usage: scripts/bench-org.sh [--org-accounts N] [--org-random-throttle 0,0.1]
#                             [--org-rss-sizes 100,300] [--stack-seconds 30]
# The provider is the debug build (set MULTICLOUD_PROVIDER_PROFILE=release to build and use
# the release binary instead). Paste the printed tables into docs/performance.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/tools.sh
source "$ROOT/scripts/tools.sh"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
echo "==> cargo build --workspace --bins" >&2
cargo build --workspace --bins
PROVIDER_DIR="$TARGET/debug"
if [[ "${MULTICLOUD_PROVIDER_PROFILE:-debug}" == release ]]; then
    echo "==> cargo build --release (provider)" >&2
    cargo build --release -p terraform-provider-multicloud --bin terraform-provider-multicloud
    # The harness takes every binary from one directory: the release provider next to the
    # debug emulator.
    PROVIDER_DIR="$(mktemp -d)"
    trap 'rm -rf "$PROVIDER_DIR"' EXIT
    ln -s "$TARGET/release/terraform-provider-multicloud" "$PROVIDER_DIR/"
    ln -s "$TARGET/debug/arm-emulator" "$PROVIDER_DIR/"
fi
MULTICLOUD_TARGET_DIR="$PROVIDER_DIR" MULTICLOUD_TOOLS_DIR="$TOOLS_DIR" \
    "$TARGET/debug/bench" --org "$@"
