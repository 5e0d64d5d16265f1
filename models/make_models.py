#!/usr/bin/python3
"""Generate ONNX test models plus reference inputs/outputs for minirt.

Run with Debian's interpreter (it has torch/torchvision/onnx/numpy):

    /usr/bin/python3 models/make_models.py            # small committed cases
    /usr/bin/python3 models/make_models.py --large    # also models/large/ (git-ignored)

Each case is written to models/<case>/ (or models/large/<case>/):
    model.onnx
    input_0.npy, input_1.npy, ...   float32, C-order, little-endian, .npy v1.0
    output_0.npy, ...               torch eager outputs for those inputs
"""

import argparse
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore", message="Using padding='same'")

HERE = os.path.dirname(os.path.abspath(__file__))

# The committed small cases stay within the spine's first op set (so they exercise Conv and the
# ResNet ops only); large cases and the zoo (require_supported=False) may use any op.
SUPPORTED_OPS = {
    "Conv", "Relu", "Add", "MaxPool", "GlobalAveragePool",
    "Flatten", "Gemm", "Identity", "Constant",
}


# --------------------------------------------------------------------------
# Model definitions
# --------------------------------------------------------------------------

class NotebookConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(5, 5, (3, 2), stride=(2, 1), bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(5, 5, 3, 2))

    def forward(self, x):
        return self.conv(x)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.res_a = nn.Conv2d(16, 16, 3, padding=1)
        self.res_b = nn.Conv2d(16, 16, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)
        # Non-trivial BN statistics so the fold is actually exercised.
        with torch.no_grad():
            self.bn2.running_mean.copy_(torch.randn(16) * 0.1)
            self.bn2.running_var.copy_(torch.rand(16) + 0.5)
            self.bn2.weight.copy_(torch.rand(16) + 0.5)
            self.bn2.bias.copy_(torch.randn(16) * 0.1)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(x)
        x = F.relu(self.bn2(self.conv2(x)))
        y = self.res_b(F.relu(self.res_a(x)))
        x = F.relu(x + y)
        x = self.gap(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class ConvStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.Conv2d(4, 8, 3, stride=2, padding=(1, 2)),          # stride 2, H/W pad differ
            nn.Conv2d(8, 8, 3, dilation=2, padding=1),              # dilation 2
            nn.Conv2d(8, 8, 3, padding=1, groups=2),                # groups=2
            nn.Conv2d(8, 8, 3, padding=1, groups=8),                # depthwise
            nn.Conv2d(8, 16, 3, padding=1, groups=8),               # depthwise, multiplier 2
            nn.Conv2d(16, 8, 1),                                    # 1x1
            nn.Conv2d(8, 6, (5, 3), padding=(2, 1), bias=False),    # no bias, 5x3 kernel
        ])

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return x


class Conv1dStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.Conv1d(4, 8, 5, stride=2, padding=2),
            nn.Conv1d(8, 8, 3, dilation=2, padding=1),
            nn.Conv1d(8, 8, 3, padding=1, groups=4),
            nn.Conv1d(8, 16, 3, groups=8, bias=False),
            nn.Conv1d(16, 6, 1),
        ])

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return x


class Conv3dStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=(1, 0, 1)),
            nn.Conv3d(4, 4, (3, 2, 3), dilation=(2, 1, 1), padding=(2, 1, 0)),
            nn.Conv3d(4, 8, 3, padding=1, groups=2),
            nn.Conv3d(8, 8, 2, stride=2, groups=8, bias=False),
            nn.Conv3d(8, 3, 1),
        ])

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return x


class ConvSamePad(nn.Module):
    def __init__(self):
        super().__init__()
        # Even kernel width + dilation 2 -> total pad 2*(4-1)=6 (W), 2*(3-1)=4 (H).
        self.conv1 = nn.Conv2d(3, 6, (3, 4), padding="same", dilation=2)
        # Even kernel, no dilation -> total pad odd (1), i.e. asymmetric.
        self.conv2 = nn.Conv2d(6, 4, 2, padding="same", dilation=1)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        return self.conv2(x)


