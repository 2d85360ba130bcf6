"""Every sample of every split, read once for the deep checks, as one small tensor per split.

Images are kept as stored when they are small and of one shape (MNIST's 28×28 uint8 stays
uint8, about the raw size); others are resized, one by one as they are read, to
:data:`THUMB_SIDE` × :data:`THUMB_SIDE`, and their stored shapes kept aside for the size checks.
Tables keep their feature rows. A split held in memory is used as it is, without a copy.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \\
from dataloupe.core.checks.gather import gather_samples; print(gather_samples(open_dataset(DatasetSpec('digits'))).describe())"
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dataloupe.core.checks.findings import Finding
from dataloupe.core.errors import DataloupeError, DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.stats.classes import class_name

if TYPE_CHECKING:
    import torch

    from dataloupe.core.data.datasets import DatasetHandle, Split

THUMB_SIDE = 32
"""Images larger than :data:`KEEP_SIDE`, or of another shape than the first, are resized to this square."""
KEEP_SIDE = 64
"""Images up to this side, all of one shape, are kept as stored."""


@dataclass(frozen=True)
class SplitSamples:
    """Every sample of one split, as the deep checks read them."""

    name: str
    """"train" or "test"."""
    x: torch.Tensor
    """N×C×H×W images (as stored, or resized thumbnails) or N×F table rows."""
    labels: np.ndarray
    """int64 label of each sample."""
    shapes: np.ndarray | None = None
    """Images: N×3 stored (channels, height, width) of each sample, before any resize."""
    paths: list[str] | None = None
    """Image folders: each sample's file."""
    rows: np.ndarray | None = None
    """Tables: each sample's data row in its file (0 is the first below the header)."""
    root: str = ""
    """The folder the paths are written from."""

    def __len__(self) -> int:
        return len(self.labels)

    def where(self, index: int) -> str:
        """Where sample ``index`` is for the user: its file, its table row, or "" (the index says it)."""
        if self.paths is not None and 0 <= index < len(self.paths):
            return os.path.relpath(self.paths[index], self.root) if self.root else self.paths[index]
        if self.rows is not None and 0 <= index < len(self.rows):
            return f"row {int(self.rows[index]) + 1:,}"
        return ""


