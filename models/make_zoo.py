#!/usr/bin/python3
"""Export real architectures for minirt's conformance tests (too large to commit; made on demand).

Run with Debian's interpreter (it has torch/torchvision/onnx/numpy):

    /usr/bin/python3 models/make_zoo.py                 # every family at opsets 11, 13, 17 + dynbatch
    /usr/bin/python3 models/make_zoo.py --only resnet50 --opsets 13

Writes models/large/zoo/<family>_op<opset>/ (and <family>_dynbatch/, exported with a symbolic batch
and run with batch 2) in the layout of models/make_models.py: model.onnx, input_<i>.npy and
output_<i>.npy (PyTorch eager outputs). Weights are random with a fixed seed; BatchNorm statistics are
randomised so folding them into Conv is exercised. A case already present is left alone.
"""

import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import export_case  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "large", "zoo")


class Conv1dNet(nn.Module):
    """A 1-D audio-style classifier."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(1, 16, 9, stride=2, padding=4), nn.BatchNorm1d(16), nn.ReLU(),
            nn.MaxPool1d(3, stride=2, padding=1),
            nn.Conv1d(16, 32, 5, padding=2, dilation=1), nn.BatchNorm1d(32), nn.ReLU(),
            nn.Conv1d(32, 32, 3, padding=2, dilation=2, groups=4), nn.ReLU(),
            nn.AvgPool1d(2),
            nn.Conv1d(32, 64, 3, stride=2), nn.LeakyReLU(0.1),
        )
        self.head = nn.Linear(64, 12)

    def forward(self, x):
        x = self.body(x)
        x = x.mean(dim=2)
        return F.log_softmax(self.head(x), dim=1)


class UNetSmall(nn.Module):
    """An encoder/decoder with ConvTranspose upsampling, skip connections (Concat) and a bilinear
    Resize on the last stage."""

    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                                 nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())

        self.e1, self.e2, self.e3 = block(3, 16), block(16, 32), block(32, 64)
        self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.d2 = block(64, 32)
        self.up1 = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)
        self.d1 = block(32, 16)
        self.out = nn.Conv2d(16, 2, 1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        c = self.e3(F.max_pool2d(b, 2))
        d = self.d2(torch.cat([self.up2(c), b], dim=1))
        e = self.d1(torch.cat([self.up1(d), a], dim=1))
        y = self.out(e)
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        return torch.sigmoid(y)


class SegWrapper(nn.Module):
    """torchvision segmentation models return a dict; export its 'out' tensor."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


def randomise_bn(model):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
    return model


def tv(name, **kw):
    return lambda: getattr(torchvision.models, name)(weights=None, **kw)


# family -> (constructor, input shape)
FAMILIES = {
    "resnet18": (tv("resnet18"), (1, 3, 224, 224)),
    "resnet50": (tv("resnet50"), (1, 3, 224, 224)),
    "mobilenet_v2": (tv("mobilenet_v2"), (1, 3, 224, 224)),
    "mobilenet_v3_small": (tv("mobilenet_v3_small"), (1, 3, 224, 224)),
    "efficientnet_b0": (tv("efficientnet_b0"), (1, 3, 224, 224)),
    "densenet121": (tv("densenet121"), (1, 3, 224, 224)),
    "googlenet": (tv("googlenet", aux_logits=False, init_weights=True), (1, 3, 224, 224)),
    "shufflenet_v2": (tv("shufflenet_v2_x0_5"), (1, 3, 224, 224)),
    "squeezenet1_1": (tv("squeezenet1_1"), (1, 3, 224, 224)),
    "regnet_y_400mf": (tv("regnet_y_400mf"), (1, 3, 224, 224)),
    "lraspp_mobilenet_v3": (lambda: SegWrapper(torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None)), (1, 3, 224, 224)),
    "r3d_18": (lambda: torchvision.models.video.r3d_18(weights=None), (1, 3, 8, 112, 112)),
    "conv1d_net": (Conv1dNet, (2, 1, 400)),
    "unet_small": (UNetSmall, (1, 3, 64, 80)),
}

DYNBATCH = ["resnet18", "mobilenet_v2", "efficientnet_b0", "unet_small", "conv1d_net"]


def build(family):
    torch.manual_seed(0)
    ctor, shape = FAMILIES[family]
    model = randomise_bn(ctor()).eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    return model, x


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="families to export (default: all)")
    ap.add_argument("--opsets", nargs="*", type=int, default=[11, 13, 17])
    ap.add_argument("--no-dynbatch", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    families = args.only or list(FAMILIES)
    for fam in families:
        for opset in args.opsets:
            name = f"{fam}_op{opset}"
            if os.path.exists(os.path.join(OUT, name, "output_0.npy")):
                continue
            model, x = build(fam)
            export_case(OUT, name, model, [x], opset=opset, require_supported=False)
        if not args.no_dynbatch and fam in DYNBATCH:
            name = f"{fam}_dynbatch"
            if os.path.exists(os.path.join(OUT, name, "output_0.npy")):
                continue
            model, x = build(fam)
            x2 = torch.cat([x, torch.randn(x.shape, generator=torch.Generator().manual_seed(3))])
            export_case(OUT, name, model, [x2], opset=13, require_supported=False,
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


if __name__ == "__main__":
    main()
