"""The image task: MNIST with the lecture's CNN vs a DNN, CIFAR-10, ImageNet-class kernel timing."""

from __future__ import annotations

import contextlib
import io
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cnnbench.errors import UsageError, reason
from cnnbench.measure.statistics import estimate
from cnnbench.results import claims
from cnnbench.spec import DataRequest, DataSpec, ModelSpec, Profile, Splits, Target, Task
from cnnbench_tasks.image import folders, mnist
from cnnbench_tasks.image.models import DNN, CifarResNet, LectureCNN, torchvision_model

if TYPE_CHECKING:
    from cnnbench.results.record import Record

MNIST_SHAPE = (1, 28, 28)
CIFAR_SHAPE = (3, 32, 32)
IMAGENET_SHAPE = (3, 224, 224)  # Krizhevsky et al. 2012; the input size of VGG, GoogLeNet and ResNet


def _tv(name: str, num_classes: int, _shape: tuple[int, ...]):
    return torchvision_model(name, num_classes)


def _imagenet(name: str, description: str) -> ModelSpec:
    return ModelSpec(
        name=name,
        builder=partial(_tv, name),
        description=description,
        input_shape=IMAGENET_SHAPE,
        num_classes=1000,
        throughput_batch=16,  # small: a training step of VGG-16 at batch 16 takes seconds on 2 cores
        default_dataset=None,  # timing only, unless --dataset imagefolder --data-dir PATH
        datasets=("imagefolder",),
    )


