"""Decode throughput of cnnbench's streamed image reader against a plain torchvision DataLoader(ImageFolder),
on the CIFAR-10 JPEG test split: the same files on disk, the same shuffled order, batch size and worker count,
interleaved (cnnbench.measure.interleave) so a shared machine's drift hits both alike.

Both deliver uint8 batches (torchvision: PILToTensor and the default collate; cnnbench: decode_jpeg on a
list per batch). The throughput ratio cnnbench/torchvision and its bootstrap interval are printed and kept
in extra_info, and written as a result JSON for `cnnbench publish` when CNNBENCH_BENCH_OUT names a folder.
Skipped without the archive; with --benchmark-disable (make test) it reads 1,024 images twice, to stay quick.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnbench.data.stream import StreamedInputs
from cnnbench.measure.interleave import interleaved_ratio

CIFAR_JPEG = Path(os.environ.get("CNNBENCH_CIFAR_JPEG", "/work/shared/data/cifar10/cifar10-jpeg.tar.gz"))
BATCH = 256
WORKERS = min(4, os.cpu_count() or 1)


@pytest.fixture(scope="module")
def test_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive's test/ split as files (it comes first in the archive: the read stops at train/)."""
    if not CIFAR_JPEG.is_file():
        pytest.skip(f"{CIFAR_JPEG} absent")
    root = tmp_path_factory.mktemp("cifar10-jpeg")
    with tarfile.open(CIFAR_JPEG) as tar:
        for m in tar:
            parts = Path(m.name).parts
            if parts and parts[0] == ".":
                parts = parts[1:]
            if parts and parts[0] == "train":
                break
            if m.isfile() and len(parts) == 3 and parts[0] == "test":
                (root / parts[1]).mkdir(exist_ok=True)
                f = tar.extractfile(m)
                assert f is not None
                (root / parts[1] / parts[2]).write_bytes(f.read())
    return root


def test_streamed_reader_against_torchvision_imagefolder(benchmark, test_folder: Path) -> None:
    import torchvision
    from torchvision.transforms import PILToTensor

    from cnnbench_tasks.image.decode import ImageReader

    quick = benchmark.disabled
    tv_set = torchvision.datasets.ImageFolder(str(test_folder), transform=PILToTensor())
    n = 1024 if quick else len(tv_set)
    order = torch.randperm(len(tv_set), generator=torch.Generator().manual_seed(0))[:n].tolist()
    batches = [np.array(order[i : i + BATCH]) for i in range(0, n, BATCH)]
    names = np.array([path for path, _ in tv_set.samples], dtype=str)  # the same files, in the same order
    ours = StreamedInputs(ImageReader(names, (32, 32)), np.arange(len(names)), workers=WORKERS)
    loader = torch.utils.data.DataLoader(tv_set, batch_size=BATCH, sampler=order, num_workers=WORKERS)

    def torchvision_epoch() -> None:
        for _ in loader:
            pass

    def cnnbench_epoch() -> None:
        for _ in ours.batches(batches):
            pass

    got = next(iter(ours.batches(batches[:1])))
    want = next(iter(loader))[0]
    assert torch.equal(got, want)  # the same pixels, batch for batch

    def compare():
        return interleaved_ratio(torchvision_epoch, cnnbench_epoch, rounds=2 if quick else 8, reps=1, warmup=1)

    benchmark.group = "image/decode throughput"
    r = benchmark.pedantic(compare, rounds=1, iterations=1)
    speed = 1 / r.ratio  # images/s of cnnbench over torchvision's
    result = {
        "images": n, "batch": BATCH, "workers": WORKERS, "torchvision_images_per_s": n / r.a_median_ms * 1e3,
        "cnnbench_images_per_s": n / r.b_median_ms * 1e3, "throughput_ratio": speed,
        "throughput_ratio_ci": [1 / r.ci_high, 1 / r.ci_low], "confidence": r.confidence, "rounds": r.rounds,
    }  # fmt: skip
    benchmark.extra_info.update(result)
    print(
        f"\ndecode: torchvision DataLoader(ImageFolder) {result['torchvision_images_per_s']:.0f} images/s, "
        f"cnnbench stream {result['cnnbench_images_per_s']:.0f} images/s ({WORKERS} workers, batch {BATCH}); "
        f"throughput ratio {speed:.2f} (95% CI {1 / r.ci_high:.2f}-{1 / r.ci_low:.2f}, {r.rounds} rounds)"
    )
    if not quick and os.environ.get("CNNBENCH_BENCH_OUT"):
        from cnnbench.results.bench import write_bench

        write_bench(Path(os.environ["CNNBENCH_BENCH_OUT"]), "image-decode-throughput",
                    "images/s of cnnbench's streamed JPEG reader over torchvision DataLoader(ImageFolder), "
                    "CIFAR-10 test split", "throughput_ratio", result)  # fmt: skip
