"""Image models: the lecture's MNIST CNN and DNN, a CIFAR ResNet, torchvision's ImageNet models."""

from __future__ import annotations

import torch
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


# --- a fast CIFAR-10 net, written from the published descriptions: Jordan 2024, "94% on CIFAR-10 in 3.29 Seconds
# on a Single GPU" (arXiv 2404.00498), which builds on Page 2018, "How to train your ResNet" (myrtle.ai, parts 1-8):
# a VGG-like net of three conv-pool-norm blocks, a frozen first layer that whitens 2x2 patches, norms whose scale
# is fixed and whose bias learns fast, identity-initialised convolutions and a scaled-down output ---

BIAS_SCALE = 8.0  # a norm's bias is 8 x its parameter: SGD then moves the bias 64x faster (Jordan's bias scaler)
WHITENING_EPS = 5e-4  # added to the patch covariance's eigenvalues before the inverse square root (Jordan 2024)
LOGIT_SCALE = 1 / 9  # the logits are scaled down by this factor (Jordan 2024)


def whitening_filters(mean: torch.Tensor, cov: torch.Tensor, channels: int, size: int) -> tuple[torch.Tensor, ...]:
    """Filters (2D, C, k, k) and bias (2D,) of a k x k convolution that whitens patches of D = C k^2 values with
    this mean and covariance: each eigenvector of the covariance scaled by 1/sqrt(eigenvalue + eps), and its
    negative (so that a GELU after it loses neither sign); the bias centres the patches."""
    values, vectors = torch.linalg.eigh(cov.double())  # ascending; columns are eigenvectors
    order = values.argsort(descending=True)
    scaled = (vectors[:, order] / (values[order].clamp_min(0) + WHITENING_EPS).sqrt()).T  # (D, D): one per row
    filters = torch.cat([scaled, -scaled]).float()
    bias = -(filters @ mean.float())
    return filters.view(-1, channels, size, size), bias


class PatchWhitening(nn.Module):
    """A k x k convolution without padding whose filters whiten the training images' patches (Page 2018, part 8;
    Jordan 2024): computed from the patch statistics of the training data and frozen; its bias trains."""

    def __init__(self, channels: int, size: int = 2, mean: torch.Tensor | None = None,
                 cov: torch.Tensor | None = None) -> None:  # fmt: skip
        super().__init__()
        d = channels * size * size
        if mean is None or cov is None:  # built without data (timing): the patches taken as already white
            mean, cov = torch.zeros(d), torch.eye(d)
        filters, bias = whitening_filters(mean, cov, channels, size)
        self.weight = nn.Parameter(filters, requires_grad=False)
        self.bias = nn.Parameter(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv2d(x, self.weight, self.bias)


class BiasNorm(nn.Module):
    """Batch normalisation with its scale fixed at 1 and a bias that learns 64x faster under SGD (Jordan 2024):
    the bias is BIAS_SCALE x its parameter. Running statistics keep 0.6 of the old value at each step."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, eps=1e-12, momentum=0.4, affine=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x) + BIAS_SCALE * self.bias.view(1, -1, 1, 1)


def identity_conv(cin: int, cout: int) -> nn.Conv2d:
    """A 3x3 convolution (same padding, no bias) whose first min(cin, cout) filters start as the identity (Jordan
    2024: an implicit residual at initialisation); the others keep PyTorch's initialisation."""
    conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    with torch.no_grad():
        nn.init.dirac_(conv.weight[: min(cin, cout)])
    return conv


class FastBlock(nn.Sequential):
    """conv, 2x2 max pool, norm, GELU, conv, norm, GELU (Jordan 2024; Page 2018's blocks with pooling before the
    norm)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(identity_conv(cin, cout), nn.MaxPool2d(2), BiasNorm(cout), nn.GELU(),
                         identity_conv(cout, cout), BiasNorm(cout), nn.GELU())  # fmt: skip


class FastNet(nn.Module):
    """The fast CIFAR-10 net: patch whitening (2x2, 2 C k^2 = 24 filters for colour), GELU, three blocks of
    64/256/256 maps (32 -> 31 -> 15 -> 7 -> 3 pixels), a global max pool and a linear layer without bias whose
    logits are scaled by 1/9 (Jordan 2024's airbench94 network)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3, widths: tuple[int, ...] = (64, 256, 256),
                 patch_mean: torch.Tensor | None = None, patch_cov: torch.Tensor | None = None) -> None:  # fmt: skip
        super().__init__()
        self.whiten = PatchWhitening(in_channels, 2, patch_mean, patch_cov)
        self.act = nn.GELU()
        blocks, cin = [], self.whiten.weight.shape[0]
        for width in widths:
            blocks.append(FastBlock(cin, width))
            cin = width
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(cin, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act(self.whiten(x)))
        return self.fc(self.flatten(self.pool(x))) * LOGIT_SCALE
