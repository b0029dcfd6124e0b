"""Parameters, FLOPs (torch's FlopCounterMode) and a per-layer summary like Keras' model.summary()."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _flop_counts(model: nn.Module, x: torch.Tensor, backward: bool) -> FlopCounterMode:
    was_training = model.training
    model.train(backward)
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            if backward:
                model(x).sum().backward()
            else:
                with torch.no_grad():
                    model(x)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return counter


def count_flops(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """FLOPs per sample of the forward pass and of forward+backward (a training step's compute).

    Counted by FlopCounterMode: matmuls and convolutions (2 FLOPs per multiply-add);
    element-wise ops such as ReLU and pooling are not counted, as in most published tables.
    """
    batch = x.shape[0]
    fwd = _flop_counts(model, x, backward=False).get_total_flops()
    train = _flop_counts(model, x, backward=True).get_total_flops()
    return {"flops_fwd": fwd // batch, "macs_fwd": fwd // (2 * batch), "flops_train": train // batch}


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]  # per sample, no batch dimension
    params: int
    macs: int  # per sample
    connections: int  # the lecture's count: output positions x weights shared over them (conv only)


def layer_summary(model: nn.Module, x: torch.Tensor) -> list[LayerRow]:
    """One row per leaf module in call order, from a forward pass on x (batch of 1 recommended)."""
    shapes: dict[str, tuple[int, ...]] = {}
    order: list[str] = []
    leaves = {n: m for n, m in model.named_modules() if n and not list(m.children())}

    def hook(name: str):
        def fn(_m: nn.Module, _i: object, out: object) -> None:
            if isinstance(out, torch.Tensor) and name not in shapes:
                shapes[name] = tuple(out.shape[1:])
                order.append(name)

        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in leaves.items()]
    counter = FlopCounterMode(display=False)
    was_training = model.training
    model.eval()
    try:
        with counter, torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    per_module = counter.get_flop_counts()
    root = type(model).__name__
    batch = x.shape[0]
    rows = []
    for name in order:
        m = leaves[name]
        params = count_params(m)
        flops = sum(per_module.get(f"{root}.{name}", {}).values())
        out_shape = shapes[name]
        is_conv = isinstance(m, nn.modules.conv._ConvNd)
        positions = int(torch.tensor(out_shape[1:]).prod().item()) if is_conv and len(out_shape) > 1 else 1
        rows.append(
            LayerRow(
                name=name,
                kind=type(m).__name__,
                output_shape=out_shape,
                params=params,
                macs=int(flops // (2 * batch)),
                connections=positions * params if is_conv else params,
            )
        )
    return rows


def format_summary(rows: list[LayerRow], total_params: int) -> str:
    """A fixed-width table of layer rows and the total parameter count."""
    header = f"{'layer':<24}{'type':<18}{'output shape':<18}{'params':>12}{'MACs':>14}{'connections':>14}"
    lines = [header, "-" * len(header)]
    for r in rows:
        shape = "x".join(str(s) for s in r.output_shape)
        lines.append(f"{r.name:<24}{r.kind:<18}{shape:<18}{r.params:>12,}{r.macs:>14,}{r.connections:>14,}")
    lines.append("-" * len(header))
    lines.append(f"total parameters: {total_params:,}   total MACs: {sum(r.macs for r in rows):,}")
    return "\n".join(lines)
