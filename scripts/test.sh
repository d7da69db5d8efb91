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

# A fresh clone gains nothing from incremental artefacts; they only cost time and disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Installing the tools mostly waits on downloads, so it runs while clippy uses the cores.
TOOLS_LOG="$(mktemp)"
(
    start=$SECONDS
    bash "$ROOT/scripts/tools.sh"
    echo "tools installed in $((SECONDS - start)) s (alongside fmt and clippy)"
) >"$TOOLS_LOG" 2>&1 &
TOOLS_PID=$!
tools_ready() {
    local rc=0
    wait "$TOOLS_PID" || rc=$?
    cat "$TOOLS_LOG" >&2
    rm -f "$TOOLS_LOG"
    [[ $rc -eq 0 ]] || return "$rc"
    eval "$(bash "$ROOT/scripts/tools.sh" --print-env)"
}

# Otherwise both cores for one job at a time: the cargo phases run in sequence.
phase "cargo fmt --check" cargo fmt --all --check
phase "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
phase "install tools (.tools/)" tools_ready
# One build of the tests and, with the same features, of the binaries the acceptance tests run
# (a separate `cargo build --bins` would build the workspace a second time: the tests' dev
# dependencies change the features of shared dependencies such as tokio).
phase "cargo build (tests, binaries)" cargo test --workspace --no-run

# The acceptance harness reads these; the binaries are the ones just built.
export TF_ACC=1
export MULTICLOUD_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
export MULTICLOUD_TOOLS_DIR="$TOOLS_DIR"
# Acceptance scenarios spend most of their time waiting on child processes (Terraform, the
# provider, the emulators), so three at a time use two cores better than two.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-3}"
phase "cargo test" cargo test --workspace
