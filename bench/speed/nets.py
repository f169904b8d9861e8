"""Real-size networks for the speed benchmark (bench/speed/real-size.ts), exported by PyTorch's TorchScript
ONNX exporter (opset 17, dynamic batch axis) with seeded random weights: speed does not depend on what the
weights learned. Written here (torchvision is not installed): the standard layer recipes.

  resnet18-32   CIFAR-style ResNet-18: 3x3 stem, no max-pool, [2, 2, 2, 2] basic blocks, 10 classes, 32x32x3
  resnet18-224  ImageNet ResNet-18: 7x7/2 stem, max-pool, the same blocks, 1000 classes, 224x224x3
  mobilenetv2-224  MobileNetV2 (width 1.0): inverted residuals with depthwise 3x3, ReLU6, 1000 classes

BatchNorm running statistics are set by a few forward passes in training mode on seeded noise (so the
activations of the exported eval-mode graph stay in a trained network's range), then the model is exported
in eval mode. Usage: python3 nets.py NAME OUT.onnx
"""
import sys

import torch
import torch.nn as nn

OPSET = 17


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.short is None else self.short(x)))


class ResNet18(nn.Module):
    def __init__(self, classes, imagenet):
        super().__init__()
        if imagenet:
            self.stem = nn.Sequential(
                nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
            )
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        layers = []
        cin = 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


def conv_bn(cin, cout, k, stride, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(inplace=True)]


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else conv_bn(cin, hidden, 1, 1)
        layers += conv_bn(hidden, hidden, 3, stride, groups=hidden)
        layers += [nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    # (expansion, channels, repeats, first stride): the paper's table 2
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, classes):
        super().__init__()
        layers = conv_bn(3, 32, 3, 2)
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers += conv_bn(cin, 1280, 1, 1)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1280, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


NETS = {
    "resnet18-32": (lambda: ResNet18(10, imagenet=False), 32),
    "resnet18-224": (lambda: ResNet18(1000, imagenet=True), 224),
    "mobilenetv2-224": (lambda: MobileNetV2(1000), 224),
}


def main():
    name, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    make, size = NETS[name]
    model = make()
    g = torch.Generator().manual_seed(1)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.rand(8, 3, size, size, generator=g))
    model.eval()
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, size, size),),
        out,
        dynamo=False,
        opset_version=OPSET,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )
    params = sum(p.numel() for p in model.parameters())
    print(f"{name} {params}")


if __name__ == "__main__":
    main()
