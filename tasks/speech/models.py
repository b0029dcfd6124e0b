"""Speech models on (channels, bands, frames) log-mel inputs."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class FreqConv(nn.Module):
    """Convolution along frequency only: each filter spans `bands` bands and ALL frames and channels.

    Computed as a Conv1d over frequency with (channels x frames) folded into the input channels; this is
    the same function as a Conv2d with a (bands x frames) kernel (see conv2d_reference and its test),
    and the faster of the two (benchmarks/test_speech_freqconv.py measures the ratio).
    """

    def __init__(self, channels: int, frames: int, filters: int, bands: int) -> None:
        super().__init__()
        self.channels, self.frames = channels, frames
        self.conv = nn.Conv1d(channels * frames, filters, bands)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, F, T) -> (B, filters, F - bands + 1)
        b, c, f, t = x.shape
        return self.conv(x.permute(0, 1, 3, 2).reshape(b, c * t, f))

    def conv2d_reference(self, x: torch.Tensor) -> torch.Tensor:
        """The textbook form: Conv2d with a (bands x frames) kernel over the (F, T) image, same weights."""
        w = self.conv.weight  # (filters, C*T, bands)
        filters, _, bands = w.shape
        w2 = w.reshape(filters, self.channels, self.frames, bands).permute(0, 1, 3, 2)  # (filters, C, bands, T)
        return F.conv2d(x, w2, self.conv.bias).squeeze(-1)


class FreqCNN(nn.Module):
    """Abdel-Hamid et al. 2014 layout: frequency convolution, max pooling along frequency, dense layers."""

    # Abdel-Hamid et al. 2014 (Sec. V): filter size 8 bands, pooling size 3 with a 40-band input works well
    def __init__(self, num_classes: int, shape: tuple[int, ...], filters: int = 128, bands: int = 8, pool: int = 3):
        super().__init__()
        c, f, t = shape
        self.conv = FreqConv(c, t, filters, bands)
        self.pool = nn.MaxPool1d(pool)
        self.flatten = nn.Flatten()
        flat = filters * ((f - bands + 1) // pool)
        self.head = nn.Sequential(nn.Linear(flat, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.flatten(self.pool(F.relu(self.conv(x)))))


class CNN2d(nn.Module):
    """Ordinary 3x3 convolutions over time and frequency, with 2x2 pooling (the image recipe)."""

    def __init__(self, num_classes: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        c = shape[0]
        self.features = nn.Sequential(
            nn.Conv2d(c, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d((5, 4)),  # a fixed size for clips (40x101) and phoneme windows (40x11)
        )
        self.flatten = nn.Flatten()
        self.head = nn.Sequential(nn.Linear(64 * 5 * 4, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.flatten(self.features(x)))


class DNN(nn.Sequential):
    """Fully connected baseline on the same flattened input."""

    def __init__(self, num_classes: int, shape: tuple[int, ...], hidden: int = 512) -> None:
        n = 1
        for s in shape:
            n *= s
        super().__init__(
            nn.Flatten(),
            nn.Linear(n, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(hidden, num_classes),
        )


class FreqCNNLSTM(nn.Module):
    """A frequency CNN on a short window around every frame, then an LSTM over time ("the LSTM handles time")."""

    def __init__(
        self, num_classes: int, shape: tuple[int, ...], window: int = 5, filters: int = 64, bands: int = 8
    ) -> None:
        super().__init__()
        c, f, _ = shape
        self.window = window
        self.conv = FreqConv(c, window, filters, bands)
        self.pool = nn.MaxPool1d(3)
        self.proj = nn.Linear(filters * ((f - bands + 1) // 3), 128)
        self.lstm = nn.LSTM(128, 128, batch_first=True)
        self.head = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, f, t = x.shape
        half = self.window // 2
        padded = F.pad(x, (half, self.window - 1 - half))
        win = padded.unfold(3, self.window, 1)  # (B, C, F, T, window)
        win = win.permute(0, 3, 1, 2, 4).reshape(b * t, c, f, self.window)
        h = self.pool(F.relu(self.conv(win))).flatten(1)
        h = F.relu(self.proj(h)).reshape(b, t, -1)
        out, _ = self.lstm(h)
        return self.head(out.max(dim=1).values)  # max over time: the word may sit anywhere in the clip