class ImageTask(Task):
    name = "image"
    modality = "image"
    primary_metric = "accuracy"
    # time to target: MNIST 99% (the lecture's CNN reaches it; LeCun et al. 1998 report 99.05% for LeNet-5),
    # CIFAR-10 91.25% (He et al. 2016, Table 6, ResNet-20) and 94% (DAWNBench's CIFAR-10 target)
    targets = (
        Target("mnist", 0.99, "MNIST 99%: LeCun et al. 1998 (LeNet-5 99.05%)"),
        Target("cifar10", 0.9125, "He et al. 2016, Table 6: ResNet-20 91.25%"),
        Target("cifar10", 0.94, "DAWNBench CIFAR-10 target 94%"),
    )
    datasets = {
        "mnist": DataSpec("mnist", "MNIST handwritten digits, 60,000 train + 10,000 test, 28x28 grey"),
        "cifar10": DataSpec("cifar10", "CIFAR-10, 50,000 train + 10,000 test, 32x32 colour, 10 classes"),
        "imagefolder": DataSpec(
            "imagefolder", "any train/<class>/ and test/<class>/ image folder (resized to 224)", True
        ),
    }
    models = {
        "lecture-cnn": ModelSpec(
            "lecture-cnn",
            lambda k, s: LectureCNN(k, s[0], s[1]),
            "lecture: Conv 25@3x3, pool, Conv 50@3x3, pool, Dense 100, Dense 10",
            MNIST_SHAPE,
            default_dataset="mnist",
            datasets=("mnist",),
            # measured: benchmarks/test_channels_last.py (2.4-2.7x forward, 1.3-1.5x per training step on
            # 2 CPU cores) and the channels_last rows of results/README.md; GPUs: no published measurement yet
            channels_last_on=("cpu",),
        ),
        "dnn": ModelSpec(
            "dnn",
            lambda k, s: DNN(k, s[0] * s[1] * s[2]),
            "lecture's fully connected comparison, 784-500-500-10",
            MNIST_SHAPE,
            default_dataset="mnist",
            datasets=("mnist",),
        ),
        "resnet20": ModelSpec(
            "resnet20",
            lambda k, s: CifarResNet(k, n=3),
            "ResNet-20 for 32x32 colour images (He et al. 2016, Sec. 4.2)",
            CIFAR_SHAPE,
            throughput_batch=128,
            default_dataset="cifar10",
            datasets=("cifar10",),
            # He et al. 2016, Sec. 4.2: SGD lr 0.1, momentum 0.9, weight decay 1e-4, batch 128, 64k
            # iterations (~164 epochs; "full"). "default" is 10 epochs with cosine decay (~18 min on 2 cores).
            profile_overrides={
                p: {"optimizer": "sgd", "lr": 0.1, "weight_decay": 1e-4} | ({"epochs": e} if e else {})
                for p, e in (("quick", None), ("default", 10), ("full", 164))
            },
        ),
        "vgg16": _imagenet("vgg16", "VGG-16 (Simonyan & Zisserman 2015), torchvision, random weights"),
        "googlenet": _imagenet("googlenet", "GoogLeNet (Szegedy et al. 2015), torchvision, random weights"),
        "resnet50": _imagenet("resnet50", "ResNet-50 (He et al. 2016), torchvision, random weights"),
        "resnet152": _imagenet("resnet152", "ResNet-152 (He et al. 2016), torchvision, random weights"),
    }
    default_models = ("lecture-cnn", "dnn")
    profiles = {
        # quick: a smoke run: 13 s for lecture-cnn and dnn together (timing included), 88.6% / 90.6%
        # (measured 2026-11-30, 2-core EPYC)
        "quick": Profile(
            epochs=1,
            batch_size=128,
            lr=1e-3,
            train_limit=8000,
            test_limit=2000,
            timing_min_runs=5,
            timing_min_time_s=0.1,
            timing_max_time_s=3.0,
            timing_warmup=1,
        ),
        # default: Keras' mnist_cnn.py uses batch 128 and 12 epochs; Adam (Kingma & Ba 2015) lr 1e-3
        # with cosine decay; 12 epochs reach >= 99.0% test accuracy with the lecture CNN. 3 seeds: s/epoch
        # lecture-cnn 8.3, dnn 2.1 (1 epoch: 97.5% / 96.8%), so ~6.5 min of training for 3 x 12 epochs
        # (measured 2026-11-30, 2-core EPYC; 12 epochs not rerun)
        "default": Profile(epochs=12, batch_size=128, lr=1e-3, seeds=3),
        # full: longer training and longer timing runs for published tables
        "full": Profile(
            epochs=30, batch_size=128, lr=1e-3, timing_min_runs=30, timing_min_time_s=2.0, timing_max_time_s=60.0
        ),
    }

    def load(self, request: DataRequest) -> Splits:
        if request.dataset == "mnist":
            return mnist.load(request.data_dir, request.cache_dir)
        if request.dataset == "cifar10":
            return folders.load_cifar10(request.data_dir or self._cifar_cache(request.cache_dir))
        if request.dataset == "imagefolder":
            assert request.data_dir is not None
            return folders.load_imagefolder(request.data_dir, tuple(request.input_shape[1:]))
        raise UsageError(f"unknown data set {request.dataset!r}")

    def summarize(self, records: list[Record]) -> list[str]:
        """The lecture's claim on MNIST, CNN against DNN over seeds with costs; CIFAR-10 beside its anchor."""
        lines = []
        cnn = claims.pick(records, lambda r: r.model == "lecture-cnn" and r.dataset.name == "mnist")
        if cnn:
            same = (cnn[0].machine_slug, cnn[0].device.type, cnn[0].profile)
            dnn = claims.pick(records, lambda r: r.model == "dnn" and r.dataset.name == "mnist"
                              and (r.machine_slug, r.device.type, r.profile) == same)  # fmt: skip
            if dnn:
                lines.append(
                    claims.judge("MNIST, the lecture's CNN beats the fully connected DNN",
                                 claims.side("lecture-cnn", cnn), claims.side("dnn", dnn))  # fmt: skip
                    + " Anchors: LeCun et al. 1998, LeNet-5 99.05%; a 2-layer 300-unit MLP 95.3% (98.4% with 800 "
                    f"units, Simard et al. 2003). Records: {claims.PICK_RULE}."
                )
        resnet = claims.pick(records, lambda r: r.model == "resnet20" and r.dataset.name == "cifar10")
        if resnet:
            lines.append(
                f"CIFAR-10: resnet20 {estimate([r.score for r in resnet]).text()} [{claims.cost_words(resnet)}], "
                "without data augmentation (He et al. 2016: 91.25% after ~164 epochs with augmentation)."
            )
        return lines

    @staticmethod
    def _cifar_cache(cache_dir: Path) -> Path:
        """The cached python release, downloaded by torchvision when online."""
        folder = cache_dir / "cifar10"
        if not (folder / "cifar-10-batches-py" / "data_batch_1").is_file():
            import torchvision

            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    torchvision.datasets.CIFAR10(root=str(folder), download=True)
            except Exception as e:  # noqa: BLE001 - offline: turned into the user's next step
                raise UsageError(
                    f"CIFAR-10 is not in {folder} and could not be downloaded ({reason(e)}); "
                    "pass --data-dir with the ImageFolder layout, its .tar.gz or the python release"
                ) from None
        return folder
