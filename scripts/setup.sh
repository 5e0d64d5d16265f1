#!/usr/bin/env bash
# Set-up for a fresh Debian (bookworm) machine, as root: installs what minirt builds with, then
# configures and builds it (Release) into build/. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev
      libopenblas-dev libcmocka-dev libonnx-testdata)
if [ "${MINIRT_WITH_TORCH:-0}" = 1 ]; then
  pkgs+=(python3-torch python3-torchvision python3-onnx python3-numpy)
fi
if [ "${MINIRT_WITH_TOOLS:-0}" = 1 ]; then
  # fuzzing (libFuzzer), ThreadSanitizer and memcheck runs of scripts/test.sh
  pkgs+=(clang libclang-rt-14-dev valgrind)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
