"""`cnnbench explain`: what a trained CNN learned, as titled PNG grids (filters, maximisation, saliency,
occlusion)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnbench.errors import UsageError, check_range
from cnnbench.explain.dream import dream
from cnnbench.explain.grid import save_grid
from cnnbench.explain.layers import OUTPUT, activation, find_layer
from cnnbench.explain.maximize import Settings, maximize
from cnnbench.explain.render import Renderer, Samples
from cnnbench.explain.render import picture as _picture
from cnnbench.explain.style import transfer
from cnnbench.io import check_writable_folder
from cnnbench.registry import get_task
from cnnbench.run import checkpoint
from cnnbench.run.evaluate import checkpoint_data
from cnnbench.run.plan import MAX_SEED
from cnnbench.spec import TensorData

METHODS = ("filters", "maximize", "saliency", "occlusion", "dream", "style")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("method", choices=METHODS)
    p.add_argument("--checkpoint", type=Path, help="from `cnnbench run ... --save PATH` (style: the feature extractor)")
    p.add_argument("--image", type=Path, help="dream: the image to dream on")
    p.add_argument("--content", type=Path, help="style: the content image")
    p.add_argument("--style", type=Path, help="style: the style image")
    p.add_argument("--vgg16-weights", type=Path, help="style: torchvision VGG-16 weights file as the feature extractor")
    p.add_argument("--octaves", type=int, default=1, help="dream: scales to dream at (1.4x apart)")
    p.add_argument("--layer", default="conv1", help="layer name (see `cnnbench summary`) or 'output'")
    p.add_argument("--units", default="0-11", help="units (feature maps, neurons): 0-11, 0,3,5 or all")
    p.add_argument("--output-class", help="maximise class scores instead of a layer: a list like --units, or all")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--l1", type=float, default=0.0, help="L1 penalty on the pixels")
    p.add_argument("--tv", type=float, default=0.0, help="total-variation penalty")
    p.add_argument("--nonneg", action="store_true", help="no pixel below the background (no negative ink)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--index", default="0-8", help="test samples: 0-8, 0,5 (saliency, occlusion)")
    p.add_argument("--patch", type=int, default=6, help="occlusion patch side")
    p.add_argument("--stride", type=int, default=2, help="occlusion stride")
    p.add_argument("--data-dir", type=Path, help="folder of the checkpoint's data set, when it needs one")
    p.add_argument("--out", type=Path, default=Path("explain"), help="output folder (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true")


# bounds of the numbers a user gives `explain`: beyond them a request is refused in one line, before any work
MAX_STEPS = 100_000
MAX_OCTAVES = 8  # each octave is 1.4x smaller: the eighth works on a 1/10 copy
MAX_LR = 1e3
MAX_PENALTY = 1e6


def check_arguments(args: argparse.Namespace) -> None:
    """The numbers, the input files and the output folder, checked before any work (the patch and stride
    need the model's input, see check_input_fits)."""
    check_range(args.steps, 1, MAX_STEPS, "--steps")
    check_range(args.octaves, 1, MAX_OCTAVES, "--octaves")
    check_range(args.lr, 1e-9, MAX_LR, "--lr")
    check_range(args.l1, 0.0, MAX_PENALTY, "--l1")
    check_range(args.tv, 0.0, MAX_PENALTY, "--tv")
    check_range(args.seed, 0, MAX_SEED, "--seed")
    check_range(args.patch, 1, 2**31, "--patch")
    check_range(args.stride, 1, 2**31, "--stride")
    for flag in ("--checkpoint", "--image", "--content", "--style", "--vgg16-weights"):
        path = getattr(args, flag[2:].replace("-", "_"))
        if path is not None and not path.is_file():
            raise UsageError(f"{flag} {path}: no such file")
        if path is not None and path.stat().st_size == 0:
            raise UsageError(f"{flag} {path}: an empty file")
    check_writable_folder(args.out, f"--out {args.out}")


def check_input_fits(args: argparse.Namespace, input_shape: tuple[int, ...]) -> None:
    """Occlusion needs an image input at least as large as its patch."""
    if args.method != "occlusion":
        return
    if len(input_shape) != 3:
        raise UsageError(f"occlusion needs an image model; this one takes inputs of shape {input_shape}")
    side = min(input_shape[1:])
    check_range(args.patch, 1, side, f"--patch (the input is {input_shape[1]}x{input_shape[2]})")
    check_range(args.stride, 1, max(input_shape[1:]), f"--stride (the input is {input_shape[1]}x{input_shape[2]})")


def parse_list(text: str, size: int) -> list[int]:
    """'all', '3', '0-11' or '0,4,7' -> indices below size."""
    try:
        if text == "all":
            out = list(range(size))
        elif "-" in text and "," not in text:
            a, b = (int(t) for t in text.split("-"))
            out = list(range(a, b + 1))
        else:
            out = [int(t) for t in text.split(",")]
    except ValueError:
        raise UsageError(f"{text!r} is not a list like 0-11, 0,3,5 or all") from None
    bad = [i for i in out if not 0 <= i < size]
    if bad or not out:
        raise UsageError(f"{text!r}: indices must lie in 0..{size - 1}")
    return out


def _test_data(ck: checkpoint.Checkpoint, data_dir: Path | None) -> TensorData:
    """The test split of the checkpoint's training run, prepared as the model saw it."""
    return checkpoint_data(ck, data_dir=data_dir)[0]


def _filters(model: nn.Module, layer: str, out: Path, stem: str) -> list[Path]:
    conv = find_layer(model, layer)
    if conv is None or not hasattr(conv, "weight") or conv.weight.dim() < 3:
        raise UsageError(f"layer {layer!r} has no convolution filters to draw")
    w = conv.weight.detach()
    pics = [_picture(f if f.shape[0] == 3 else f.mean(0)) for f in w]
    titles = [f"{layer} filter {i}" for i in range(len(w))]
    return [save_grid(pics, titles, out / f"{stem}_{layer}_filters.png", cmap="bwr")]


def load_image(path: Path, shape: tuple[int, ...]) -> torch.Tensor:
    """An image file as a (C, H, W) input of the given shape, standardised to mean 0 and std 1 (the
    models see normalised inputs)."""
    from PIL import Image, UnidentifiedImageError

    channels, h, w = shape
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB").resize((w, h))
            a = np.asarray(img, dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError) as e:
        raise UsageError(f"{path}: not a readable image ({e})") from None
    x = torch.from_numpy(a).reshape(h, w, -1).permute(2, 0, 1)
    return (x - x.mean()) / (x.std() + 1e-6)


def _style(args: argparse.Namespace) -> list[Path]:
    if args.content is None or args.style is None:
        raise UsageError("style needs --content PATH and --style PATH")
    if args.checkpoint is not None:
        ck = checkpoint.load(args.checkpoint)
        extractor, shape, named = ck.build(), ck.input_shape, f"the trained {ck.task}/{ck.model} ({args.checkpoint})"
    elif args.vgg16_weights is not None:
        import torchvision

        extractor = torchvision.models.vgg16()
        try:
            extractor.load_state_dict(torch.load(args.vgg16_weights, map_location="cpu", weights_only=True))
        except Exception as e:  # noqa: BLE001 - any unreadable or mismatched file: one clear line
            raise UsageError(f"{args.vgg16_weights}: not VGG-16 weights ({str(e).splitlines()[0]})") from None
        extractor, shape, named = extractor.features, (3, 224, 224), f"VGG-16 ({args.vgg16_weights})"
    else:
        raise UsageError("style needs a feature extractor: --checkpoint of a trained CNN (e.g. resnet20 on "
                         "cifar10) or --vgg16-weights PATH (no pretrained weights can be downloaded here)")  # fmt: skip
    if len(shape) != 3:
        raise UsageError(f"style needs an image model; this one takes inputs of shape {shape}")
    content, style = load_image(args.content, shape), load_image(args.style, shape)
    r = transfer(extractor, content, style, steps=args.steps, lr=args.lr / 5, progress=not args.no_progress)
    print(f"feature extractor: {named}")
    print(f"style loss {r.style_losses[0]:.4g} -> {r.style_losses[-1]:.4g}, "
          f"content loss {r.content_losses[0]:.4g} -> {r.content_losses[-1]:.4g}")  # fmt: skip
    titles = ["content", "style", f"result ({args.steps} steps)\nextractor: {named[:40]}"]
    return [save_grid([_picture(content), _picture(style), _picture(r.image)], titles, args.out / "style.png")]


def main(args: argparse.Namespace) -> int:
    check_arguments(args)
    if args.method == "style":
        for p in _style(args):
            print(f"wrote {p}")
        return 0
    if args.checkpoint is None:
        raise UsageError(f"{args.method} needs --checkpoint PATH")
    ck = checkpoint.load(args.checkpoint)
    check_input_fits(args, ck.input_shape)
    model = ck.build()
    stem = re.sub(r"[^\w.-]+", "-", f"{ck.task}-{ck.model}")  # a factory's package.module:function too
    progress = not args.no_progress
    written: list[Path] = []
    if args.method == "dream":
        if args.image is None:
            raise UsageError("dream needs --image PATH")
        find_layer(model, args.layer)
        x = load_image(args.image, ck.input_shape)
        result, before, after = dream(model, x, args.layer, args.steps, args.lr, args.octaves, progress=progress)
        titles = ["input", f"dream on {args.layer}\n0.5 sum a^2: {before:.3g} -> {after:.3g}"]
        written = [save_grid([_picture(x), _picture(result)], titles, args.out / f"{stem}_dream_{args.layer}.png")]
    elif args.method == "filters":
        written = _filters(model, args.layer, args.out, stem)
    elif args.method == "maximize":
        layer = OUTPUT if args.output_class else args.layer
        with torch.no_grad():
            probe = activation(model, layer, torch.zeros(1, *ck.input_shape))
        units = parse_list(args.output_class or args.units, probe.shape[1])
        settings = Settings(args.steps, args.lr, args.l1, args.tv, args.nonneg, seed=args.seed)
        pics, titles = [], []
        for u in units:
            r = maximize(model, layer, u, ck.input_shape, settings, progress)
            with torch.no_grad():
                p = model(r.image[None]).softmax(1)[0]
            pics.append(_picture(r.image))
            what = f"class {u}, p={p[u]:.2f}" if layer == OUTPUT else f"{layer}[{u}], top class {int(p.argmax())}"
            titles.append(f"{what}\na {r.start:.2g} -> {r.end:.3g}")
        tag = "classes" if layer == OUTPUT else layer
        extra = "_l1" if args.l1 else ""
        extra += "_nonneg" if args.nonneg else ""
        written = [save_grid(pics, titles, args.out / f"{stem}_maximize_{tag}{extra}.png")]
    else:
        data = _test_data(ck, args.data_dir)
        idx = parse_list(args.index, len(data))
        x, y = data.x[idx], data.y[idx]
        with torch.no_grad():
            probs = model(x).softmax(1)
        samples = Samples(model, x, y, probs, idx, ck.context)
        renderer = get_task(ck.task).renderer() or Renderer()  # the task's own view of its inputs, or images
        if args.method == "saliency":
            written = [renderer.saliency(samples, args.out, stem)]
        else:
            written = [renderer.occlusion(samples, args.patch, args.stride, args.out, stem)]
    for p in written:
        print(f"wrote {p}")
    return 0
