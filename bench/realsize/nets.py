"""CIFAR-style networks of the real-size zoo (32x32 RGB input, BatchNorm), written for this bench.

Every model takes the [0, 1] image, [N, 3, 32, 32], and normalises inside its graph (a fixed per-channel
mean/std of the training data, the first op of the exported ONNX), so the scanner needs no --input-mean.

- resnet18: the CIFAR ResNet-18 (He et al. 2016; 3x3 stem, no max-pool, [2, 2, 2, 2] basic blocks at widths
  w, 2w, 4w, 8w). w = 64 is the full model (11.2M parameters); `width` scales w.
- wrn16_2: Wide ResNet 16-2 (Zagoruyko & Komodakis 2016; pre-activation blocks, widths 32, 64, 128).
- vgg11: VGG-11 with BatchNorm (configuration A), CIFAR head (one 512 -> classes linear layer).
- mobilenetv2: MobileNetV2 (Sandler et al. 2018) with the CIFAR strides (stem and the second stage at
  stride 1, so 32x32 ends at 4x4), width multiplier `width`.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Normalise(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.short is None else self.short(x)))


class ResNet18(nn.Module):
    def __init__(self, classes, width=64):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.stem = nn.Sequential(nn.Conv2d(3, w[0], 3, 1, 1, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU())
        layers, cin = [], w[0]
        for i, c in enumerate(w):
            stride = 1 if i == 0 else 2
            layers += [BasicBlock(cin, c, stride), BasicBlock(c, c, 1)]
            cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class WideBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv, BN-ReLU-conv, identity or 1x1 shortcut on the activated input."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.short = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return out + (x if self.short is None else self.short(a))


class WRN(nn.Module):
    def __init__(self, classes, depth=16, k=2):
        super().__init__()
        n = (depth - 4) // 6
        w = [16, 16 * k, 32 * k, 64 * k]
        self.stem = nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        blocks, cin = [], w[0]
        for g in range(3):
            for b in range(n):
                blocks.append(WideBlock(cin, w[g + 1], (1 if g == 0 else 2) if b == 0 else 1))
                cin = w[g + 1]
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


VGG11_CFG = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


class VGG11(nn.Module):
    def __init__(self, classes, width=1.0):
        super().__init__()
        layers, cin = [], 3
        for v in VGG11_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                c = max(8, int(round(v * width)))
                layers += [nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
                cin = c
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        out = self.body(x)
        return x + out if self.residual else out


# (expansion, channels, repeats, stride): MobileNetV2's table with the CIFAR change (second row stride 1)
MBV2_CFG = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def _div8(v):
    return max(8, int(v + 4) // 8 * 8)


class MobileNetV2(nn.Module):
    def __init__(self, classes, width=1.0):
        super().__init__()
        cin = _div8(32 * width)
        layers = [nn.Conv2d(3, cin, 3, 1, 1, bias=False), nn.BatchNorm2d(cin), nn.ReLU6()]
        for t, c, n, s in MBV2_CFG:
            cout = _div8(c * width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = _div8(1280 * max(1.0, width))
        layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(last, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class WithNormalise(nn.Module):
    """The exported model: [0, 1] image in, logits out; normalisation is the graph's first op."""

    def __init__(self, net, mean, std):
        super().__init__()
        self.norm = Normalise(mean, std)
        self.net = net

    def forward(self, x):
        return self.net(self.norm(x))


def make_net(arch, classes, width):
    if arch == "resnet18":
        return ResNet18(classes, int(width))
    if arch == "wrn16_2":
        return WRN(classes, 16, 2)
    if arch == "vgg11":
        return VGG11(classes, float(width))
    if arch == "mobilenetv2":
        return MobileNetV2(classes, float(width))
    raise ValueError(f"unknown architecture {arch}")


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, shape=(1, 3, 32, 32)):
    """Multiply-accumulates of one forward pass (conv and linear layers), by forward hooks."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(*shape))
    model.train(was)
    for h in hs:
        h.remove()
    return total[0]
