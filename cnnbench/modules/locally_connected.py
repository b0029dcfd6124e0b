"""A locally connected 2-D layer: a convolution's receptive fields and maps, without weight sharing.

Every output position has its own filter. With all positions' filters set to one kernel it computes the
convolution exactly (tests check that): the lecture's "neurons taken away" (locality) without its second
step (sharing), so the two properties can be measured apart.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class LocallyConnected2d(nn.Module):
    """(N, C_in, H, W) -> (N, C_out, H_out, W_out) with a separate (C_out, C_in, kh, kw) filter and bias
    at each of the H_out x W_out positions; computed with `unfold` (the patches) and an einsum over positions
    (written as a batched matmul)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: tuple[int, int],
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), _pair(stride), _pair(padding)
        h, w = _pair(input_size)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        self.output_size = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
        if min(self.output_size) < 1:
            raise ValueError(f"kernel {self.kernel_size} does not fit input {(h, w)} with padding {self.padding}")
        positions = self.output_size[0] * self.output_size[1]
        fan_in = in_channels * kh * kw
        # weight[l] is the filter at output position l, flattened like unfold's patches: (C_out, C_in*kh*kw)
        self.weight = nn.Parameter(torch.empty(positions, out_channels, fan_in))
        self.bias = nn.Parameter(torch.empty(positions, out_channels)) if bias else None
        bound = 1.0 / math.sqrt(fan_in)  # nn.Conv2d's default initialisation, per position
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    # without gradients (scoring), a batch is computed in slices of this many: a whole scoring batch's patches
    # (1,024 x 225 x 784 floats for the lecture's second layer: 0.7 GB, twice with the transposed copy) leave
    # the caches and fault in fresh pages every pass. Measured on 1 thread of the 2-core EPYC, forward of the
    # ladder's local rung at batch 1,024: slices of 32 take 0.5-0.75x the time of slices of 128 or 256 (the
    # page faults fall 2-3x); benchmarks/test_locally_connected.py measures sliced against whole
    SCORING_SLICE = 32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) > self.SCORING_SLICE and not torch.is_grad_enabled():
            return torch.cat([self._forward(part) for part in x.split(self.SCORING_SLICE)])
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # (N, C_in*kh*kw, L)
        # the einsum "ncl,loc->nol" as one batched matmul over positions on contiguous operands: 8x faster
        # than torch.einsum's own path on CPU (forward + backward, batch 128, the lecture's second layer)
        out = torch.bmm(patches.permute(2, 0, 1).contiguous(), self.weight.transpose(1, 2)).permute(1, 2, 0)
        if self.bias is not None:
            out = out + self.bias.t().unsqueeze(0)
        return out.reshape(x.shape[0], self.out_channels, *self.output_size)

    @torch.no_grad()
    def tie_to(self, conv: nn.Conv2d) -> LocallyConnected2d:
        """Set every position's filter (and bias) to the convolution's: then this layer computes the conv."""
        self.weight.copy_(conv.weight.reshape(self.out_channels, -1).expand_as(self.weight))
        if self.bias is not None:
            bias = conv.bias if conv.bias is not None else torch.zeros(self.out_channels)
            self.bias.copy_(bias.expand_as(self.bias))
        return self

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_size={self.output_size}, unshared")  # fmt: skip
