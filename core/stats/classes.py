"""Class counts and what they say about balance.

:func:`class_counts` is the one way dataloupe counts classes: every pane, the command
line and the samplers call it. When a split's targets are known without decoding
(torchvision's ``targets``, a folder listing, a label column) it is one ``bincount``;
otherwise it reads labels in chunks, reporting partial counts as it goes so the
chart can grow while it counts. :func:`split_labels` is the reading half of it, for the
checks that also need the order of the labels (the checklist's "shuffled").

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
from dataloupe.core.stats.classes import class_counts, balance_summary; h = open_dataset(DatasetSpec('digits')); \
print(balance_summary(class_counts(h.split('train')), h.classes).majority_sentence())"
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import check_cancel


def class_name(classes: Sequence[str], label: int) -> str:
    """Name of ``label``: ``classes[label]``, or "#k" for a label past the class list (or negative)."""
    return classes[label] if 0 <= label < len(classes) else f"#{label}"


def class_names(classes: Sequence[str], width: int) -> tuple[str, ...]:
    """``classes`` extended to ``width`` names, "#k" for each label past the list."""
    return tuple(class_name(classes, k) for k in range(max(width, len(classes))))


IMBALANCE_THRESHOLD = 1.5
"""Largest ÷ smallest class count above which a split counts as unbalanced."""
COUNT_CHUNK = 512
"""Samples decoded between two partial reports when labels must be read one by one."""


@dataclass(frozen=True)
class PartialCounts:
    """Counts so far while labels are being read."""

    counts: tuple[int, ...]
    """Samples per class among those read so far."""
    done: int
    """Samples read so far."""
    total: int
    """Samples in the split."""

    @property
    def fraction(self) -> float:
        """Share read, 0..1."""
        return self.done / self.total if self.total else 1.0


def split_labels(
    split,
    num_classes: int | None = None,
    on_partial: Callable[[PartialCounts], None] | None = None,
    cancel: threading.Event | None = None,
    chunk: int = COUNT_CHUNK,
) -> np.ndarray:
    """The int64 label of every sample of ``split``, in order.

    ``split.targets`` when it is known; otherwise samples are decoded in chunks of ``chunk``,
    calling ``on_partial`` with the counts so far after each and stopping with
    :class:`~dataloupe.core.errors.Cancelled` when ``cancel`` is set. A negative label raises
    :class:`~dataloupe.core.errors.DatasetError`: a label must be a class index 0..C-1.
    """
    n_classes = num_classes if num_classes is not None else len(getattr(split, "classes", []) or [])
    targets = getattr(split, "targets", None)
    if targets is not None:
        labels = np.asarray(targets, dtype=np.int64)
        _refuse_negative(labels, 0)
        return labels
    total = len(split)
    labels = np.empty(total, dtype=np.int64)
    counts = np.zeros(max(n_classes, 1), dtype=np.int64)
    read = getattr(split, "raw", None) or split.__getitem__  # labels only: skip the transform when we can
    for start in range(0, total, chunk):
        check_cancel(cancel)
        stop = min(total, start + chunk)
        for i in range(start, stop):
            labels[i] = int(read(i)[1])
        part = labels[start:stop]
        _refuse_negative(part, start)
        found = np.bincount(part, minlength=len(counts))
        if len(found) > len(counts):
            counts = np.concatenate([counts, np.zeros(len(found) - len(counts), np.int64)])
        counts += found
        if on_partial is not None:
            on_partial(PartialCounts(tuple(int(c) for c in counts), stop, total))
    return labels


def _refuse_negative(labels: np.ndarray, offset: int) -> None:
    if labels.size and labels.min() < 0:
        i = int(np.flatnonzero(labels < 0)[0])
        raise DatasetError(
            f"sample {offset + i:,} has label {int(labels[i])}; labels must be class indices 0..C-1. "
            "Map the labels to 0..C-1 (for example with a target_transform) before training."
        )


def class_counts(
    split,
    num_classes: int | None = None,
    on_partial: Callable[[PartialCounts], None] | None = None,
    cancel: threading.Event | None = None,
    chunk: int = COUNT_CHUNK,
) -> np.ndarray:
    """Samples per class (int64, one entry per class) of a :class:`~dataloupe.core.data.datasets.Split` or any
    ``(sample, label)`` dataset.

    Uses ``split.targets`` when it is known (one ``bincount``); otherwise decodes samples in
    chunks of ``chunk``, calling ``on_partial`` after each and stopping with
    :class:`~dataloupe.core.errors.Cancelled` when ``cancel`` is set. A label past the class list
    lengthens the result, so it shows instead of vanishing.
    """
    n_classes = num_classes if num_classes is not None else len(getattr(split, "classes", []) or [])
    labels = split_labels(split, n_classes, on_partial, cancel, chunk)
    return counts_of(labels, n_classes)


def counts_of(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Samples per class of an array of labels already read (int64, at least ``num_classes`` long)."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.int64)


@dataclass(frozen=True)
class BalanceSummary:
    """What a table of class counts says about balance."""

    counts: tuple[int, ...]
    """Samples per class."""
    classes: tuple[str, ...]
    """Class names, one per count ("#10" for a label past the class list)."""
    total: int
    """Samples in all."""
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
        """Largest ÷ smallest is above the threshold."""
        return self.ratio > self.threshold

    def share(self, k: int) -> float:
        """Share of the samples in class ``k``, 0..1."""
        return self.counts[k] / self.total if self.total else 0.0

    def majority_sentence(self) -> str:
        """ "always answering 1 scores 11.2%"."""
        return f"always answering {self.classes[self.largest]} scores {self.majority_accuracy:.1%}"

    @property
    def ratio_text(self) -> str:
        """Largest ÷ smallest written for people: "1.24", "∞", "–" when there is nothing to divide."""
        if math.isnan(self.ratio):
            return "–"
        return "∞" if math.isinf(self.ratio) else f"{self.ratio:.2f}"

    def describe(self) -> str:
        """One line: "10 classes · largest ÷ smallest 1.24 · always answering 1 scores 11.2% · entropy 0.998"."""
        if not self.total:
            return f"{self.num_classes} classes · no samples"
        return (
            f"{self.num_classes} classes · largest ÷ smallest {self.ratio_text} · "
            f"{self.majority_sentence()} · entropy {self.entropy:.3f}"
        )

    def danger(self) -> str:
        """What goes wrong with this split as it is: "high has 24.6× as many samples as low …"."""
        big, small = self.classes[self.largest], self.classes[self.smallest]
        ratio = "∞" if math.isinf(self.ratio) else f"{self.ratio:.1f}"
        return (
            f"{big} has {ratio}× as many samples as {small} (threshold {self.threshold:g}). "
            f"A model can score {self.majority_accuracy:.1%} by always answering {big} and learn little "
            f"about {small}."
        )

    def remedies(self, sentence: bool = True) -> str:
        """What to do about an unbalanced split: a sentence, or (``sentence=False``) a checklist's "fix:" text."""
        small = self.classes[self.smallest]
        text = (
            f"use a class-balanced sampler, oversample or augment {small}, weight the classes in the "
            "loss, and judge the model by per-class accuracy"
        )
        return f"{text[0].upper()}{text[1:]}." if sentence else text

    def warning(self) -> str | None:
        """The danger and the remedies, when the split is unbalanced."""
        if not self.unbalanced:
            return None
        return f"Unbalanced: {self.danger()} {self.remedies()}"


def balance_summary(counts, classes, threshold: float = IMBALANCE_THRESHOLD) -> BalanceSummary:
    """Summarize ``counts`` (one per class in ``classes``)."""
    c = np.asarray(counts, dtype=np.int64)
    if len(c) < len(classes):  # classes with no sample at all still count, as zeros
        c = np.concatenate([c, np.zeros(len(classes) - len(c), np.int64)])
    names = class_names(classes, len(c))
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
