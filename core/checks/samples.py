"""The stored samples the checks look at: a whole split held in memory, or an even sample read one by one.

A split held in memory is read in chunks by each check. A split read sample by sample (an
image folder, a torch Dataset) is read once, and only a digest of each sample is kept
(:class:`SampleDigest`: shape, dtype, a 64-bit hash, NaN/Inf, running value statistics), so
the checks' memory does not grow with the image size. :func:`sample_hashes` gives each sample
a 64-bit hash of its bytes, vectorised over a whole array.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from dataloupe.core.errors import DataloupeError, DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report

if TYPE_CHECKING:  # torch is imported where it is used: `dataloupe check --help` stays quick
    import torch

    from dataloupe.core.data.datasets import Split

SAMPLE_LIMIT = 2_000
"""Samples read from a split that is not held in memory."""
CHUNK = 65_536
"""Samples transformed at once when a whole split is scanned; bounds memory, lets cancel in."""
SLICE_VALUES = 2**18
"""Values converted to float64 at a time inside one chunk (2 MB)."""
CHUNK_VALUES = 2**22
"""Values in one chunk at most (32 MB as float64), however large each sample is."""


@dataclass(frozen=True)
class ValueStats:
    """The range of the values a model sees, over the finite values looked at."""

    low: float
    """Smallest value."""
    high: float
    """Largest value."""
    mean: float
    """Mean of the values."""
    std: float
    """Standard deviation of the values."""
    count: int
    """Finite values looked at."""


class ValueAccumulator:
    """Min, max, sum and sum of squares of finite values, added a chunk at a time (float64 per chunk)."""

    def __init__(self) -> None:
        self.low, self.high, self.total, self.total_sq, self.count = math.inf, -math.inf, 0.0, 0.0, 0

    def add(self, x: torch.Tensor) -> None:
        """Add every finite value of ``x`` (any shape); ``x`` should be one bounded chunk.

        numpy, not torch: on a busy machine torch's thread pool makes many small reductions slow.
        """
        flat = np.asarray(x.detach().cpu().numpy()).reshape(-1)
        for start in range(0, flat.size, SLICE_VALUES):  # small pieces: no large float64 temporaries
            part = flat[start : start + SLICE_VALUES]
            if part.dtype.kind == "f":
                finite = np.isfinite(part)
                if not finite.all():
                    part = part[finite]
            if not part.size:
                continue
            self.low, self.high = min(self.low, float(part.min())), max(self.high, float(part.max()))
            wide = part.astype(np.float64)
            self.total += float(wide.sum())
            self.total_sq += float(np.dot(wide, wide))
            self.count += part.size

    def result(self) -> ValueStats | None:
        """The statistics, or None when no finite value was added."""
        if not self.count:
            return None
        mean = self.total / self.count
        std = math.sqrt(max(self.total_sq / self.count - mean * mean, 0.0))
        return ValueStats(self.low, self.high, mean, std, self.count)


@dataclass(frozen=True)
class SampleDigest:
    """What the checks need of samples read one by one, without keeping the samples."""

    shapes: tuple[tuple[int, ...], ...]
    """Stored shape of each sample read."""
    dtypes: frozenset
    """The stored dtypes met."""
    hashes: np.ndarray
    """uint64 hash of each sample's shape and bytes (see :func:`hash_rows`)."""
    nonfinite: np.ndarray
    """bool: the sample holds NaN or Inf."""
    values: ValueStats | None
    """Value statistics after the split's pipeline (the pipeline the checks see)."""


