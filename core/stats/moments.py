"""Mean and standard deviation of a split's scaled values, per channel (images) or column (tables).

``Normalize`` needs them, and :func:`dataloupe.core.data.datasets.build_handle` measures them once when a
dataset opens. Memory stays small for any split size: 8-bit images go through one histogram
per channel, other arrays through running sums chunk by chunk, never a float64 copy of the split.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
from dataloupe.core.stats.moments import scaled_moments; h = open_dataset(DatasetSpec('digits')); \
print(scaled_moments(h.splits['train'], h.pipeline))"
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np
import torch

from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import DatasetError

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import SplitData

MOMENT_SAMPLES = 2_000
"""Samples read to estimate mean and std when a split is not held in memory."""
MOMENT_CHUNK = 65_536
"""Samples scaled at a time while measuring mean and std: memory stays small for any split size."""
CHUNK_VALUES = 2**22
"""Values in one chunk at most (32 MB as float64), however large each sample is."""


class _Moments:
    """Running mean and sum of squared deviations per channel (or column), merged chunk by chunk.

    Chan et al.'s pairwise update in float64: one pass, no float64 copy of the whole split.
    """

    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = dims
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.m2: torch.Tensor | None = None

    def add(self, x: torch.Tensor) -> None:
        x = x.to(torch.float64)
        n = x.numel() // math.prod(x.shape[d] for d in range(x.ndim) if d not in self.dims)
        mean = x.mean(dim=self.dims)
        m2 = ((x - mean.view(_keep(x.ndim, self.dims, mean))) ** 2).sum(dim=self.dims)
        if self.mean is None:
            self.count, self.mean, self.m2 = n, mean, m2
            return
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count = total

    def result(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Mean and unbiased standard deviation (as ``torch.std``)."""
        assert self.mean is not None and self.m2 is not None
        std = (self.m2 / max(self.count - 1, 1)).sqrt()
        return tuple(float(v) for v in self.mean), tuple(float(v) for v in std)


def _keep(ndim: int, dims: tuple[int, ...], stat: torch.Tensor) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel statistic back over the reduced dimensions."""
    shape = [1] * ndim
    kept = [d for d in range(ndim) if d not in dims]
    for d, size in zip(kept, stat.shape, strict=True):
        shape[d] = size
    return tuple(shape)


def chunk_rows(sample_values: int, most: int | None = None) -> int:
    """Samples per chunk so that one chunk holds about :data:`CHUNK_VALUES` values (at most ``most``)."""
    most = MOMENT_CHUNK if most is None else most
    return max(1, min(most, CHUNK_VALUES // max(1, sample_values)))


class _Histograms:
    """Per-channel counts of the 256 levels of 8-bit images: exact moments in 256×C numbers."""

    def __init__(self, channels: int) -> None:
        self.counts = torch.zeros(channels, 256, dtype=torch.int64)

    def add(self, x: torch.Tensor) -> None:
        """Count the pixels of one image (C×H×W) or a stack (N×C×H×W) of uint8."""
        channel_dim = x.ndim - 3
        for c in range(self.counts.shape[0]):
            self.counts[c] += torch.bincount(x.select(channel_dim, c).reshape(-1), minlength=256)

    def result(self, scaler: Pipeline) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Mean and unbiased std of the scaled values, per channel."""
        channels = self.counts.shape[0]
        levels = torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1).expand(256, channels, 1, 1)
        value = scaler.batch(levels).to(torch.float64).view(256, channels)  # each stored level, scaled
        means, stds = [], []
        for c in range(channels):
            hist = self.counts[c].to(torch.float64)
            n = float(hist.sum())
            mean = float((hist * value[:, c]).sum() / max(n, 1))
            var = float((hist * (value[:, c] - mean) ** 2).sum() / max(n - 1, 1))
            means.append(mean)
            stds.append(math.sqrt(var))
        return tuple(means), tuple(stds)


def scaled_moments(
    data: SplitData,
    pipeline: Pipeline,
    cancel: threading.Event | None = None,
    limit: int = MOMENT_SAMPLES,
    value_budget: int | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """Mean and std of the scaled values of a split, per channel or column, and how they were measured.

    A split held in memory is measured whole, in chunks; otherwise up to ``limit`` samples are read,
    evenly spread, one at a time, stopping once ``value_budget`` values have been read (large images:
    a few of them are enough, and each costs a decode). 8-bit images go through per-channel histograms (exact, 2 KB).
    """
    scaler = pipeline.with_(mode="scaled", augment=False, resize=None)
    image = pipeline.sample_type == "image"
    dims: tuple[int, ...] = (0,) if not image else (0, 2, 3)
    moments = _Moments(dims)
    histograms = _Histograms(len(pipeline.low)) if image else None
    note = ""
    if data.array is not None:
        array = data.array
        rows = chunk_rows(array[0].numel() if len(array) else 1)
        for start in range(0, len(array), rows):
            chunk = array[start : start + rows]
            if histograms is not None and chunk.dtype == torch.uint8:
                histograms.add(chunk)
            else:
                moments.add(scaler.batch(chunk))
    else:
        n = data.length
        take = np.unique(np.linspace(0, n - 1, min(n, limit)).astype(np.int64))
        read, values = 0, 0
        for i in take:
            if (cancel is not None and cancel.is_set()) or (
                value_budget is not None and values >= value_budget
            ):
                break
            try:
                x = data.read(int(i))[0]
            except DatasetError:  # a class with no readable file: the checklist names it
                continue
            read, values = read + 1, values + x.numel()
            if histograms is not None and x.dtype == torch.uint8:
                histograms.add(x)
            else:
                moments.add(scaler(x)[None])
        if read < n:
            note = f"mean/std estimated from {read:,} of {n:,} training samples"
    if histograms is not None and moments.mean is None and int(histograms.counts.sum()):
        mean, std = histograms.result(scaler)
    elif moments.mean is not None:
        mean, std = moments.result()
    else:
        width = len(pipeline.low)
        mean, std, note = (0.0,) * width, (1.0,) * width, "mean/std unknown: no sample could be read"
    return mean, std, note