def he_init(model):
    """He-normal weights + small random biases so activations stay O(1) through
    deep stacks (default init shrinks them, weakening absolute-tolerance tests)."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                if mod.bias is not None:
                    mod.bias.normal_(0.0, 0.1)
    return model


# --------------------------------------------------------------------------
# Export machinery
# --------------------------------------------------------------------------

def save_npy(path, arr):
    arr = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
    np.save(path, arr, allow_pickle=False)


def export_case(out_dir, name, model, inputs, *, opset=13, input_names=None,
                output_names=None, dynamic_axes=None, require_supported=True):
    case_dir = os.path.join(out_dir, name)
    os.makedirs(case_dir, exist_ok=True)
    model.eval()
    if input_names is None:
        input_names = ["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))]
    if output_names is None:
        output_names = ["output"]

    with torch.no_grad():
        outs = model(*inputs)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)

    onnx_path = os.path.join(case_dir, "model.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, tuple(inputs), onnx_path,
            opset_version=opset,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
            export_params=True,
        )

    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)

    # Runtime graph inputs = graph inputs that are not initializers.
    inits = {t.name for t in m.graph.initializer}
    rt_inputs = [i.name for i in m.graph.input if i.name not in inits]
    g_outputs = [o.name for o in m.graph.output]
    assert rt_inputs == input_names, (name, rt_inputs, input_names)
    assert g_outputs == output_names, (name, g_outputs, output_names)
    assert len(outs) == len(g_outputs)

    for i, x in enumerate(inputs):
        save_npy(os.path.join(case_dir, f"input_{i}.npy"), x.numpy())
    for i, y in enumerate(outs):
        save_npy(os.path.join(case_dir, f"output_{i}.npy"), y.numpy())

    ops = sorted({n.op_type for n in m.graph.node})
    unsupported = sorted(set(ops) - SUPPORTED_OPS)
    size = os.path.getsize(onnx_path)
    ins = ", ".join(f"{n}{list(x.shape)}" for n, x in zip(input_names, inputs))
    ous = ", ".join(f"{n}{list(y.shape)}" for n, y in zip(output_names, outs))
    maxabs = max(float(y.abs().max()) for y in outs)
    print(f"[{name}] opset={opset} nodes={len(m.graph.node)} model.onnx={size} B")
    print(f"    inputs : {ins}")
    print(f"    outputs: {ous}  max|out|={maxabs:.6g}")
    print(f"    ops    : {ops}")
    if dynamic_axes:
        for vi in list(m.graph.input) + list(m.graph.output):
            if vi.name in inits:
                continue
            dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
            print(f"    shape  : {vi.name} {dims}")
    if unsupported and require_supported:
        raise SystemExit(f"ERROR: [{name}] ops outside the small cases' set: {unsupported}")
    return m, outs


def describe_conv_attrs(m):
    for n in m.graph.node:
        if n.op_type == "Conv":
            attrs = {a.name: (a.s.decode() if a.type == onnx.AttributeProto.STRING
                              else list(a.ints) if a.ints else a.i)
                     for a in n.attribute}
            print(f"    {n.name}: {attrs}")


def _convolution_mode_symbolic(g, input, weight, bias, stride, padding, dilation, groups):
    from torch.onnx import symbolic_helper as sh
    stride = sh._parse_arg(stride, "is")
    padding = sh._parse_arg(padding, "s")
    dilation = sh._parse_arg(dilation, "is")
    groups = sh._parse_arg(groups, "i")
    kernel_shape = sh._get_tensor_sizes(weight)[2:]
    if kernel_shape is None or any(k is None for k in kernel_shape):
        raise RuntimeError("conv with padding mode: kernel shape unknown")
    args = [input, weight]
    if not sh._is_none(bias):
        args.append(bias)
    auto_pad = {"same": "SAME_UPPER", "valid": "VALID"}[padding]
    return g.op("Conv", *args, kernel_shape_i=kernel_shape, strides_i=stride,
                auto_pad_s=auto_pad, dilations_i=dilation, group_i=groups)


def check_same_upper(model, x, ref):
    """Recompute the model with explicit ONNX SAME_UPPER pads and compare to torch."""
    with torch.no_grad():
        y = x
        for i, conv in enumerate([model.conv1, model.conv2]):
            pads = []  # F.pad order: last dim first, (begin, end)
            for k, d in reversed(list(zip(conv.kernel_size, conv.dilation))):
                total = d * (k - 1)          # stride 1: out == in
                pads += [total // 2, total - total // 2]   # extra at end = SAME_UPPER
            y = F.conv2d(F.pad(y, pads), conv.weight, conv.bias, 1, 0, conv.dilation, conv.groups)
            if i == 0:
                y = F.relu(y)
    err = float((y - ref).abs().max())
    print(f"    SAME_UPPER recomputation vs torch eager: max abs err {err:.3g}")
    assert err < 1e-5, err


def make_small(out_dir):
    # 1. notebook_conv
    torch.manual_seed(0)
    model = NotebookConv()
    x = torch.from_numpy(np.arange(750, dtype=np.float32).reshape(6, 5, 5, 5))
    _, outs = export_case(out_dir, "notebook_conv", model, [x])
    assert tuple(outs[0].shape) == (6, 5, 2, 4), outs[0].shape

    # 2. small_cnn
    torch.manual_seed(1)
    model = he_init(SmallCNN())
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32))
    export_case(out_dir, "small_cnn", model, [x])

    # 3. conv_stack
    torch.manual_seed(2)
    model = he_init(ConvStack())
    x = torch.from_numpy(np.random.default_rng(2).standard_normal((2, 4, 23, 19)).astype(np.float32))
    m, _ = export_case(out_dir, "conv_stack", model, [x])

    # 4. conv1d_stack
    torch.manual_seed(3)
    model = he_init(Conv1dStack())
    x = torch.from_numpy(np.random.default_rng(3).standard_normal((2, 4, 37)).astype(np.float32))
    export_case(out_dir, "conv1d_stack", model, [x])

    # 5. conv3d_stack
    torch.manual_seed(4)
    model = he_init(Conv3dStack())
    x = torch.from_numpy(np.random.default_rng(4).standard_normal((1, 2, 9, 10, 11)).astype(np.float32))
    export_case(out_dir, "conv3d_stack", model, [x])

    # 6. conv_same_pad
    torch.manual_seed(5)
    model = he_init(ConvSamePad())
    x = torch.from_numpy(np.random.default_rng(5).standard_normal((1, 3, 13, 12)).astype(np.float32))
    try:
        m, outs = export_case(out_dir, "conv_same_pad", model, [x])
    except torch.onnx.errors.UnsupportedOperatorError as e:
        # torch 1.13's exporter has no symbolic for aten::_convolution_mode
        # (what padding='same'/'valid' lowers to). Register one that writes
        # exactly what newer torch exporters write: Conv with
        # auto_pad=SAME_UPPER (or VALID).
        print(f"NOTE: stock exporter failed for conv_same_pad: {str(e).splitlines()[0]}")
        print("NOTE: registering symbolic for aten::_convolution_mode -> Conv(auto_pad=SAME_UPPER|VALID)")
        torch.onnx.register_custom_op_symbolic("aten::_convolution_mode", _convolution_mode_symbolic, 13)
        m, outs = export_case(out_dir, "conv_same_pad", model, [x])
    assert tuple(outs[0].shape) == (1, 4, 13, 12), outs[0].shape
    print("    Conv attributes as written:")
    describe_conv_attrs(m)
    check_same_upper(model, x, outs[0])


def make_large(out_dir):
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    # Make BN statistics non-trivial (fresh init has mean 0 / var 1, which
    # would hide BN-folding bugs). Seeded, so deterministic.
    g = torch.Generator().manual_seed(100)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                mod.weight.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                mod.bias.copy_(torch.randn(c, generator=g) * 0.1)

    rng = np.random.default_rng(7)
    x1 = torch.from_numpy(rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
    x2 = torch.from_numpy(rng.standard_normal((2, 3, 224, 224)).astype(np.float32))

    export_case(out_dir, "resnet18", model, [x1], require_supported=False)
    export_case(out_dir, "resnet18_dynbatch", model, [x2], require_supported=False,
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    export_case(out_dir, "resnet18_opset17", model, [x1], opset=17, require_supported=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large", action="store_true",
                    help="also write resnet18 cases under models/large/")
    ap.add_argument("--large-only", action="store_true",
                    help="write only the models/large/ cases (leave the committed ones alone)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    if not args.large_only:
        make_small(HERE)
    if args.large or args.large_only:
        make_large(os.path.join(HERE, "large"))


if __name__ == "__main__":
    main()
