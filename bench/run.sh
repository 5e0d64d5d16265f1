#!/usr/bin/env bash
# Benchmark minirt against onnxruntime (CPU, npm onnxruntime-node) and PyTorch eager, in one command:
#
#   bash bench/run.sh
#
# Builds minirt (Release) if needed, exports the models if needed, installs onnxruntime-node if
# needed, then for each model and thread count runs minirt, onnxruntime and PyTorch one after the
# other, each in its own process under /usr/bin/time -v, and prints a markdown report that it also
# writes to bench/out/results-<date>.md. Progress goes to stderr, the report to stdout.
#
# Environment:
#   BENCH_RUNS=20          timed runs per engine (after one warm-up run)
#   BENCH_THREADS="1 2"    thread counts
#   BENCH_ROUNDS=3         rounds of the whole model x threads x engine sweep; the report keeps
#                          each engine's best (lowest) round median, and shows the spread
#   BENCH_MODELS="..."     subset of: resnet18 resnet50 mobilenet_v2 squeezenet1_1 efficientnet_b0
#   BENCH_PEAK_GFLOPS=116  peak float32 GFLOP/s of one core, for the "% of peak" column
#   BENCH_WAIT_QUIET=60    before each model/thread group, wait up to this many seconds for the
#                          machine to be idle (it is shared); after one wait in vain, stop waiting;
#                          0: don't wait
#   BENCH_NICE=-15         run the engines at this nice value (raising priority needs root; as
#                          another user, or with 0, they run at the current one)
#   MINIRT=path            time this minirt binary instead of building build/minirt
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-20}
threads_list=${BENCH_THREADS:-"1 2"}
rounds=${BENCH_ROUNDS:-3}
models=${BENCH_MODELS:-"resnet18 resnet50 mobilenet_v2 squeezenet1_1 efficientnet_b0"}
peak=${BENCH_PEAK_GFLOPS:-116}
py=/usr/bin/python3
out=bench/out
work=$out/work
date=$(date +%Y-%m-%d)

log() { echo "bench: $*" >&2; }

# --- Dependencies (Debian packages; only what is missing) --------------------------------------
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
"$py" -c 'import torch, torchvision, onnx, numpy' >/dev/null 2>&1 ||
  need+=(python3-torch python3-torchvision python3-onnx python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- minirt (Release) --------------------------------------------------------------------------
if [ -n "${MINIRT:-}" ]; then
  minirt=$(realpath "$MINIRT")
else
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' build/CMakeCache.txt 2>/dev/null || true)
  if [ "$build_type" != Release ]; then
    log "configuring build/ (Release)"
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  log "building minirt"
  cmake --build build -j"$(nproc)" --target minirt_cli >/dev/null
  minirt=build/minirt
fi
[ -x "$minirt" ] || { log "error: no minirt binary at $minirt"; exit 1; }
minirt=$(realpath "$minirt")

# --- Models and onnxruntime-node ---------------------------------------------------------------
# shellcheck disable=SC2086  # $models is a word list
"$py" bench/make_models.py --out "$out/models" $models

want_ort=$(sed -n 's/.*"onnxruntime-node": *"\([^"]*\)".*/\1/p' bench/package.json)
have_ort=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
  bench/node_modules/onnxruntime-node/package.json 2>/dev/null | head -n1 || true)
if [ "$have_ort" != "$want_ort" ]; then
  log "installing onnxruntime-node $want_ort into bench/node_modules"
  # --ignore-scripts: the package's install script downloads extra binaries (and fails offline);
  # the CPU library it needs ships inside the package.
  (cd bench && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi

# --- Runs --------------------------------------------------------------------------------------
rm -rf "$work"
mkdir -p "$work"
tsv=$work/results.tsv
printf 'round\tmodel\tthreads\tengine\tstatus\tmedian_ms\tmin_ms\trss_kib\topen_ms\tmax_abs_diff\tnote\n' >"$tsv"

# field KEY FILE: the value of KEY=VALUE in FILE's last line that has it ("" if none).
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | tail -n1; }
rss_kib() { sed -n 's/.*Maximum resident set size (kbytes): *//p' "$1"; }
now_ns() { date +%s%N; }
# sum_ms A B: A + B to 3 decimals, or "" if either is missing.
sum_ms() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }

