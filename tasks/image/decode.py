"""Decoding image files into uint8 CHW tensors: JPEG with torchvision.io.decode_jpeg (libjpeg-turbo, batched),
everything else, and any image that needs resizing, with PIL. The in-memory and the streamed paths of an
image folder both decode with ImageReader, so they see the same pixels."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.io import ImageReadMode, decode_jpeg

from cnnbench.errors import UsageError, reason

JPEG_MAGIC = b"\xff\xd8\xff"
# torchvision 0.29 warns on every decode that TorchCodec will take its decoders over; they work, and are tested here
warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision",
                        category=DeprecationWarning)  # fmt: skip


def _pil(data: bytes, where: str) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        return img.convert("RGB")
    except UnidentifiedImageError:  # its message names the BytesIO, not the file
        raise UsageError(f"{where}: not a readable image (not an image format PIL knows, or corrupt)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise UsageError(f"{where}: not a readable image ({reason(e)})") from None


def _fit(img: Image.Image, size: tuple[int, int]) -> torch.Tensor:
    """(3, H, W) uint8 at `size`: ImageNet-style evaluation transform (shorter side to 256/224 of the target,
    centre crop) when the image is not that size already."""
    if img.size != (size[1], size[0]):
        scale = max(size) * 256 / 224 / min(img.size)
        img = img.resize((max(size[1], round(img.width * scale)), max(size[0], round(img.height * scale))))
        left, top = (img.width - size[1]) // 2, (img.height - size[0]) // 2
        img = img.crop((left, top, left + size[1], top + size[0]))
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1)


def _jpeg(data: bytes, where: str) -> torch.Tensor:
    try:
        return decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=ImageReadMode.RGB)
    except RuntimeError as e:
        raise UsageError(f"{where}: not a readable JPEG image ({reason(e)})") from None


def decode_batch(datas: list[bytes], wheres: list[str], size: tuple[int, int]) -> torch.Tensor:
    """(len(datas), 3, H, W) uint8: the images decoded and brought to `size`; a bad one raises one line naming it."""
    out = torch.empty(len(datas), 3, *size, dtype=torch.uint8)
    jpegs = [i for i, d in enumerate(datas) if d[:3] == JPEG_MAGIC]
    decoded: list[torch.Tensor] = []
    if jpegs:
        try:  # one call for the batch: libjpeg-turbo without per-image Python
            decoded = decode_jpeg([torch.frombuffer(bytearray(datas[i]), dtype=torch.uint8) for i in jpegs],
                                  mode=ImageReadMode.RGB)  # fmt: skip
        except RuntimeError:  # find the bad one, to name it
            decoded = [_jpeg(datas[i], wheres[i]) for i in jpegs]
    for i, img in zip(jpegs, decoded, strict=True):
        if tuple(img.shape[1:]) == size:
            out[i] = img
        else:  # resized as PIL resizes, so that every image of a folder goes through the same transform
            out[i] = _fit(Image.fromarray(img.permute(1, 2, 0).numpy()), size)
    done = set(jpegs)
    for i, data in enumerate(datas):
        if i not in done:
            out[i] = _fit(_pil(data, wheres[i]), size)
    return out


class ImageReader:
    """Reads images by position from their files, or from a pack (the encoded images of an archive, end to end);
    picklable, for the worker processes of a stream (each opens the pack itself)."""

    def __init__(self, names: np.ndarray, size: tuple[int, int], pack: Path | None = None,
                 offsets: np.ndarray | None = None, lengths: np.ndarray | None = None) -> None:  # fmt: skip
        self.names, self.size, self.pack, self.offsets, self.lengths = names, size, pack, offsets, lengths
        self.sample_shape = (3, *size)
        self._fd: tuple[int, int] | None = None  # (pid, fd): a descriptor is not shared across a fork

    def __len__(self) -> int:
        return len(self.names)

    def __getstate__(self) -> dict:
        return self.__dict__ | {"_fd": None}

    def _bytes(self, pos: int) -> bytes:
        where = str(self.names[pos])
        if self.pack is None:
            try:
                return Path(where).read_bytes()
            except OSError as e:
                raise UsageError(f"{where}: cannot read ({reason(e)})") from None
        if self._fd is None or self._fd[0] != os.getpid():
            self._fd = (os.getpid(), os.open(self.pack, os.O_RDONLY))
        assert self.offsets is not None and self.lengths is not None
        data = os.pread(self._fd[1], int(self.lengths[pos]), int(self.offsets[pos]))
        if len(data) != self.lengths[pos]:
            raise UsageError(f"{self.pack}: cached image pack truncated at {where}; remove it to rebuild")
        return data

    def read(self, positions: np.ndarray) -> torch.Tensor:
        datas = [self._bytes(int(p)) for p in positions]
        return decode_batch(datas, [str(self.names[int(p)]) for p in positions], self.size)
