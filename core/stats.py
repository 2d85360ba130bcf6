"""Class counts and what they say about balance.

:func:`class_counts` is the one way dataloupe counts classes: every pane, the command
line and the samplers call it. When a split's targets are known without decoding
(torchvision's ``targets``, a folder listing, a label column) it is one ``bincount``;
otherwise it reads labels in chunks, reporting partial counts as it goes so the
chart can grow while it counts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.progress import check_cancel

IMBALANCE_THRESHOLD = 1.5
"""Largest ÷ smallest class count above which a split counts as unbalanced."""
COUNT_CHUNK = 512
"""Samples decoded between two partial reports when labels must be read one by one."""


@dataclass(frozen=True)
class PartialCounts:
    """Counts so far while labels are being read."""

    counts: tuple[int, ...]
    done: int
    total: int


def class_counts(
    split,
    num_classes: int | None = None,
    on_partial: Callable[[PartialCounts], None] | None = None,
    cancel: threading.Event | None = None,
    chunk: int = COUNT_CHUNK,
) -> np.ndarray:
    """Samples per class (int64, one entry per class) of a :class:`~core.datasets.Split` or any
    ``(sample, label)`` dataset.

    Uses ``split.targets`` when it is known; otherwise decodes samples in chunks of ``chunk``,
    calling ``on_partial`` after each and stopping with :class:`~core.errors.Cancelled` when
    ``cancel`` is set.
    """
    n_classes = num_classes if num_classes is not None else len(getattr(split, "classes", []) or [])
    targets = getattr(split, "targets", None)
    if targets is not None:
        t = np.asarray(targets, dtype=np.int64)
        return np.bincount(t, minlength=n_classes).astype(np.int64)
    total = len(split)
    counts = np.zeros(max(n_classes, 1), dtype=np.int64)
    read = getattr(split, "raw", None) or split.__getitem__  # labels only: skip the transform when we can
    for start in range(0, total, chunk):
        check_cancel(cancel)
        for i in range(start, min(total, start + chunk)):
            label = int(read(i)[1])
            if label >= len(counts):
                counts = np.concatenate([counts, np.zeros(label + 1 - len(counts), np.int64)])
            counts[label] += 1
        if on_partial is not None:
            on_partial(PartialCounts(tuple(int(c) for c in counts), min(total, start + chunk), total))
    return counts


@dataclass(frozen=True)
class BalanceSummary:
    """What a table of class counts says about balance."""

    counts: tuple[int, ...]
    classes: tuple[str, ...]
    total: int
    num_classes: int
    """Classes in the class list (including those with no samples)."""
    largest: int
    """Index of the largest class."""
    smallest: int
    """Index of the smallest class."""
    ratio: float
    """Largest ÷ smallest count (inf when a class has no samples)."""
    majority_accuracy: float
    """Accuracy of always answering the largest class."""
    entropy: float
    """Normalized entropy of the class shares: 1.0 perfectly even, 0.0 a single class."""
    threshold: float
    """The ratio above which :attr:`unbalanced` is set."""

    @property
    def unbalanced(self) -> bool:
        return self.ratio > self.threshold

    def share(self, k: int) -> float:
        return self.counts[k] / self.total if self.total else 0.0

    def majority_sentence(self) -> str:
        """ "always answering 1 scores 11.2%"."""
        return f"always answering {self.classes[self.largest]} scores {self.majority_accuracy:.1%}"

    def warning(self) -> str | None:
        """The danger and the remedies, when the split is unbalanced."""
        if not self.unbalanced:
            return None
        big, small = self.classes[self.largest], self.classes[self.smallest]
        ratio = "∞" if math.isinf(self.ratio) else f"{self.ratio:.1f}"
        return (
            f"Unbalanced: {big} has {ratio}× as many samples as {small} (threshold {self.threshold:g}). "
            f"A model can score {self.majority_accuracy:.1%} by always answering {big} and learn little "
            f"about {small}. Remedies: a class-balanced sampler, oversampling or augmenting {small}, "
            "class weights in the loss, and judging the model by per-class accuracy."
        )


def balance_summary(counts, classes, threshold: float = IMBALANCE_THRESHOLD) -> BalanceSummary:
    """Summarize ``counts`` (one per class in ``classes``)."""
    c = np.asarray(counts, dtype=np.int64)
    names = (
        tuple(classes)
        if len(classes) >= len(c)
        else tuple(classes) + tuple(f"#{i}" for i in range(len(classes), len(c)))
    )
    total = int(c.sum())
    if len(c) == 0 or total == 0:
        return BalanceSummary(tuple(int(v) for v in c), names, 0, len(c), 0, 0, math.nan, 0.0, 0.0, threshold)
    largest, smallest = int(np.argmax(c)), int(np.argmin(c))
    ratio = math.inf if c[smallest] == 0 else float(c[largest] / c[smallest])
    p = c[c > 0] / total
    entropy = float(-(p * np.log(p)).sum() / math.log(len(c))) if len(c) > 1 else 0.0
    return BalanceSummary(
        counts=tuple(int(v) for v in c),
        classes=names,
        total=total,
        num_classes=len(c),
        largest=largest,
        smallest=smallest,
        ratio=ratio,
        majority_accuracy=float(c[largest] / total),
        entropy=entropy,
        threshold=threshold,
    )
