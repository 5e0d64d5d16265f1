#!/usr/bin/python3
"""Time one benchmark model in PyTorch eager mode (torchvision, CPU).

    /usr/bin/python3 bench/torch_bench.py NAME INPUT.npy [--threads T] [--bench N] [--ref OUTPUT.npy]

NAME is a torchvision model from make_models.MODELS, built exactly as make_models.py built the
exported ONNX file (seed 0, weights=None, eval mode), so both time the same weights. Runs with
torch.set_num_threads(T) under torch.no_grad(). Protocol, as minirt's --bench: one warm-up run, then
N timed runs (inference only). Prints

    open: model_build_ms=X first_run_ms=Y
    bench: runs=N threads=T median_ms=X min_ms=Y
    check: max_abs_diff=D          (with --ref: the output against OUTPUT.npy)

model_build_ms is the torchvision constructor with its random initialisation plus eval(); it is
not the same work as loading a file, so compare it with care. Exit status 1 on any error, with one
line "torch_bench: error: ..." on stderr.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("input")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bench", type=int, default=20)
    ap.add_argument("--ref")
    args = ap.parse_args()
    if args.threads < 1 or args.bench < 1:
        raise ValueError("--threads and --bench must be >= 1")

    import numpy as np
    import torch

    from make_models import build_model

    torch.set_num_threads(args.threads)
    x = torch.from_numpy(np.load(args.input, allow_pickle=False))

    t0 = time.perf_counter()
    model = build_model(args.name)
    build_ms = (time.perf_counter() - t0) * 1e3

    with torch.no_grad():
        t0 = time.perf_counter()
        y = model(x)
        first_ms = (time.perf_counter() - t0) * 1e3
        times = []
        for _ in range(args.bench):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)

    print(f"open: model_build_ms={build_ms:.2f} first_run_ms={first_ms:.2f}")
    print(f"bench: runs={args.bench} threads={torch.get_num_threads()} "
          f"median_ms={statistics.median(times):.3f} min_ms={min(times):.3f}")
    if args.ref:
        ref = np.load(args.ref, allow_pickle=False)
        d = float(np.max(np.abs(y.numpy() - ref)))
        print(f"check: max_abs_diff={d:.3e}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one line on stderr, status 1
        print(f"torch_bench: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
