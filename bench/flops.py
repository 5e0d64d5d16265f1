#!/usr/bin/python3
"""Count an ONNX model's Conv/Gemm/MatMul FLOPs and its weight bytes.

    /usr/bin/python3 bench/flops.py MODEL.onnx [--json]

FLOPs are 2 x multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul, from the shapes that
onnx.shape_inference infers for a fixed-shape model (the graph input must have concrete dims).
Bias adds, activations, pooling and elementwise ops are not counted, as is usual for
"GFLOPs of a network":

    Conv      MACs = prod(Y.shape) * (C_in / group) * prod(kernel)
    ConvTr.   MACs = prod(X.shape) * (C_out / group) * prod(kernel)
    Gemm      MACs = M * N * K
    MatMul    MACs = prod(Y.shape) * K

Weight bytes are the sum of every initializer's decoded size (numpy nbytes), so they match what an
engine holds in memory for the weights, not the file size (which adds protobuf framing).

Prints "gflop=X weights_bytes=Y initializers=Z" or, with --json, one JSON object that also holds
the per-op-type breakdown.
"""

import json
import math
import sys

import onnx
from onnx import numpy_helper, shape_inference


def _shapes(model):
    shapes = {}
    g = model.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = []
        for d in t.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else None)
        shapes[vi.name] = dims
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _known(shape):
    return shape is not None and all(isinstance(d, int) and d > 0 for d in shape)


def count(path):
    model = onnx.load(path)
    inferred = shape_inference.infer_shapes(model)
    shapes = _shapes(inferred)
    macs_by_op = {}
    unknown = []
    for node in inferred.graph.node:
        op = node.op_type
        if op not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            continue
        ins = [shapes.get(n) for n in node.input]
        out = shapes.get(node.output[0])
        if op == "Conv" and _known(out) and _known(ins[1]):
            w = ins[1]  # [M, C/group, k...]
            macs = math.prod(out) * w[1] * math.prod(w[2:])
        elif op == "ConvTranspose" and _known(ins[0]) and _known(ins[1]):
            w = ins[1]  # [C, M/group, k...]
            macs = math.prod(ins[0]) * w[1] * math.prod(w[2:])
        elif op == "Gemm" and _known(ins[0]) and _known(ins[1]):
            a, b = ins[0], ins[1]
            m, k = (a[1], a[0]) if _attr(node, "transA", 0) else (a[0], a[1])
            n = b[0] if _attr(node, "transB", 0) else b[1]
            macs = m * n * k
        elif op == "MatMul" and _known(out) and _known(ins[0]):
            macs = math.prod(out) * ins[0][-1]
        else:
            unknown.append(node.name or op)
            continue
        macs_by_op[op] = macs_by_op.get(op, 0) + macs
    weights = sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)
    return {
        "model": path,
        "gflop": 2 * sum(macs_by_op.values()) / 1e9,
        "gflop_by_op": {k: 2 * v / 1e9 for k, v in sorted(macs_by_op.items())},
        "weights_bytes": weights,
        "initializers": len(model.graph.initializer),
        "uncounted_nodes": unknown,
    }


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    if len(args) != 1:
        sys.exit("usage: flops.py MODEL.onnx [--json]")
    r = count(args[0])
    if r["uncounted_nodes"]:
        print(f"flops: warning: no shapes for {', '.join(r['uncounted_nodes'])}", file=sys.stderr)
    if "--json" in sys.argv[1:]:
        print(json.dumps(r))
    else:
        print(f"gflop={r['gflop']:.4f} weights_bytes={r['weights_bytes']} "
              f"initializers={r['initializers']}")


if __name__ == "__main__":
    main()
