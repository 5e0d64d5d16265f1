#!/usr/bin/python3
"""Write examples/data/dynbatch.onnx: a tiny image classifier whose batch dimension is symbolic,
for examples/dynamic_batch.c and examples/reuse.c (no committed models/ case has a symbolic dim).

Input 'image' [batch, 3, 16, 16] -> output 'probs' [batch, 5] (softmax over 5 classes). Ops: Conv,
Relu, MaxPool, GlobalAveragePool, Flatten, Gemm, Softmax. Weights come from a fixed seed, so reruns
give the same file.

Run with Debian's Python (it has torch and onnx):

    /usr/bin/python3 examples/data/make_dynbatch.py
"""
import os
import warnings

import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        return torch.softmax(self.head(self.body(x)), dim=1)


def main():
    torch.manual_seed(0)
    model = TinyNet().eval()
    path = os.path.join(HERE, "dynbatch.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(2, 3, 16, 16),), path, opset_version=13,
                          input_names=["image"], output_names=["probs"],
                          dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
                          do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
