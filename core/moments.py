"""Mean and standard deviation of a split's scaled values, per channel (images) or column (tables).

``Normalize`` needs them, and :func:`core.datasets.build_handle` measures them once when a
dataset opens. Memory stays small for any split size: 8-bit images go through one histogram
per channel, other arrays through running sums chunk by chunk, never a float64 copy of the split.

    python -c "from core.readers import open_dataset; from core.sources import DatasetSpec; \
from core.moments import scaled_moments; h = open_dataset(DatasetSpec('digits')); \
print(scaled_moments(h.splits['train'], h.pipeline))"
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np
import torch

from core.pipeline import Pipeline

if TYPE_CHECKING:
    from core.datasets import SplitData

MOMENT_SAMPLES = 2_000
"""Samples read to estimate mean and std when a split is not held in memory."""
MOMENT_CHUNK = 4_096
"""Samples scaled at a time while measuring mean and std: memory stays small for any split size."""


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


def _uint8_moments(array: torch.Tensor, scaler: Pipeline) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact mean and std of 8-bit images from a histogram of each channel: one ``bincount`` per
    channel instead of scaling every pixel to float."""
    channels = array.shape[1]
    levels = torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1).expand(256, channels, 1, 1)
    value = scaler.batch(levels).to(torch.float64).view(256, channels)  # each stored level, scaled
    means, stds = [], []
    for c in range(channels):
        hist = torch.bincount(array[:, c].reshape(-1), minlength=256).to(torch.float64)
        n = float(hist.sum())
        mean = float((hist * value[:, c]).sum() / n)
        var = float((hist * (value[:, c] - mean) ** 2).sum() / max(n - 1, 1))
        means.append(mean)
        stds.append(math.sqrt(var))
    return tuple(means), tuple(stds)


def scaled_moments(
    data: SplitData, pipeline: Pipeline, cancel: threading.Event | None = None
) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """Mean and std of the scaled values of a split, per channel or column, and how they were measured."""
    scaler = pipeline.with_(mode="scaled", augment=False)
    dims: tuple[int, ...] = (0,) if pipeline.sample_type == "table" else (0, 2, 3)
    moments = _Moments(dims)
    note = ""
    if data.array is not None and data.array.dtype == torch.uint8 and pipeline.sample_type == "image":
        mean, std = _uint8_moments(data.array, scaler)
        return mean, std, note
    if data.array is not None:
        for start in range(0, len(data.array), MOMENT_CHUNK):
            moments.add(scaler.batch(data.array[start : start + MOMENT_CHUNK]))
    else:
        n = data.length
        take = np.unique(np.linspace(0, n - 1, min(n, MOMENT_SAMPLES)).astype(np.int64))
        samples = []
        for i in take:
            if cancel is not None and cancel.is_set():
                break
            samples.append(scaler(data.read(int(i))[0]))
        shapes = {tuple(s.shape) for s in samples}
        if len(shapes) > 1:  # images of different sizes: pool each channel over every pixel
            x = torch.cat([s.flatten(1) for s in samples], dim=1).T.reshape(-1, samples[0].shape[0], 1, 1)
        else:
            x = torch.stack(samples)
        moments.add(x)
        if len(take) < n:
            note = f"mean/std estimated from {len(take):,} of {n:,} training samples"
    mean, std = moments.result()
    return mean, std, note
