#!/usr/bin/env bash
# Install minirt from the build tree BUILD into a fresh prefix, then build examples/embed.c against
# the installed tree twice - with find_package(minirt) (shared and static) and with
# pkg-config --cflags --libs minirt - and run each on MODEL.
# usage: install_test.sh SOURCE_DIR BUILD_DIR WORK_DIR MODEL
set -euo pipefail
src=$1 build=$2 work=$3 model=$4
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

# find_package
cmake -S "$src/tests/install" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DEXAMPLE_SOURCE="$src/examples/embed.c" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/consumer/consumer_shared" "$model" | grep -q "first values:"
"$work/consumer/consumer_static" "$model" | grep -q "first values:"
# the shared build really uses the installed library
LD_LIBRARY_PATH="$prefix/lib" ldd "$work/consumer/consumer_shared" | grep -q "$prefix/lib/libminirt.so.0"

# pkg-config
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c11 -o "$work/pc_shared" "$src/examples/embed.c" $(pkg-config --cflags --libs minirt)
LD_LIBRARY_PATH="$prefix/lib" "$work/pc_shared" "$model" | grep -q "first values:"
cc -std=c11 -o "$work/pc_static" "$src/examples/embed.c" $(pkg-config --cflags minirt) \
  "$prefix/lib/libminirt.a" $(pkg-config --libs --static minirt | sed 's/-lminirt//')
"$work/pc_static" "$model" | grep -q "first values:"
test "$(pkg-config --modversion minirt)" = "$("$work/pc_static" "$model" | sed -n 's/^minirt //p')"
echo "install test: find_package (shared, static) and pkg-config (shared, static) all run"
