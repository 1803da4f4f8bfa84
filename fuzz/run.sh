#!/usr/bin/env bash
# Runs the `apply` fuzz target, seeded with the kept inputs (fuzz/seeds), the fixtures and
# the corpus of real files.
# Usage: fuzz/run.sh [SECONDS]   (default 600). Needs `cargo install cargo-fuzz`.
# FUZZ_RUNS=N stops after N executions instead, if that comes first.
# cargo-fuzz wants a nightly compiler; RUSTC_BOOTSTRAP lets the stable one do.
# No AddressSanitizer: the crate is safe Rust, and ASan would cost 2-3x the executions;
# debug assertions and overflow checks stay on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
corpus=fuzz/corpus/apply
mkdir -p "$corpus"
cp fuzz/seeds/* "$corpus/"
for f in tests/fixtures/*/input.yml; do cp "$f" "$corpus/fixture-$(basename "$(dirname "$f")").yml"; done
shared=${COMPOSE_HARDEN_CORPUS:-../shared/corpus}
if [ -d "$shared" ]; then
  find "$shared" -name '*.y*ml' | while read -r f; do cp "$f" "$corpus/real-$(basename "$f")"; done
fi
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none apply "$corpus" -- \
  -max_total_time="$seconds" -max_len=${FUZZ_MAX_LEN:-16384} -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"}
