#!/usr/bin/env bash
# All checks and tests, as CI runs them: formatting, clippy, then every unit,
# documentation and acceptance test. Acceptance tests drive the real Terraform
# CLI (installed into .tools/ from PyPI) against the provider and the emulated
# clouds; they start their own emulators on free ports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TIMINGS=()
phase() {
    local name="$1"
    shift
    printf '\n\033[1m==> %s\033[0m\n' "$name"
    local start=$SECONDS
    "$@"
    TIMINGS+=("$(printf '%-28s %5ds' "$name" $((SECONDS - start)))")
}
report() {
    local rc=$?
    printf '\n==> timings\n'
    local t
    for t in "${TIMINGS[@]}"; do printf '  %s\n' "$t"; done
    printf '  %-28s %5ds\n' total "$SECONDS"
    if [[ $rc -ne 0 ]]; then
        printf '\033[1;31mtest.sh failed (exit %d)\033[0m\n' "$rc" >&2
    fi
}
trap report EXIT

# Both cores for one job at a time: phases run in sequence.
phase "cargo fmt --check" cargo fmt --all --check
phase "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
# shellcheck source=scripts/tools.sh
phase "install tools (.tools/)" source "$ROOT/scripts/tools.sh"
phase "cargo build (binaries)" cargo build --workspace --bins

# The acceptance harness reads these; the binaries are the ones just built.
export TF_ACC=1
export MULTICLOUD_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
export MULTICLOUD_TOOLS_DIR="$TOOLS_DIR"
# Acceptance scenarios spend most of their time waiting on child processes (Terraform, the
# provider, the emulators), so three at a time use two cores better than two.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-3}"
phase "cargo test" cargo test --workspace