@dataclass(frozen=True)
class StoredSamples:
    """The stored samples of one split that the checks look at: all of them, or an even sample."""

    split: str
    """Split name."""
    total: int
    """Samples in the split."""
    indices: np.ndarray
    """Which samples were read (every index when the split is held in memory)."""
    array: torch.Tensor | None
    """All stored samples as one tensor, when the split is held in memory."""
    digest: SampleDigest | None = None
    """What was kept of the samples read one by one, when it is not."""
    rows: np.ndarray | None = None
    """Tables: each sample's data row in the file (0 is the first below the header)."""
    origin: str = ""
    """The file the split was read from, when it is one ("winequality-red.csv")."""

    def where(self, indices: list[int], total: int) -> str:
        """Where ``indices``, the first of ``total`` samples found, are: "sample 14", "samples 14, 90",
        "first: samples 14, 90, 97…", or for a table their rows in its file, "wine.csv rows 18, 51,
        counted below the header"."""
        more = "…" if total > len(indices) else ""
        if self.rows is not None and all(0 <= i < len(self.rows) for i in indices):
            rows = sorted(int(self.rows[i]) + 1 for i in indices)
            word = "row" if total == 1 else "rows"
            return f"{self.origin or 'the file'} {word} {', '.join(f'{r:,}' for r in rows)}{more}, counted below the header"
        if total == 1:
            return f"sample {indices[0]:,}"
        return f"{'first: ' if more else ''}samples {', '.join(f'{i:,}' for i in indices)}{more}"

    @property
    def whole(self) -> bool:
        """True when every sample is looked at."""
        return len(self.indices) == self.total

    @property
    def count(self) -> int:
        """Samples looked at."""
        return len(self.indices)

    def note(self) -> str:
        """ "read 2,000 of 60,000 train samples", or "" when every sample was looked at."""
        return "" if self.whole else f"read {self.count:,} of {self.total:,} {self.split} samples"

    def chunks(self, values: int = CHUNK_VALUES) -> Iterator[torch.Tensor]:
        """Slices of the array of about ``values`` values each (nothing when the split is not in memory)."""
        if self.array is None:
            return
        per = self.array[0].numel() if len(self.array) else 1
        rows = max(1, min(CHUNK, values // max(per, 1)))
        for start in range(0, self.total, rows):
            yield self.array[start : start + rows]


def read_stored(
    split: Split,
    limit: int = SAMPLE_LIMIT,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> StoredSamples:
    """The split's stored samples: the whole array when it has one, else up to ``limit`` read evenly,
    each digested (through ``split.pipeline`` for the value statistics) and then let go."""
    import torch

    n = len(split)
    if split.array is not None:
        return StoredSamples(
            split.name, n, np.arange(n), split.array, rows=split.data.rows, origin=split.data.origin
        )
    take = np.unique(np.linspace(0, n - 1, min(n, limit)).astype(np.int64)) if n else np.zeros(0, np.int64)
    shapes, dtypes, hashes, nonfinite = [], set(), np.zeros(len(take), np.uint64), np.zeros(len(take), bool)
    values = ValueAccumulator()
    what = f"reading {split.name} samples"
    for k, i in enumerate(take):
        if k % 64 == 0:
            check_cancel(cancel)
            report(progress, what, k, len(take))
        try:
            x = torch.as_tensor(split.raw(int(i))[0])
        except DataloupeError:
            raise
        except Exception as e:  # noqa: BLE001 - a sample that cannot be read is bad input, not a crash
            raise DatasetError(
                f"{split.name} sample {int(i):,} cannot be read as a tensor: {type(e).__name__}: {e}"
            ) from e
        shapes.append(tuple(x.shape))
        dtypes.add(x.dtype)
        hashes[k] = hash_rows(x[None])[0]
        nonfinite[k] = x.is_floating_point() and not bool(torch.isfinite(x).all())
        if x.dtype != torch.bool and not x.is_complex():
            with contextlib.suppress(Exception):  # the scaled check says so when there are no values
                values.add(split.pipeline(x))
    report(progress, what, len(take), len(take))
    digest = SampleDigest(tuple(shapes), frozenset(dtypes), hashes, nonfinite, values.result())
    return StoredSamples(split.name, n, take, None, digest)


@lru_cache(maxsize=8)
def _keys(words: int) -> np.ndarray:
    """One fixed random odd 64-bit multiplier per 8-byte word of a sample (the same in every run)."""
    return np.random.default_rng(0x5EED).integers(0, 2**63, words, dtype=np.uint64) * np.uint64(
        2
    ) + np.uint64(1)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def hash_rows(rows: torch.Tensor) -> np.ndarray:
    """A 64-bit hash of each sample's shape and bytes (``rows`` is N×…), vectorised over the rows.

    Each sample's bytes, as 8-byte words, are multiplied by fixed random odd keys and summed
    (mod 2⁶⁴), then mixed with the shape. Equal bytes in one shape always hash alike; two
    different samples collide by chance with odds near n²/2⁶⁴ (about 10⁻⁷ for 1.2 million).
    """
    a = np.ascontiguousarray(rows.detach().cpu().numpy())
    n = len(a)
    raw = a.reshape(n, -1).view(np.uint8) if n else np.zeros((0, 0), np.uint8)
    width = raw.shape[1]
    words = -(-width // 8)
    if width % 8:
        padded = np.zeros((n, words * 8), np.uint8)
        padded[:, :width] = raw
        raw = padded
    w = raw.view(np.uint64) if words else np.zeros((n, 0), np.uint64)
    with np.errstate(over="ignore"):
        h = (w * _keys(words)).sum(axis=1, dtype=np.uint64) if words else np.zeros(n, np.uint64)
    shape = np.uint64(hash(tuple(a.shape[1:])) & (2**64 - 1))
    return _mix(h ^ _mix(np.full(n, shape, np.uint64) + np.uint64(width)))


def sample_hashes(
    stored: StoredSamples,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """The 64-bit hash of each sample looked at (uint64), as :func:`hash_rows` computes it."""
    if stored.array is None:
        return stored.digest.hashes if stored.digest is not None else np.zeros(0, np.uint64)
    out = np.empty(stored.total, np.uint64)
    start = 0
    for part in stored.chunks(values=2**21):
        check_cancel(cancel)
        report(progress, f"hashing {stored.split} samples", start, stored.total)
        out[start : start + len(part)] = hash_rows(part)
        start += len(part)
    report(progress, f"hashing {stored.split} samples", start, stored.total)
    return out
