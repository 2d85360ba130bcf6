"""The stored samples the checks look at: a whole split held in memory, or an even sample read one by one.

:func:`sample_hashes` gives each sample a 64-bit digest of its bytes, for the duplicate checks.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.errors import DataloupeError, DatasetError
from core.progress import ProgressCallback, check_cancel, report

if TYPE_CHECKING:  # torch is imported where it is used: `dataloupe check --help` stays quick
    import torch

    from core.datasets import Split

SAMPLE_LIMIT = 2_000
"""Samples read from a split that is not held in memory."""
CHUNK = 4_096
"""Samples transformed at once when a whole split is scanned; bounds memory, lets cancel in."""


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
    items: tuple[torch.Tensor, ...]
    """The samples read one by one, when it is not."""

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

    def chunks(self, size: int = CHUNK) -> Iterator[torch.Tensor | list[torch.Tensor]]:
        """The samples in pieces: slices of the array, or lists of items."""
        if self.array is not None:
            for start in range(0, self.total, size):
                yield self.array[start : start + size]
        else:
            for start in range(0, len(self.items), size):
                yield list(self.items[start : start + size])


def read_stored(
    split: Split,
    limit: int = SAMPLE_LIMIT,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> StoredSamples:
    """The split's stored samples: the whole array when it has one, else up to ``limit`` read evenly."""
    import torch

    n = len(split)
    if split.array is not None:
        return StoredSamples(split.name, n, np.arange(n), split.array, ())
    take = np.unique(np.linspace(0, n - 1, min(n, limit)).astype(np.int64)) if n else np.zeros(0, np.int64)
    items = []
    what = f"reading {split.name} samples"
    for k, i in enumerate(take):
        if k % 64 == 0:
            check_cancel(cancel)
            report(progress, what, k, len(take))
        try:
            items.append(torch.as_tensor(split.raw(int(i))[0]))
        except DataloupeError:
            raise
        except Exception as e:  # noqa: BLE001 - a sample that cannot be read is bad input, not a crash
            raise DatasetError(
                f"{split.name} sample {int(i):,} cannot be read as a tensor: {type(e).__name__}: {e}"
            ) from e
    report(progress, what, len(take), len(take))
    return StoredSamples(split.name, n, take, None, tuple(items))


def sample_hashes(stored: StoredSamples) -> np.ndarray:
    """A 64-bit blake2b digest of each sample's stored bytes (uint64, one per sample looked at).

    Two samples hash alike when their bytes are equal; by chance, with odds near n²/2⁶⁵
    (about 10⁻¹⁰ for 70,000 samples), which is why 64 bits are enough.
    """
    if stored.array is not None:
        a = np.ascontiguousarray(stored.array.detach().cpu().numpy())
        rows = a.reshape(len(a), -1).view(np.uint8) if len(a) else a.reshape(0, 0)
        digests = [hashlib.blake2b(row, digest_size=8).digest() for row in rows]
    else:
        digests = []
        for x in stored.items:
            # the shape goes into the digest too: equal bytes in another shape are another sample
            h = hashlib.blake2b(repr(tuple(x.shape)).encode(), digest_size=8)
            h.update(np.ascontiguousarray(x.detach().cpu().numpy()).tobytes())
            digests.append(h.digest())
    return np.frombuffer(b"".join(digests), dtype="<u8").copy()
