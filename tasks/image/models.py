"""Image models: the lecture's MNIST CNN and DNN, a CIFAR ResNet, torchvision's ImageNet models."""

from __future__ import annotations

from torch import nn


class LectureCNN(nn.Sequential):
    """The lecture's Keras net: Conv 25@3x3, pool, Conv 50@3x3, pool, Dense 100, Dense 10 (137,660 params).

    Dropout 0.25 after the second pool and 0.5 after Dense 100, as in the lecture's Keras code.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, side: int = 28) -> None:
        flat = 50 * (((side - 2) // 2 - 2) // 2) ** 2  # 50x5x5 = 1250 for 28x28
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 25, 3)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(25, 50, 3)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.drop1 = nn.Dropout(0.25)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(flat, 100)
        self.relu3 = nn.ReLU()
        self.drop2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(100, num_classes)


class DNN(nn.Sequential):
    """The lecture's fully connected comparison: 784-500-500-10 (648,010 params, ~4.7x the CNN)."""

    def __init__(self, num_classes: int = 10, in_features: int = 784, hidden: int = 500) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features, hidden)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.relu2 = nn.ReLU()
        self.drop = nn.Dropout(0.2)
        self.fc3 = nn.Linear(hidden, num_classes)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (He et al. 2016, Fig. 2); option A shortcut (zero padding)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            short = nn.functional.pad(short, (0, 0, 0, 0, 0, self.pad))
        return self.relu(out + short)


class CifarResNet(nn.Module):
    """ResNet-6n+2 for 32x32 images (He et al. 2016, Sec. 4.2); n=3 is ResNet-20, 0.27M parameters."""

    def __init__(self, num_classes: int = 10, n: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        blocks, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.blocks(self.stem(x)))))


def torchvision_model(name: str, num_classes: int) -> nn.Module:
    """A randomly initialised torchvision classifier (no weights are downloaded)."""
    import torchvision

    kwargs = {"weights": None, "num_classes": num_classes}
    if name == "googlenet":
        kwargs |= {"aux_logits": False, "init_weights": True}
    return torchvision.models.get_model(name, **kwargs)
