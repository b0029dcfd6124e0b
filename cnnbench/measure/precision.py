"""Speed options of a run that keep the model's function: mixed precision, channels_last, torch.compile."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass

import torch
from torch import nn

from cnnbench.errors import UsageError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    amp: str | None = None  # None (fp32), "bf16" or "fp16" autocast
    channels_last: bool = False  # NHWC memory layout for 4-D inputs and conv weights
    compile: bool = False  # torch.compile (inductor), one graph per input shape (dynamic=False)

    def check(self, device: torch.device, input_shape: tuple[int, ...]) -> None:
        """One clear line for a combination that cannot run."""
        if self.amp is not None and self.amp not in AMP_DTYPES:
            raise UsageError(f"--amp {self.amp}: valid: {', '.join(AMP_DTYPES)}")
        if self.amp == "fp16" and device.type != "cuda":
            raise UsageError("--amp fp16 needs a CUDA device (fp16 autocast with a grad scaler); use --amp bf16 on CPU")
        if self.channels_last and len(input_shape) != 3:
            raise UsageError(f"--channels-last needs image-like samples (C, H, W); this model takes {input_shape}")
        if self.compile and device.type == "cpu" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
            raise UsageError("--compile on the CPU needs a C++ compiler (g++, c++ or clang++) on PATH")

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=AMP_DTYPES[self.amp])

    def model(self, model: nn.Module) -> nn.Module:
        """The model in this layout, compiled in place when asked (see ``compiled``)."""
        return self.compiled(self.layout(model))

    def layout(self, model: nn.Module) -> nn.Module:
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def compiled(self, model: nn.Module) -> nn.Module:
        """Compile in place when asked; the state_dict keys stay the same.

        A model may name the parts worth compiling with ``compile_targets()`` (e.g. a wrapper whose
        forward draws a random symmetry compiles only its network; a whole-model graph would be
        specialised on every draw).
        """
        if self.compile:
            # one graph per (batch shape, grad mode): a run needs more than Dynamo's default limit of 8,
            # past which it would silently fall back to eager
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
            targets = model.compile_targets() if hasattr(model, "compile_targets") else [model]
            for part in targets:
                part.compile(dynamic=False)
        return model

    def input(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        return torch.amp.GradScaler(device.type) if self.amp == "fp16" else None

    def as_dict(self) -> dict:
        return {"amp": self.amp, "channels_last": self.channels_last, "compile": self.compile}


FP32 = Precision()  # the plain run: fp32, default layout
