#!/usr/bin/env bash
# valgrind_check.sh - run the minirt CLI of a build without sanitizers on real models under
# valgrind memcheck (full leak check; definite and indirect leaks are errors) and fail on any error.
#   bash tests/valgrind_check.sh [BUILD_DIR]      (default: build)
# Besides two good runs per model (one and two BLAS threads, the second with --bench), the error
# paths run too: a truncated model, --check of a model with a bad attribute, a bad input file. Their
# CLI exit status is 1 by design, so valgrind's own errors use exit status 99 to be told apart.
# Suppressions (tests/valgrind.supp) cover OpenBLAS's thread pool only.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cli="$build/minirt"
if [ ! -x "$cli" ]; then
  echo "valgrind_check: $cli not found (build the project first)" >&2
  exit 1
fi
if grep -q "__asan_init" "$cli"; then
  echo "valgrind_check: $cli is built with AddressSanitizer; valgrind needs a plain build" >&2
  exit 1
fi
if ! command -v valgrind >/dev/null; then
  echo "valgrind_check: valgrind is not installed (apt-get install valgrind)" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0

# check EXPECTED_EXIT ARGS...: run the CLI under memcheck; any memcheck error or another exit fails
check() {
  local want=$1 rc=0
  shift
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --suppressions=tests/valgrind.supp --track-origins=yes \
    "$cli" "$@" >"$out/stdout" 2>"$out/stderr" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "valgrind_check: FAIL (exit status $rc, expected $want): minirt $*" >&2
    cat "$out/stderr" >&2
    failed=1
  else
    echo "valgrind_check: ok: minirt $*"
  fi
}

for m in small_cnn conv_stack; do
  check 0 "models/$m/model.onnx" "models/$m/input_0.npy" --threads 1 -o "$out/$m"
  check 0 "models/$m/model.onnx" "input=models/$m/input_0.npy" --threads 2 --bench 2
done
check 1 tests/corpus/pb_trunc_half.onnx models/small_cnn/input_0.npy
check 1 --check tests/corpus/attr_stride_zero.onnx
check 1 models/small_cnn/model.onnx tests/corpus/npy_truncated_data.npy
check 1 models/small_cnn/model.onnx models/conv_stack/input_0.npy
if [ "$failed" -ne 0 ]; then
  echo "valgrind_check: FAILED" >&2
  exit 1
fi
echo "valgrind_check: no memcheck errors"