# record MODEL T ENGINE RC PREFIX OPEN_MS DIFF: append one TSV row from PREFIX.{out,err,time}.
record() {
  local model=$1 t=$2 engine=$3 rc=$4 p=$5 open_ms=$6 diff=$7
  local status=ok note="" median="" min="" rss=""
  if [ "$rc" -ne 0 ]; then
    note=$(grep -m1 -E '(minirt|ort_bench|torch_bench): error:' "$p.err" || tail -n1 "$p.err" || true)
    [ "$rc" -gt 128 ] && note="killed by signal $((rc - 128))${note:+: $note}"
    if [ "$engine" = minirt ] && grep -q '^minirt: error:' "$p.err"; then
      status=unsupported
    else
      status="failed(rc=$rc)"
    fi
  else
    median=$(field median_ms "$p.out")
    min=$(field min_ms "$p.out")
    rss=$(rss_kib "$p.time")
    [ -n "$median" ] || { status="failed(no bench line)"; note=$(tail -n1 "$p.err" || true); }
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$model" "$t" "$engine" "$status" "$median" \
    "$min" "$rss" "$open_ms" "$diff" "${note//$'\t'/ }" >>"$tsv"
  log "  $engine: $status ${median:+median ${median} ms} ${rss:+peak RSS ${rss} KiB}"
}

# Peak RSS of each engine's process with no model: what the RSS columns include before any weight.
base() { /usr/bin/time -v -o "$work/base.$1.time" "${@:2}" >/dev/null 2>&1 && rss_kib "$work/base.$1.time"; }
base_minirt=$(base minirt "$minirt" --version || true)
base_ort=$(base ort node -e "require('./bench/node_modules/onnxruntime-node')" || true)
base_torch=$(base torch "$py" -c 'import numpy, torch, torchvision' || true)

for model in $models; do
  "$py" bench/flops.py --json "$out/models/$model/model.onnx" >"$work/$model.flops.json"
done

# The machine is shared: other engineers' builds and tests run on the same 2 cores. Before each
# group (one model and thread count: minirt, onnxruntime, PyTorch) wait, at most $wait_quiet s, for
# two consecutive seconds in which all processes together used under 10% of the CPUs. During each
# group, measure the CPU time used by processes other than this script's children: all CPU time
# (/proc/stat: user nice system irq softirq steal) less the children's user + system (`times`).
wait_quiet=${BENCH_WAIT_QUIET:-60}
hz=$(getconf CLK_TCK)
ncpu=$(nproc)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
steal_total() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t }' /proc/stat; }
# children_s: user + system seconds of this shell's finished children, from `times` run in this
# shell just before (in a $(...) subshell, `times` would report the subshell's own).
children_s() {
  awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
       printf "%.3f", s }' "$work/times.txt"
}
wait_for_quiet() {
  local deadline=$((SECONDS + wait_quiet)) quiet=0 b0 b1
  while [ "$SECONDS" -lt "$deadline" ]; do
    b0=$(busy_ticks)
    sleep 1
    b1=$(busy_ticks)
    if [ $(((b1 - b0) * 10)) -lt $((hz * ncpu)) ]; then
      quiet=$((quiet + 1))
      [ "$quiet" -ge 2 ] && return 0
    else
      quiet=0
    fi
  done
  log "  the machine stayed busy for ${wait_quiet}s: running anyway, and not waiting again"
  wait_quiet=0
}
# The engines run at a higher priority than other work on the machine (when allowed), so that
# other users' builds and fuzzers take less from them. The kernel groups processes by session
# (sched_autogroup) and shares the CPUs fairly between groups, whatever the nice value inside
# each; so each engine runs in a session of its own (setsid) whose group gets the nice value too.
nice_val=${BENCH_NICE:--15}
if [ "$(id -u)" -ne 0 ] && [ "$nice_val" -lt 0 ]; then nice_val=0; fi
# shellcheck disable=SC2016  # $0 and $@ belong to the inner bash
prio=(setsid -w bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null || true; exec nice -n "$0" "$@"'
      "$nice_val")
loadtsv=$work/load.tsv
printf 'round\tmodel\tthreads\twall_s\tother_cpu_s\n' >"$loadtsv"
read -r steal0 total0 < <(steal_total)

