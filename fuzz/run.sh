#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in their own build directory and
# runs each for a bounded time, starting from a copy of its seed corpus in
# fuzz/corpus/<target>/. Exits non-zero on any crash, leak, timeout, out-of-memory or
# sanitizer report, after printing the input (hex and base64) and the reproducer command.
#
# Environment:
#   FUZZ_SECONDS    time per target (default 30)
#   FUZZ_BUILD_DIR  clang build directory (default <repo>/build-fuzz)
#   FUZZ_TARGETS    space-separated subset of the targets (default: all)
#   FUZZ_JOBS       build parallelism (default 2)
#   FUZZ_KEEP=1     keep each target's grown corpus and log in FUZZ_BUILD_DIR/fuzz-work
#                   (kept anyway when a target failed)
#   FUZZ_SEED       libFuzzer's -seed (default 1). A fixed seed makes each run walk the
#                   same inputs from the same corpus, so a test run that fails does so
#                   for a known input, not for the luck of its seed. FUZZ_SEED=random
#                   explores (run it with a long FUZZ_SECONDS; add what it finds to the
#                   corpus with the fix).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
SEED="${FUZZ_SEED:-1}"
[ "$SEED" = random ] && SEED=0  # libFuzzer: 0 picks one
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${FUZZ_JOBS:-2}"
ALL_TARGETS=(fuzz_json fuzz_yaml fuzz_patch fuzz_selector fuzz_quantity fuzz_protobuf
             fuzz_request_target fuzz_dns_message)
read -r -a TARGETS <<< "${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool not found (scripts/setup.sh installs it)" >&2; exit 1; }
done

echo "fuzz: building ${TARGETS[*]} in $BUILD" >&2
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DKUBEPP_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" >/dev/null

WORK="$BUILD/fuzz-work"
ARTIFACTS="$BUILD/fuzz-artifacts"
rm -rf "$WORK"
mkdir -p "$WORK" "$ARTIFACTS"
# Leaks count as findings; UBSan aborts with a stack (the targets are built with
# -fno-sanitize-recover, this is belt and braces).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

failed=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD/fuzz/$t"
  corpus="$WORK/$t/corpus"
  mkdir -p "$corpus"
  cp "$ROOT/fuzz/corpus/$t"/* "$corpus/"
  log="$WORK/$t/log"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s" >&2
  # -timeout: one input taking longer than that is a hang; -rss_limit_mb: memory blow-up.
  if "$bin" -seed="$SEED" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$t-" "$corpus" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | tr '\n' ' ' >&2 || true
    echo >&2
    continue
  fi
  failed+=("$t")
  echo "fuzz: $t FAILED; end of its log ($log):" >&2
  grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' "$log" | tail -n 60 >&2
  # The newest artifact of this target is the one this run wrote.
  artifact=$(ls -t "$ARTIFACTS/$t-"* 2>/dev/null | head -n 1 || true)
  if [ -n "$artifact" ]; then
    echo "fuzz: input ($(stat -c %s "$artifact") bytes) $artifact" >&2
    echo "--- hex" >&2
    od -A x -t x1z -v "$artifact" | head -n 64 >&2
    echo "--- base64" >&2
    base64 -w 76 "$artifact" | head -n 64 >&2
    echo "--- reproduce: $bin $artifact" >&2
  fi
done

if [ "${FUZZ_KEEP:-0}" != 1 ] && [ ${#failed[@]} -eq 0 ]; then rm -rf "$WORK"; fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} passed, 0 failed"
