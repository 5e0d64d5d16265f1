#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine (as root): set-up, the ResNet-18 exports and the
# architecture zoo generated with PyTorch (too large to commit), the Release build's tests, the same
# tests built with AddressSanitizer + UndefinedBehaviorSanitizer (leaks included), a clang build,
# then the robustness checks: every libFuzzer target for a short run, concurrent sessions under
# ThreadSanitizer, and the CLI under valgrind memcheck.
set -euo pipefail
cd "$(dirname "$0")/.."

MINIRT_WITH_TORCH=1 MINIRT_WITH_TOOLS=1 bash scripts/setup.sh

if [ ! -f models/large/resnet18_opset17/output_0.npy ]; then
  echo "test: exporting ResNet-18 references with PyTorch (models/large/)"
  /usr/bin/python3 models/make_models.py --large-only
fi
echo "test: exporting the architecture zoo with PyTorch (models/large/zoo/; present cases are kept)"
/usr/bin/python3 models/make_zoo.py

echo "test: release build"
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "test: ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINIRT_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -E 'models_zoo_opt[01]'

echo "test: clang build (the library and the CLI build and run with clang as well as gcc)"
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DMINIRT_BUILD_TESTS=OFF >/dev/null
cmake --build build-clang -j"$(nproc)" >/dev/null
build-clang/minirt models/small_cnn/model.onnx models/small_cnn/input_0.npy \
  --compare models/small_cnn/output_0.npy

echo "test: fuzzing each target for ${MINIRT_FUZZ_SECONDS:-45} s (libFuzzer, ASan + UBSan, seed ${MINIRT_FUZZ_SEED:-1})"
MINIRT_FUZZ_SEED=${MINIRT_FUZZ_SEED:-1} bash fuzz/run_fuzzers.sh "${MINIRT_FUZZ_SECONDS:-45}"
echo "test: concurrent sessions under ThreadSanitizer"
bash tests/tsan_check.sh build-tsan
echo "test: the CLI under valgrind memcheck"
bash tests/valgrind_check.sh build
echo "test: all passed"
