#!/usr/bin/env bash
# run_fuzzers.sh SECONDS [TARGET ...] - build the libFuzzer targets (clang, ASan + UBSan) and run
# each for SECONDS, as many at once as there are CPUs. Every target starts from its committed seed
# corpus (fuzz/corpus/TARGET) plus what earlier runs in the same build directory found; a crash,
# leak, sanitizer report or hang (a unit running longer than MINIRT_FUZZ_TIMEOUT seconds, default
# 120) fails the script, and the input that caused it is kept under BUILD/artifacts/TARGET/.
#   bash fuzz/run_fuzzers.sh 60                      (CI: every target for a minute)
#   MINIRT_FUZZ_BUILD=/tmp/fz bash fuzz/run_fuzzers.sh 3600 fuzz_open
# Reproduce a failure: BUILD/fuzz_TARGET BUILD/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: run_fuzzers.sh SECONDS [TARGET ...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_open fuzz_npy fuzz_pb fuzz_run)
build=${MINIRT_FUZZ_BUILD:-build-fuzz}
timeout=${MINIRT_FUZZ_TIMEOUT:-120}
jobs=$(nproc)

if ! command -v clang >/dev/null; then
  echo "run_fuzzers: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
cmake -S fuzz -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >/dev/null

export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# MINIRT_FUZZ_SEED=N: libFuzzer's -seed, so that a run from an empty build directory makes the same
# mutations in the same order every time (CI sets it: a CI failure is then reproducible, and new
# ground is covered by the long campaigns, docs/fuzzing.md). Unset: a random seed per run.
seed_args=()
if [ -n "${MINIRT_FUZZ_SEED:-}" ]; then seed_args=(-seed="$MINIRT_FUZZ_SEED"); fi

run_one() {
  local t=$1
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  "$build/$t" "${seed_args[@]}" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" \
    "$build/corpus/$t" "fuzz/corpus/$t" >"$build/$t.log" 2>&1
}

declare -A pid
failed=()
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$t" &
  pid[$t]=$!
  running=$((running + 1))
done
for t in "${targets[@]}"; do
  if ! wait "${pid[$t]}"; then failed+=("$t"); fi
done

for t in "${targets[@]}"; do
  line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$build/$t.log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/$t.log")
  cov=$(sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p' <<<"$line")
  echo "run_fuzzers: $t: ${execs:-?} runs, ${rate:-?} exec/s, ${cov:-no coverage line}"
done
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "run_fuzzers: $t FAILED; the end of $build/$t.log:" >&2
    grep -v -E '^#[0-9]+ ' "$build/$t.log" | tail -40 >&2
    ls "$build/artifacts/$t" >&2 || true
  done
  exit 1
fi
echo "run_fuzzers: all targets ran $seconds s without a finding"