for round in $(seq 1 "$rounds"); do
for model in $models; do
  dir=$out/models/$model
  for t in $threads_list; do
    log "round $round/$rounds: $model, $t thread(s)"
    p=$work/$model.t$t.r$round
    [ "$wait_quiet" -gt 0 ] && wait_for_quiet
    busy0=$(busy_ticks)
    times >"$work/times.txt"
    kids0=$(children_s)
    wall0=$(now_ns)

    # minirt: one plain run (load + one inference + write the output), timed as a whole process,
    # then the timed runs in a second process under /usr/bin/time.
    rc=0
    t0=$(now_ns)
    "${prio[@]}" "$minirt" "$dir/model.onnx" "$dir/input_0.npy" --threads "$t" -o "$p.minirt-out" \
      >"$p.minirt-open.out" 2>"$p.minirt-open.err" || rc=$?
    open_ms=$(awk -v ns=$(($(now_ns) - t0)) 'BEGIN { printf "%.3f", ns / 1e6 }')
    diff=""
    if [ "$rc" -eq 0 ]; then
      diff=$("$py" -c 'import sys, numpy as n
a, b = n.load(sys.argv[1]), n.load(sys.argv[2])
print(f"{float(n.max(n.abs(a - b))):.3e}" if a.shape == b.shape else f"shape {a.shape} != {b.shape}")' \
        "$p.minirt-out/output_0.npy" "$dir/output_0.npy" 2>/dev/null) || diff="check failed"
      rc=0
      "${prio[@]}" /usr/bin/time -v -o "$p.minirt.time" "$minirt" "$dir/model.onnx" "$dir/input_0.npy" \
        --threads "$t" --bench "$runs" >"$p.minirt.out" 2>"$p.minirt.err" || rc=$?
      record "$model" "$t" minirt "$rc" "$p.minirt" "$open_ms" "$diff"
    else
      cp "$p.minirt-open.err" "$p.minirt.err"
      record "$model" "$t" minirt "$rc" "$p.minirt" "" ""
    fi

    # onnxruntime
    rc=0
    "${prio[@]}" /usr/bin/time -v -o "$p.ort.time" node bench/ort_bench.js "$dir/model.onnx" "$dir/input_0.npy" \
      --threads "$t" --bench "$runs" --ref "$dir/output_0.npy" >"$p.ort.out" 2>"$p.ort.err" || rc=$?
    open_ms=$(sum_ms "$(field session_create_ms "$p.ort.out")" "$(field first_run_ms "$p.ort.out")" || true)
    record "$model" "$t" ort "$rc" "$p.ort" "$open_ms" "$(field max_abs_diff "$p.ort.out")"

    # PyTorch eager
    rc=0
    "${prio[@]}" /usr/bin/time -v -o "$p.torch.time" "$py" bench/torch_bench.py "$model" "$dir/input_0.npy" \
      --threads "$t" --bench "$runs" --ref "$dir/output_0.npy" >"$p.torch.out" 2>"$p.torch.err" || rc=$?
    open_ms=$(sum_ms "$(field model_build_ms "$p.torch.out")" "$(field first_run_ms "$p.torch.out")" || true)
    record "$model" "$t" torch "$rc" "$p.torch" "$open_ms" "$(field max_abs_diff "$p.torch.out")"

    busy1=$(busy_ticks)
    times >"$work/times.txt"
    kids1=$(children_s)
    awk -v r="$round" -v m="$model" -v t="$t" -v w=$(($(now_ns) - wall0)) -v b=$((busy1 - busy0)) \
      -v hz="$hz" -v k0="$kids0" -v k1="$kids1" \
      'BEGIN { o = b / hz - (k1 - k0); if (o < 0) o = 0; printf "%s\t%s\t%s\t%.3f\t%.3f\n", r, m, t, w / 1e9, o }' \
      >>"$loadtsv"
  done
done
done
read -r steal1 total1 < <(steal_total)

# --- Report ------------------------------------------------------------------------------------
avx512=no
grep -qw avx512f /proc/cpuinfo && avx512=yes
{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'cpu\t%s (family %s, model %s)\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -n1)" \
    "$(lscpu | sed -n 's/^CPU family: *//p' | head -n1)" "$(lscpu | sed -n 's/^Model: *//p' | head -n1)"
  printf 'cores\t%s\n' "$(nproc)"
  printf 'avx512\t%s\n' "$avx512"
  printf 'runs\t%s\n' "$runs"
  printf 'rounds\t%s\n' "$rounds"
  printf 'ncpu\t%s\n' "$ncpu"
  printf 'nice\t%s\n' "$nice_val"
  printf 'steal_pct\t%s\n' "$(awk -v s=$((steal1 - steal0)) -v t=$((total1 - total0)) \
    'BEGIN { printf "%.1f", (t > 0) ? 100 * s / t : 0 }')"
  printf 'models_dir\t%s\n' "$out/models"
  printf 'base_rss_kib\t%s %s %s\n' "${base_minirt:-?}" "${base_ort:-?}" "${base_torch:-?}"
  printf 'peak_gflops_per_core\t%s\n' "$peak"
  printf 'minirt\t%s (%s)\n' "$("$minirt" --version)" \
    "$(git describe --always --dirty --tags 2>/dev/null || echo 'no git')"
  printf 'blas\t%s\n' "$(ldd "$minirt" 2>/dev/null | sed -n 's/.*libopenblas[^ ]* => \([^ ]*\).*/\1/p' | head -n1) $(
    dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || true)"
  printf 'openblas_env\t%s\n' "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
  printf 'onnxruntime\tonnxruntime-node %s (node %s)\n' \
    "$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' bench/node_modules/onnxruntime-node/package.json | head -n1)" \
    "$(node --version)"
  printf 'torch\t%s\n' "$("$py" -c 'import torch, torchvision; print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")')"
} >"$work/meta.tsv"

"$py" bench/report.py "$work" | tee "$out/results-$date.md"
log "report written to bench/out/results-$date.md (raw files in bench/out/work/)"
