#!/usr/bin/env bash
# tsan_check.sh - build tests/test_threads.c and tests/test_threadpool.c with ThreadSanitizer
# (gcc's -fsanitize=thread, in a build directory of its own) and run them; any ThreadSanitizer
# report fails the check.
#   bash tests/tsan_check.sh [BUILD_DIR]      (default: build-tsan)
# OpenBLAS is Debian's uninstrumented build: what happens inside a GEMM is not checked, but every
# GEMM runs in a thread of the caller's or of a session's pool, with OPENBLAS_NUM_THREADS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-tsan}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINIRT_SANITIZE=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
  >/dev/null
cmake --build "$build" -j"$(nproc)" --target test_threads test_threadpool >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# ThreadSanitizer maps fixed address ranges, which high-entropy ASLR (vm.mmap_rnd_bits = 32 on
# recent kernels) can collide with; run without address randomization when setarch allows it.
norand=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norand=(setarch "$(uname -m)" -R); fi
status=0
for t in test_threads test_threadpool; do
  OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
    "${norand[@]}" "$build/tests/$t" >>"$log" 2>&1 || status=$?
done
cat "$log"
if [ "$status" -ne 0 ] || grep -q "ThreadSanitizer" "$log"; then
  echo "tsan_check: FAILED (exit status $status)" >&2
  exit 1
fi
echo "tsan_check: no ThreadSanitizer reports"
