#!/usr/bin/python3
"""Render bench/run.sh's raw results as a markdown report on stdout.

    /usr/bin/python3 bench/report.py WORKDIR

WORKDIR (bench/out/work) holds what run.sh wrote:
    results.tsv         one row per round, model, thread count and engine (see run.sh's record())
    <model>.flops.json  flops.py --json for the model
    meta.tsv            key<TAB>value: date, machine, versions, runs, peak GFLOP/s per core
The columns are explained in bench/README.md.
"""

import csv
import json
import math
import os
import sys

import numpy as np

ENGINES = [("minirt", "minirt"), ("ort", "onnxruntime"), ("torch", "PyTorch")]
MIB = 2**20


def fnum(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt(x, digits=1):
    return "—" if x is None else f"{x:.{digits}f}"


def other_pct(load, ncpu, key=None):
    """CPU time of other processes as a percentage of the machine's, over the groups of `key`
    (model, threads), or over all groups."""
    groups = [g for k, v in load.items() if key is None or k == key for g in v]
    wall = sum(w for w, _ in groups)
    return 100 * sum(o for _, o in groups) / (wall * ncpu) if wall else None


def combine(rounds):
    """One result from an engine's rounds: the best (lowest) median, the largest RSS and error,
    the fastest open. Any failed round makes the whole a failure (its status and note)."""
    bad = [r for r in rounds if r["status"] != "ok"]
    if bad:
        return dict(bad[0])
    medians = [float(r["median_ms"]) for r in rounds]
    nums = lambda col: [v for v in (fnum(r[col]) for r in rounds) if v is not None]  # noqa: E731
    best = dict(rounds[medians.index(min(medians))])
    best["spread"] = max(medians) / min(medians) - 1
    best["rss_kib"] = max(nums("rss_kib"), default=None)
    best["open_ms"] = min(nums("open_ms"), default=None)
    diffs = nums("max_abs_diff")
    best["max_abs_diff"] = max(diffs) if diffs else rounds[0]["max_abs_diff"]
    return best


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py WORKDIR")
    work = sys.argv[1]
    with open(os.path.join(work, "meta.tsv")) as f:
        meta = dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)
    with open(os.path.join(work, "results.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))

    models, threads = [], []
    by_key = {}
    for r in rows:
        if r["model"] not in models:
            models.append(r["model"])
        if r["threads"] not in threads:
            threads.append(r["threads"])
        by_key.setdefault((r["model"], r["threads"], r["engine"]), []).append(r)
    res = {k: combine(v) for k, v in by_key.items()}
    flops = {}
    for m in models:
        with open(os.path.join(work, f"{m}.flops.json")) as f:
            flops[m] = json.load(f)
    peak = float(meta.get("peak_gflops_per_core", "116"))
    ncpu = int(meta.get("ncpu", "1"))
    load = {}
    path = os.path.join(work, "load.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for r in csv.DictReader(f, delimiter="\t"):
                load.setdefault((r["model"], r["threads"]), []).append(
                    (float(r["wall_s"]), float(r["other_cpu_s"])))

    def cell(m, t, e):
        r = res.get((m, t, e))
        if r is None:
            return None, "—"
        if r["status"] != "ok":
            return None, r["status"].split("(")[0]
        v = fnum(r["median_ms"])
        return v, fmt(v, 2)

    out = []
    w = out.append
    w(f"# minirt benchmark, {meta.get('date', '?')}")
    w("")
    w(f"- Machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores, "
      f"AVX-512 {meta.get('avx512', '?')}")
    w(f"- minirt: {meta.get('minirt', '?')}; BLAS: {meta.get('blas', '?')} "
      f"({meta.get('openblas_env', '')})")
    w(f"- onnxruntime: {meta.get('onnxruntime', '?')}, CPU provider, intra-op threads = T, "
      f"inter-op 1, graph optimization 'all', sequential")
    w(f"- PyTorch: {meta.get('torch', '?')}, eager, `torch.no_grad()`, "
      f"`set_num_threads(T)`")
    w(f"- Protocol: per engine one process, 1 warm-up run then {meta.get('runs', '?')} timed "
      f"runs of a 1x3x224x224 float32 input; engines interleaved per model and thread count; "
      f"the whole sweep repeated {meta.get('rounds', '?')} times (rounds). "
      f"Peak = {peak:g} GFLOP/s per core x T.")
    w(f"- Host: other processes used {fmt(other_pct(load, ncpu))}% of the machine's CPU time "
      f"while the engines ran (0 = nothing else ran; per row below); the hypervisor stole "
      f"{meta.get('steal_pct', '?')}%. Engines ran at nice {meta.get('nice', '?')}.")
    w("")
    w("## Inference time")
    w("")
    w("Milliseconds: each engine's lowest median over the rounds (the median of its timed runs "
      "in one process). Ratio > 1 means minirt is slower. Spread: how much the slowest round's "
      "median exceeds the fastest one's, per engine (minirt / ORT / PyTorch); a large spread "
      "means the host was noisy for that row. Busy: CPU time other processes used while that row's "
      "engines ran, as a share of the machine's, averaged over the rounds.")
    w("")
    w("| model | GFLOP | T | minirt | onnxruntime | PyTorch | minirt/ORT | minirt/PyTorch "
      "| minirt GFLOP/s | % of peak | spread | busy |")
    w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    ratios = {t: [] for t in threads}
    for m in models:
        g = flops[m]["gflop"]
        for t in threads:
            vm, sm = cell(m, t, "minirt")
            vo, so = cell(m, t, "ort")
            vt, st = cell(m, t, "torch")
            r_o = vm / vo if vm and vo else None
            r_t = vm / vt if vm and vt else None
            if r_o:
                ratios[t].append(r_o)
            gfs = g / (vm / 1e3) if vm else None
            pct = 100 * gfs / (peak * int(t)) if gfs else None
            spread = " / ".join(
                f"{100 * res[(m, t, e)]['spread']:.0f}%" if "spread" in res.get((m, t, e), {})
                else "—" for e, _ in ENGINES)
            w(f"| {m} | {g:.2f} | {t} | {sm} | {so} | {st} | {fmt(r_o, 2)} | {fmt(r_t, 2)} "
              f"| {fmt(gfs)} | {fmt(pct)} | {spread} | {fmt(other_pct(load, ncpu, (m, t)), 0)}% |")
    for t in threads:
        if ratios[t]:
            gm = math.exp(sum(map(math.log, ratios[t])) / len(ratios[t]))
            w(f"\nGeometric mean of minirt/ORT at T={t} over the {len(ratios[t])} model(s) "
              f"minirt runs: {gm:.2f}.")
    w("")
    w("## Memory and start-up")
    w("")
    w("Peak RSS is the whole process's maximum resident set (MiB, `/usr/bin/time -v`), during "
      "load and the timed runs, largest over the rounds. Open + first run (ms, fastest round): minirt = wall time of a separate plain "
      "`minirt MODEL INPUT -o DIR` process (exec, load, one run, write, exit); onnxruntime = "
      "session create + first run, in-process; PyTorch = torchvision constructor (random init) "
      "+ first run, in-process (no `import torch`, no file read).")
    base = meta.get("base_rss_kib", "").split()
    if len(base) == 3:
        b = [fmt(fnum(x) / 1024) if fnum(x) else "?" for x in base]
        w("")
        w(f"Baseline peak RSS with no model loaded: minirt `--version` {b[0]} MiB, "
          f"node + `require('onnxruntime-node')` {b[1]} MiB, "
          f"python + `import numpy, torch, torchvision` {b[2]} MiB.")
    w("")
    w("| model | weights MiB | T | RSS minirt | RSS ORT | RSS PyTorch | minirt RSS / weights "
      "| open+1st minirt | open+1st ORT | open+1st PyTorch |")
    w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for m in models:
        wmib = flops[m]["weights_bytes"] / MIB
        for t in threads:
            rss, opn = [], []
            for e, _ in ENGINES:
                r = res.get((m, t, e))
                ok = r is not None and r["status"] == "ok"
                kib = fnum(r["rss_kib"]) if ok else None  # largest over the rounds
                rss.append(kib / 1024 if kib else None)
                opn.append(fnum(r["open_ms"]) if ok else None)
            per_w = rss[0] / wmib if rss[0] else None
            w(f"| {m} | {wmib:.1f} | {t} | {fmt(rss[0])} | {fmt(rss[1])} | {fmt(rss[2])} "
              f"| {fmt(per_w, 2)} | {fmt(opn[0])} | {fmt(opn[1])} | {fmt(opn[2])} |")
    w("")
    w("## Agreement with PyTorch's output")
    w("")
    w("Relative error: max |output - reference| / max |reference| over the 1000 logits, worst "
      "over the thread counts. The reference is PyTorch eager's output saved by make_models.py "
      "(max |reference| is shown: with random weights some nets' logits are tiny).")
    w("")
    w("| model | max abs reference | minirt | onnxruntime | PyTorch |")
    w("|---|--:|--:|--:|--:|")
    for m in models:
        ref = os.path.join(meta.get("models_dir", os.path.join(work, "..", "models")), m,
                           "output_0.npy")
        scale = float(np.max(np.abs(np.load(ref)))) if os.path.exists(ref) else None
        cells = []
        for e, _ in ENGINES:
            vals, text = [], None
            for t in threads:
                r = res.get((m, t, e))
                if r is None or r["status"] != "ok":
                    text = text or (r["status"].split("(")[0] if r else "—")
                    continue
                v = fnum(r["max_abs_diff"])
                if v is None:
                    text = r["max_abs_diff"] or "—"
                else:
                    vals.append(v / scale if scale else v)
            cells.append(f"{max(vals):.1e}" if vals and text is None else (text or "—"))
        w(f"| {m} | {'?' if scale is None else f'{scale:.2e}'} | " + " | ".join(cells) + " |")
    notes = []
    for m in models:
        for e, name in ENGINES:
            r = next((res[(m, t, e)] for t in threads if (m, t, e) in res
                      and res[(m, t, e)]["status"] != "ok"), None)
            if r:
                notes.append(f"- {m}, {name}: {r['status']}: `{r['note']}`")
    if notes:
        w("")
        w("## Not run")
        w("")
        out.extend(notes)
    print("\n".join(out))


if __name__ == "__main__":
    main()
