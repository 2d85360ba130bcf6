"""One batch as the loader delivered it, and :class:`BatchSummary`, what is shown about it (torch-free)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dataloupe.core.stats.classes import class_name
from dataloupe.core.wording import plural

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class BatchSummary:
    """Everything shown about one batch: an immutable value that can cross threads."""

    epoch: int
    """Pass over the loader, from 1."""
    index: int
    """Batch within the epoch, from 0 (as ``enumerate(loader)`` counts)."""
    batches: int
    """Batches in an epoch (``len(loader)``)."""
    batch_size: int
    """The setting; the last batch may hold fewer."""
    indices: tuple[int, ...]
    """Dataset indices of the samples, in batch order."""
    labels: tuple[int, ...]
    """The batch's labels (y), in batch order."""
    classes: tuple[str, ...]
    """Class names; label ``k`` is ``classes[k]``."""
    x_shape: tuple[int, ...]
    """X's shape: (10, 1, 28, 28)."""
    x_dtype: str
    """"torch.float32"."""
    y_shape: tuple[int, ...]
    """y's shape: (10,)."""
    y_dtype: str
    """"torch.int64"."""
    x_min: float
    """Smallest finite value of X."""
    x_max: float
    """Largest finite value of X."""
    x_mean: float
    """Mean of X's finite values."""
    x_std: float
    """Standard deviation (unbiased, as ``torch.std``) of X's finite values."""
    nonfinite: int
    """Values of X that are NaN or infinite (left out of the statistics)."""
    histogram: tuple[int, ...]
    """Samples of each class in this batch."""
    epoch_counts: tuple[int, ...]
    """Samples of each class drawn this epoch so far (batches 0..index, or the batches seen)."""
    epoch_batches: int
    """Batches counted in ``epoch_counts``."""
    dataset_counts: tuple[int, ...] | None
    """Samples of each class in the split (``dataloupe.core.stats.classes.class_counts``); None when the labels are unknown."""
    sampler: str
    """The sampler in use: sequential, random or balanced."""
    pipeline: str
    """The transform in use, as ``Pipeline.describe()`` writes it."""

    @property
    def size(self) -> int:
        """Samples in this batch."""
        return len(self.labels)

    @property
    def is_last(self) -> bool:
        """The last batch of the epoch."""
        return self.index == self.batches - 1

    @property
    def is_last_smaller(self) -> bool:
        """The last batch of an epoch holds fewer than ``batch_size`` samples (drop_last off)."""
        return self.size < self.batch_size

    @property
    def x_shape_text(self) -> str:
        """ "torch.Size([10, 1, 28, 28])", as ``print(x.shape)`` writes it."""
        return f"torch.Size({list(self.x_shape)})"

    @property
    def y_shape_text(self) -> str:
        """ "torch.Size([10])"."""
        return f"torch.Size({list(self.y_shape)})"

    def class_name(self, label: int) -> str:
        """Name of ``label``, or "#k" outside the class list."""
        return class_name(self.classes, label)

    def legend(self) -> str:
        """ "0 low (≤ 4.5) · 1 high (> 4.5)" when class names are not just the label numbers (≤ 12 classes)."""
        if all(name == str(k) for k, name in enumerate(self.classes)) or len(self.classes) > 12:
            return ""
        return " · ".join(f"{k} {name}" for k, name in enumerate(self.classes))

    def position_text(self) -> str:
        """ "epoch 2 · batch 143 of 144 (last, 8 samples: smaller)"."""
        text = f"epoch {self.epoch} · batch {self.index:,} of {self.batches:,}"
        if self.is_last_smaller:
            text += f" · last batch: {self.size} samples, smaller than {self.batch_size}"
        elif self.is_last:
            text += " · last batch"
        return text

    def stats_text(self) -> str:
        """ "min 0 · max 1 · mean 0.3046 · std 0.4102"."""
        text = f"min {self.x_min:.4g} · max {self.x_max:.4g} · mean {self.x_mean:.4g} · std {self.x_std:.4g}"
        if self.nonfinite:
            text += f" · {self.nonfinite:,} NaN/inf values left out"
        return text

    def count_rows(self) -> list[tuple[str, int, float, float | None]]:
        """(class, in this batch, share of this epoch so far, share of the split) for each class."""
        seen = sum(self.epoch_counts) or 1
        total = sum(self.dataset_counts) if self.dataset_counts else 0
        rows = []
        for k in range(len(self.histogram)):
            data_share = self.dataset_counts[k] / total if self.dataset_counts and total else None
            rows.append((self.class_name(k), self.histogram[k], self.epoch_counts[k] / seen, data_share))
        return rows

    def text(self) -> str:
        """The summary as plain lines (the command line prints this)."""
        histogram = "  ".join(f"{k}:{count}" for k, count in enumerate(self.histogram) if count)
        lines = [
            self.position_text(),
            f"  X  {self.x_shape_text}  {self.x_dtype}",
            f"  y  {self.y_shape_text}  {self.y_dtype}",
            f"  X  {self.stats_text()}",
            f"  labels     {' '.join(str(y) for y in self.labels)}",
            f"  histogram  {histogram}",
        ]
        legend = self.legend()
        if legend:
            lines.append(f"  classes    {legend}")
        return "\n".join(lines)

    def counts_text(self) -> str:
        """The classes drawn this epoch so far beside the split's own shares, as a small table."""
        width = max([len("class"), *(len(c) for c in self.classes)])
        seen = sum(self.epoch_counts)
        lines = [
            f"class counts over {plural(self.epoch_batches, 'batch', 'batches')} of epoch {self.epoch} "
            f"({plural(seen, 'sample')}) beside the split:",
            f"  {'class':<{width}}  {'epoch':>6}  {'share':>6}  {'split':>6}",
        ]
        for k, (name, _, share, data_share) in enumerate(self.count_rows()):
            data = f"{data_share:6.1%}" if data_share is not None else "     ?"
            lines.append(f"  {name:<{width}}  {self.epoch_counts[k]:>6,}  {share:6.1%}  {data}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: one line of ``dataloupe batches --json``."""
        return {
            "epoch": self.epoch,
            "batch": self.index,
            "batches": self.batches,
            "size": self.size,
            "batch_size": self.batch_size,
            "last_smaller": self.is_last_smaller,
            "sampler": self.sampler,
            "pipeline": self.pipeline,
            "X": {
                "shape": list(self.x_shape),
                "dtype": self.x_dtype,
                "min": _json_float(self.x_min),
                "max": _json_float(self.x_max),
                "mean": _json_float(self.x_mean),
                "std": _json_float(self.x_std),
                "nonfinite": self.nonfinite,
            },
            "y": {"shape": list(self.y_shape), "dtype": self.y_dtype},
            "labels": list(self.labels),
            "indices": list(self.indices),
            "classes": list(self.classes),
            "histogram": list(self.histogram),
            "epoch_counts": list(self.epoch_counts),
            "dataset_counts": list(self.dataset_counts) if self.dataset_counts is not None else None,
        }


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Batch:
    """One batch as the loader delivered it, with its summary."""

    x: torch.Tensor
    """The samples, stacked: B×C×H×W for images, B×F for tables."""
    y: torch.Tensor
    """The labels, int64."""
    summary: BatchSummary
    """What is shown about it."""
