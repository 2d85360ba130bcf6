"""Mean and standard deviation of a split's scaled values, per channel (images) or column (tables).

``Normalize`` needs them, and :func:`dataloupe.core.data.datasets.build_handle` measures them once when a
dataset opens, after the resize that training applies (a resize smooths pixels, and so lowers the std).
Memory stays small for any split size: 8-bit images go through one histogram per channel, other
arrays through running sums chunk by chunk, never a float64 copy of the split.

A split read sample by sample is measured whole when that is cheap (at most ``limit`` samples and
``value_budget`` stored values), else from a uniform random sample of it: folders list their
samples class by class, so the first ones read, or a budget spent in index order, would all come
from the first classes. An estimate comes with its standard error (:class:`MomentEstimate`).

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
from dataloupe.core.stats.moments import scaled_moments; h = open_dataset(DatasetSpec('digits')); \
print(scaled_moments(h.splits['train'], h.pipeline))"
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import DatasetError

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import SplitData

MOMENT_SAMPLES = 2_000
"""Samples read to estimate mean and std when a split is not held in memory."""
MIN_MOMENT_SAMPLES = 64
"""Samples read at least (when the split has them), however large each one is: fewer would leave
the estimate's standard error too large to be of use."""
MOMENT_SEED = 0
"""Seed of the random sample: the same dataset gets the same mean and std at every open."""
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


@dataclass(frozen=True)
class MomentEstimate:
    """Per-channel (or per-column) mean and std of a split's scaled values, and how sure they are."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    mean_error: tuple[float, ...]
    """Standard error of each mean (0 when every sample was read)."""
    std_error: tuple[float, ...]
    """Standard error of each std (0 when every sample was read)."""
    read: int
    """Samples measured."""
    total: int
    """Samples in the split."""

    @property
    def whole(self) -> bool:
        """Every sample was measured: the figures are exact."""
        return self.read >= self.total

    def note(self) -> str:
        """What the screen says about the estimate ("" when it is exact)."""
        if self.whole:
            return ""
        if not self.read:
            return "mean/std unknown: no sample could be read"
        return (
            f"mean/std estimated from {self.read:,} of {self.total:,} training samples, drawn at random "
            f"(standard error: mean ±{max(self.mean_error):.4f}, std ±{max(self.std_error):.4f})"
        )


class _PerSample:
    """Each sample's pixel count and per-channel mean and mean square: the standard errors' inputs."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        self.dims = dims
        self.weights: list[float] = []
        self.means: list[torch.Tensor] = []
        self.squares: list[torch.Tensor] = []

    def add(self, x: torch.Tensor) -> None:
        """One scaled sample, batched (1×C×H×W or 1×F)."""
        x = x.to(torch.float64)
        self.weights.append(
            x.numel() / max(1, math.prod(x.shape[d] for d in range(x.ndim) if d not in self.dims))
        )
        self.means.append(x.mean(dim=self.dims))
        self.squares.append((x * x).mean(dim=self.dims))

    def errors(self, total: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Standard errors of the pooled mean and std, the samples being a random draw from ``total``.

        A sample's pixels are not independent draws (neighbours look alike), so the unit is the
        sample: the ratio estimator's linearised variance over samples, weighted by their pixel
        counts, with the finite-population correction (0 when every sample was read).
        """
        n = len(self.weights)
        if n < 2:
            return (math.inf,), (math.inf,)
        w = torch.tensor(self.weights, dtype=torch.float64)[:, None]
        m = torch.stack(self.means)
        q = torch.stack(self.squares)
        total_w = w.sum()
        mean = (w * m).sum(0) / total_w
        square = (w * q).sum(0) / total_w
        std = (square - mean**2).clamp_min(1e-24).sqrt()
        fpc = max(0.0, 1.0 - n / max(total, n))
        scale = n / (n - 1) * fpc / total_w**2

        def error(residual: torch.Tensor) -> tuple[float, ...]:
            return tuple(float(v) for v in ((residual**2).sum(0) * scale).sqrt())

        mean_error = error(w * (m - mean))
        std_error = error(w * ((q - square) - 2 * mean * (m - mean)) / (2 * std))
        return mean_error, std_error


def estimate_moments(
    data: SplitData,
    pipeline: Pipeline,
    cancel: threading.Event | None = None,
    limit: int = MOMENT_SAMPLES,
    value_budget: int | None = None,
) -> MomentEstimate:
    """Mean and std of the scaled (and resized) values of a split, per channel or column.

    A split held in memory is measured whole, in chunks. Otherwise the whole split is read when it
    has at most ``limit`` samples and ``value_budget`` stored values; else a uniform random sample of
    it, one sample at a time, until ``limit`` samples or ``value_budget`` values (large images: each
    costs a decode), but at least :data:`MIN_MOMENT_SAMPLES`.
    """
    scaler = pipeline.with_(mode="scaled", augment=False)
    image = pipeline.sample_type == "image"
    dims: tuple[int, ...] = (0,) if not image else (0, 2, 3)
    width = len(pipeline.low)
    if data.array is not None:
        mean, std = _whole_array(data.array, scaler, dims, image, width)
        zero = (0.0,) * len(mean)
        return MomentEstimate(mean, std, zero, zero, len(data.array), len(data.array))
    n = data.length
    order = np.random.default_rng(MOMENT_SEED).permutation(n)
    moments, per_sample = _Moments(dims), _PerSample(dims)
    read = values = 0
    for i in order[: max(limit, MIN_MOMENT_SAMPLES)]:
        if cancel is not None and cancel.is_set():
            break
        if read >= MIN_MOMENT_SAMPLES and (
            read >= limit or (value_budget is not None and values >= value_budget)
        ):
            break
        try:
            x = data.read(int(i))[0]
        except DatasetError:  # a class with no readable file: the checklist names it
            continue
        read, values = read + 1, values + x.numel()
        y = scaler(x)[None]
        moments.add(y)
        per_sample.add(y)
    if moments.mean is None:
        return MomentEstimate((0.0,) * width, (1.0,) * width, (math.inf,) * width, (math.inf,) * width, 0, n)
    mean, std = moments.result()
    if read >= n:
        zero = (0.0,) * len(mean)
        return MomentEstimate(mean, std, zero, zero, read, n)
    mean_error, std_error = per_sample.errors(n)
    return MomentEstimate(mean, std, mean_error, std_error, read, n)


def _whole_array(
    array: torch.Tensor, scaler: Pipeline, dims: tuple[int, ...], image: bool, width: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact moments of a split held in memory, chunk by chunk (8-bit images by histogram)."""
    moments = _Moments(dims)
    histograms = _Histograms(width) if image else None
    resized = scaler.resize is not None and image
    rows = chunk_rows(array[0].numel() if len(array) else 1)
    for start in range(0, len(array), rows):
        chunk = array[start : start + rows]
        if histograms is not None and chunk.dtype == torch.uint8:
            histograms.add(scaler.resized(chunk) if resized else chunk)
        else:
            moments.add(scaler.batch(chunk))
    if histograms is not None and moments.mean is None and int(histograms.counts.sum()):
        return histograms.result(scaler.with_(resize=None))
    if moments.mean is not None:
        return moments.result()
    return (0.0,) * width, (1.0,) * width


def scaled_moments(
    data: SplitData,
    pipeline: Pipeline,
    cancel: threading.Event | None = None,
    limit: int = MOMENT_SAMPLES,
    value_budget: int | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """Mean, std and what the screen says about them (:func:`estimate_moments`)."""
    estimate = estimate_moments(data, pipeline, cancel, limit, value_budget)
    return estimate.mean, estimate.std, estimate.note()
