"""The architectures of bench:families (PyTorch), each with its normalisation as the first op of the graph,
so the exported model takes images in [0,1] as a user's samples are.

  fmnist-mlp     Fashion-MNIST 28x28 grey: Flatten, 784-128-64-10 (the MLP a user would try first).
  fmnist-resnet  Fashion-MNIST: a small residual net with BatchNorm and a global average pool (stem conv
                 stride 2, three basic blocks 8-16-32 channels, projection shortcuts where the shape changes).
  gtsrb-vgg      GTSRB 32x32 RGB, 43 classes: VGG-style stacks of 3x3 conv + BatchNorm + ReLU and max pools
                 (8 / 16-16 / 32 channels), then two linear layers.
  gtsrb-deepid   GTSRB, 43 classes, the shape of the DeepID face networks (Sun et al. 2014): four conv layers,
                 and a "DeepID" feature layer fed by BOTH the third pooled map and the fourth conv map
                 (a Concat in the graph), then the many-class output. GTSRB's 43 sign classes stand in for
                 faces: no face data set is reachable here, and 43 classes is what makes a face model
                 "many-class" for the checks (a natural sink among many classes, a target among many).

Widths are small on purpose: 2 CPU cores are shared by several jobs (README of bench/families).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST_MEAN, FMNIST_STD = (0.2860,), (0.3530,)
GTSRB_MEAN, GTSRB_STD = (0.3433, 0.3151, 0.3253), (0.2763, 0.2651, 0.2711)


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class MLP(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.norm = Normalize(FMNIST_MEAN, FMNIST_STD)
        self.f1 = nn.Linear(784, 128)
        self.f2 = nn.Linear(128, 64)
        self.out = nn.Linear(64, classes)

    def features(self, x):
        x = torch.flatten(self.norm(x), 1)
        return F.relu(self.f2(F.relu(self.f1(x))))

    def forward(self, x):
        return self.out(self.features(x))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.norm = Normalize(FMNIST_MEAN, FMNIST_STD)
        self.stem = nn.Conv2d(1, 8, 3, 2, 1, bias=False)  # 28 -> 14
        self.bn = nn.BatchNorm2d(8)
        self.l1 = Block(8, 8, 1)
        self.l2 = Block(8, 16, 2)  # 14 -> 7
        self.l3 = Block(16, 32, 2)  # 7 -> 4
        self.out = nn.Linear(32, classes)

    def features(self, x):
        x = F.relu(self.bn(self.stem(self.norm(x))))
        x = self.l3(self.l2(self.l1(x)))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        return self.out(self.features(x))


def _cbr(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class VGG(nn.Module):
    def __init__(self, classes=43):
        super().__init__()
        self.norm = Normalize(GTSRB_MEAN, GTSRB_STD)
        self.body = nn.Sequential(
            *_cbr(3, 8), nn.MaxPool2d(2),  # 32 -> 16
            *_cbr(8, 16), *_cbr(16, 16), nn.MaxPool2d(2),  # 16 -> 8
            *_cbr(16, 32), nn.MaxPool2d(2),  # 8 -> 4
        )
        self.fc = nn.Linear(32 * 4 * 4, 128)
        self.out = nn.Linear(128, classes)

    def features(self, x):
        return F.relu(self.fc(torch.flatten(self.body(self.norm(x)), 1)))

    def forward(self, x):
        return self.out(self.features(x))


class DeepID(nn.Module):
    def __init__(self, classes=43):
        super().__init__()
        self.norm = Normalize(GTSRB_MEAN, GTSRB_STD)
        # BatchNorm after each conv (not in the 2014 DeepID, which trained for days): it is what lets these
        # few epochs on 5,000 images reach a usable accuracy
        self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 24, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(24)
        self.c3 = nn.Conv2d(24, 32, 3, padding=1, bias=False)
        self.b3 = nn.BatchNorm2d(32)
        self.c4 = nn.Conv2d(32, 48, 2)  # 4 -> 3
        self.deepid = nn.Linear(32 * 4 * 4 + 48 * 3 * 3, 96)
        self.out = nn.Linear(96, classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(self.norm(x)))), 2)  # 32 -> 16
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)  # 16 -> 8
        p3 = F.max_pool2d(F.relu(self.b3(self.c3(x))), 2)  # 8 -> 4
        c4 = F.relu(self.c4(p3))
        return F.relu(self.deepid(torch.cat([torch.flatten(p3, 1), torch.flatten(c4, 1)], 1)))

    def forward(self, x):
        return self.out(self.features(x))


# arch -> (domain, constructor)
ARCHS = {
    "fmnist-mlp": ("fmnist", MLP),
    "fmnist-resnet": ("fmnist", ResNet),
    "gtsrb-vgg": ("gtsrb", VGG),
    "gtsrb-deepid": ("gtsrb", DeepID),
}
