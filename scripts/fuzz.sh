#!/usr/bin/env bash
# Fuzzes the provider's parsers with libFuzzer (cargo-fuzz, nightly toolchain): the plugin
# protocol's DynamicValue decoders (msgpack, JSON, type JSON), ARM responses (error bodies,
# models, long-running-operation status, token claims, Retry-After) and AWS policy documents
# and trust templates. The target bodies live in src/fuzzing.rs; `cargo test --test
# fuzz_replay` replays the checked-in seeds and regressions through them on stable.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
#
# cargo-fuzz is installed project-locally into .tools/cargo (gitignored). The working corpus
# grows in fuzz/corpus/<target> (gitignored), seeded from fuzz/seeds/<target>; a crash is
# written to fuzz/artifacts/<target>/ and the script stops with its path: minimise it
# (`cargo +nightly fuzz tmin --fuzz-dir fuzz <target> <file>`), fix the bug, and add the
# input to fuzz/regressions/<target>/ so the replay test keeps it fixed.
#
# Environment: FUZZ_SANITIZER (default `none`; `address` for ASan, slower), FUZZ_JOBS
# (parallel fuzzing jobs per target, default 1), FUZZ_MAX_LEN (default 4096 bytes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET="${1:-60}"
shift || true
mapfile -t ALL_TARGETS < <(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^terraform')
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: the nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 1
fi
CARGO_FUZZ_ROOT="$ROOT/.tools/cargo"
if [[ ! -x "$CARGO_FUZZ_ROOT/bin/cargo-fuzz" ]]; then
    echo "==> installing cargo-fuzz into .tools/cargo"
    cargo install --locked --root "$CARGO_FUZZ_ROOT" cargo-fuzz
fi
export PATH="$CARGO_FUZZ_ROOT/bin:$PATH"

SANITIZER="${FUZZ_SANITIZER:-none}"
echo "==> building the fuzz targets (nightly, sanitizer: $SANITIZER)"
cargo +nightly fuzz build --fuzz-dir fuzz --sanitizer "$SANITIZER"

declare -a SUMMARY=()
for target in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target" "fuzz/regressions/$target"
    echo "==> $target for ${SECONDS_PER_TARGET}s"
    log="fuzz/artifacts/$target.log"
    mkdir -p fuzz/artifacts
    if ! cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer "$SANITIZER" "$target" \
        "fuzz/corpus/$target" "fuzz/seeds/$target" "fuzz/regressions/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="${FUZZ_MAX_LEN:-4096}" \
        -jobs="${FUZZ_JOBS:-1}" -workers="${FUZZ_JOBS:-1}" -print_final_stats=1 2>&1 | tee "$log"; then
        echo "fuzz.sh: $target found a crash; see fuzz/artifacts/$target/ and $log" >&2
        exit 1
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    corpus="$(find "fuzz/corpus/$target" -type f | wc -l)"
    SUMMARY+=("$(printf '%-24s %10s runs  cov %6s  corpus %5s  crashes 0' "$target" "${runs:-?}" "${cov:-?}" "$corpus")")
done

echo "==> summary (${SECONDS_PER_TARGET}s per target)"
printf '  %s\n' "${SUMMARY[@]}"