@dataclass(frozen=True)
class DeepSamples:
    """Every split's samples, for the deep checks."""

    kind: str
    """"image" or "table"."""
    splits: dict[str, SplitSamples]
    """By split name, train first."""
    classes: tuple[str, ...]
    """Class names."""
    scale: float
    """The stored value that means full brightness (255 for uint8 images, else the largest value)."""
    resized: bool
    """True when the images were resized to thumbnails (they differ in shape or are large)."""

    @property
    def total(self) -> int:
        """Samples in every split."""
        return sum(len(s) for s in self.splits.values())

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Of each sample of the splits joined in order (train first): the number of its split in
        :attr:`splits`, and its index within that split."""
        parts = list(self.splits.values())
        split_of = np.concatenate([np.full(len(s), k) for k, s in enumerate(parts)])
        index_of = np.concatenate([np.arange(len(s)) for s in parts])
        return split_of, index_of

    def finding(self, check: str, s: SplitSamples, index: int, found: str, score: float, **more) -> Finding:
        """What ``check`` found about sample ``index`` of ``s``, with its split, label and file filled in
        (``more``: the check's own fields of :class:`Finding`)."""
        label = class_name(self.classes, int(s.labels[index]))
        return Finding(check, s.name, index, label, found, score, where=s.where(index), **more)

    def describe(self) -> str:
        """ "train 8,000 and test 2,000 samples, 1×28×28 as stored"."""
        sizes = " and ".join(f"{n} {len(s):,}" for n, s in self.splits.items())
        first = next(iter(self.splits.values()))
        shape = "×".join(str(d) for d in first.x.shape[1:])
        how = f"resized to {shape}" if self.resized else f"{shape} as stored"
        return f"{sizes} samples, {how}"


def gather_samples(
    handle: DatasetHandle,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DeepSamples:
    """Read every sample of every split of ``handle`` (stored values, before the pipeline)."""
    import torch

    kind = handle.pipeline.sample_type
    splits: dict[str, SplitSamples] = {}
    target: tuple[int, ...] | None = None
    resized = False
    scale = 0.0
    for name in handle.split_names:
        split = handle.split(name)
        files = split.data.files
        paths = list(files.paths) if files is not None else None
        root = files.root if files is not None else ""
        if split.array is not None and split.targets is not None:
            x = split.array
            if kind == "image" and x.dim() == 3:
                x = x[:, None]
            shapes = None
            if kind == "image":
                shapes = np.tile(np.array(x.shape[1:], np.int64), (len(x), 1))
                if max(x.shape[-2:]) > KEEP_SIDE:
                    x = _resize_chunks(x, (THUMB_SIDE, THUMB_SIDE), cancel)
                    resized = True
            target = target or tuple(x.shape[1:])
            splits[name] = SplitSamples(
                name, x, np.asarray(split.targets, np.int64), shapes, paths, split.data.rows, root
            )
        else:
            x, labels, shapes, target, was_resized = _read_one_by_one(split, kind, target, progress, cancel)
            resized = resized or was_resized
            splits[name] = SplitSamples(name, x, labels, shapes, paths, split.data.rows, root)
        x = splits[name].x
        if len(x):
            scale = max(scale, 255.0 if x.dtype == torch.uint8 else float(x.float().abs().max()))
    if kind == "image":  # one shape for every split, so that they can be compared and pooled
        shape = next(iter(splits.values())).x.shape[1:]
        for name, s in splits.items():
            if s.x.shape[1:] != shape:
                splits[name] = SplitSamples(
                    name, _fit(s.x, tuple(shape)), s.labels, s.shapes, s.paths, s.rows, s.root
                )
                resized = True
    return DeepSamples(kind, splits, tuple(handle.classes), scale or 1.0, resized)


def _read_one_by_one(
    split: Split,
    kind: str,
    target: tuple[int, ...] | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
):
    """Every sample of a split not held in memory, read through ``split.raw``; images fitted to ``target``."""
    import torch

    n = len(split)
    xs, labels, shapes = [], np.zeros(n, np.int64), np.zeros((n, 3), np.int64)
    resized = False
    what = f"reading every {split.name} sample"
    for i in range(n):
        if i % 64 == 0:
            check_cancel(cancel)
            report(progress, what, i, n)
        try:
            x, label = split.raw(i)
            x = torch.as_tensor(x)
        except DataloupeError:
            raise
        except Exception as e:  # noqa: BLE001 - a sample that cannot be read is bad input, not a crash
            raise DatasetError(f"{split.name} sample {i:,} cannot be read: {type(e).__name__}: {e}") from e
        labels[i] = int(label)
        if kind == "image":
            if x.dim() == 2:
                x = x[None]
            shapes[i] = x.shape[-3:] if x.dim() == 3 else (0, 0, 0)
            if target is None:
                c, h, w = x.shape
                target = (c, h, w) if max(h, w) <= KEEP_SIDE else (c, THUMB_SIDE, THUMB_SIDE)
            if tuple(x.shape) != target:
                x = _fit(x[None], target)[0]
                resized = True
        xs.append(x)
    report(progress, what, n, n)
    if not xs:
        empty = torch.zeros((0, *(target or (1,))), dtype=torch.float32)
        return empty, labels, shapes if kind == "image" else None, target, resized
    out = torch.stack([x.to(xs[0].dtype) for x in xs])
    return out, labels, shapes if kind == "image" else None, target or tuple(out.shape[1:]), resized


def _fit(x: torch.Tensor, target: tuple[int, ...]) -> torch.Tensor:
    """Images N×C×H×W in the channels and size of ``target`` (C, H, W), in their own dtype."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    c = target[0]
    if x.shape[1] != c:
        if x.shape[1] == 1:
            x = x.expand(-1, c, -1, -1)
        elif c == 1:
            x = x.float().mean(1, keepdim=True).to(x.dtype)
        else:
            x = x[:, :c] if x.shape[1] > c else x[:, :1].expand(-1, c, -1, -1)
    if tuple(x.shape[-2:]) != tuple(target[1:]):
        resized = F.interpolate(x.float(), size=target[1:], mode="bilinear", antialias=True)
        x = resized.round().clamp(0, 255).to(torch.uint8) if x.dtype == torch.uint8 else resized.to(x.dtype)
    return x.contiguous()


def _resize_chunks(x: torch.Tensor, size: tuple[int, int], cancel: threading.Event | None) -> torch.Tensor:
    """Large images held in memory resized a chunk at a time."""
    import torch

    parts = []
    for start in range(0, len(x), 256):
        check_cancel(cancel)
        parts.append(_fit(x[start : start + 256], (x.shape[1], *size)))
    return torch.cat(parts) if parts else x
