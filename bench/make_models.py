#!/usr/bin/python3
"""Export the benchmark models to ONNX, with one fixed input and PyTorch's output for it.

Run with Debian's interpreter (it has torch, torchvision, onnx and numpy):

    /usr/bin/python3 bench/make_models.py [--out DIR] [NAME ...]

For each torchvision model (default: all of MODELS) it writes

    DIR/<name>/model.onnx     random weights (torch.manual_seed(0), weights=None), eval mode,
                              opset 13, constant folding, input "input" 1x3x224x224,
                              output "output"
    DIR/<name>/input_0.npy    float32 N(0, 1), numpy seed 0, C-order, little-endian
    DIR/<name>/output_0.npy   PyTorch eager output for input_0.npy (to check the engines)

DIR defaults to bench/out/models. A model whose three files already exist is skipped. Files are
written under a temporary name and renamed, so an interrupted run leaves no half-written model.

torch_bench.py imports build_model() from here, so PyTorch times the very model that was exported.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "efficientnet_b0"]
INPUT_SHAPE = (1, 3, 224, 224)


def build_model(name):
    """The torchvision model `name` with seed-0 random weights, in eval mode."""
    import torch
    import torchvision

    if name not in MODELS:
        raise ValueError(f"unknown model '{name}' (known: {', '.join(MODELS)})")
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None).eval()


def make_input():
    rng = np.random.default_rng(0)
    return rng.standard_normal(INPUT_SHAPE, dtype=np.float32)


def export(name, out_dir):
    import onnx
    import torch

    model = build_model(name)
    x = make_input()
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, "model.onnx.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.from_numpy(x), tmp, opset_version=13,
                          do_constant_folding=True, export_params=True,
                          input_names=["input"], output_names=["output"])
    onnx.checker.check_model(tmp)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    np.save(os.path.join(out_dir, "input_0.npy"), x, allow_pickle=False)
    np.save(os.path.join(out_dir, "output_0.npy"), y.astype(np.float32), allow_pickle=False)
    os.replace(tmp, os.path.join(out_dir, "model.onnx"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", "models"))
    ap.add_argument("names", nargs="*", default=MODELS, metavar="NAME",
                    help=f"models to export (default: all of {', '.join(MODELS)})")
    args = ap.parse_args()
    for name in args.names:
        if name not in MODELS:
            ap.error(f"unknown model '{name}' (known: {', '.join(MODELS)})")
        d = os.path.join(args.out, name)
        files = ["model.onnx", "input_0.npy", "output_0.npy"]
        if all(os.path.exists(os.path.join(d, f)) for f in files):
            continue
        t0 = time.perf_counter()
        export(name, d)
        size = os.path.getsize(os.path.join(d, "model.onnx")) / 2**20
        print(f"make_models: {name}: {size:.1f} MiB in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)


if __name__ == "__main__":
    main()
