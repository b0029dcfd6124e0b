"""The machine ceiling's cache: a sealed entry (cnnbench.data.cache), measured again when truncated or damaged,
never kept when measured under load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cnnbench.machine import ceiling as ceiling_module

CPU = torch.device("cpu")


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """measure_ceiling replaced by a fixed result; the list's last value says whether a measurement is disturbed,
    and each measurement appends it again (its length counts the measurements)."""
    calls: list[bool] = [False]

    def fake(device: torch.device) -> dict:
        calls.append(calls[-1])
        timing = {"interfered": calls[-1]}
        return {"device": "cpu", "threads": 1, "matmul_fp32": {"gflops": 50.0, "timing": timing},
                "copy": {"gb_per_s": 10.0, "timing": timing}}  # fmt: skip

    monkeypatch.setattr(ceiling_module, "measure_ceiling", fake)
    monkeypatch.setattr(ceiling_module, "_memo", {})
    return calls


def test_the_ceiling_is_measured_once_and_a_damaged_cache_again(
    measured: list[bool], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    first = ceiling_module.ceiling(CPU)
    path = Path(first["cached"])
    assert first["matmul_fp32"]["gflops"] == 50.0 and Path(f"{path}.complete").is_file() and len(measured) == 2
    monkeypatch.setattr(ceiling_module, "_memo", {})
    assert ceiling_module.ceiling(CPU)["cached"] == str(path) and len(measured) == 2  # read from the cache
    for damage in ('{"matmul_fp32": {"gflops": 5', json.dumps({"matmul_fp32": {}, "copy": {"gb_per_s": 1.0}})):
        path.write_text(damage)  # truncated; or whole JSON without the numbers
        if damage.startswith('{"matmul_fp32": {}'):
            Path(f"{path}.complete").unlink()  # as from before markers: read, and refused
        monkeypatch.setattr(ceiling_module, "_memo", {})
        assert ceiling_module.ceiling(CPU)["matmul_fp32"]["gflops"] == 50.0
        assert "cached machine ceiling unusable" in capsys.readouterr().err
    assert len(measured) == 4


def test_a_ceiling_measured_under_load_is_used_once_never_kept(measured: list[bool]) -> None:
    measured[-1] = True
    got = ceiling_module.ceiling(CPU)
    assert got["cached"] is None and got["matmul_fp32"]["gflops"] == 50.0
    assert not ceiling_module._path(CPU).exists() and not Path(f"{ceiling_module._path(CPU)}.complete").exists()
    measured[-1] = False
    kept = ceiling_module.ceiling(CPU, refresh=True)
    assert kept["cached"] == str(ceiling_module._path(CPU)) and Path(f"{kept['cached']}.complete").is_file()
