"""What a model's class probabilities say about it: accuracy, per-class precision, recall and F1, the
confusion matrix, the pairs it confuses most, its worst mistakes and its calibration.

:func:`model_report` takes each sample's probabilities, loss and label (numpy, torch-free) and returns
one frozen :class:`ModelReport`, which the command line prints or writes as JSON and the app shows.
Calibration is the expected calibration error over equal-width confidence bins (Guo et al., 2017, "On
Calibration of Modern Neural Networks"): the bins' gap between accuracy and mean confidence, weighted
by their share of the samples.

    python -c "import numpy as np; from dataloupe.core.training.metrics import model_report; \\
p = np.array([[.9, .1], [.2, .8], [.6, .4]]); print(model_report(p, -np.log(p[[0, 1, 2], [0, 1, 1]]), \\
np.array([0, 1, 1]), ['a', 'b']).summary())"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OUTPUT_KINDS = ("logits", "probs", "log_probs")
"""What a model's outputs may be; ``--outputs`` picks one, otherwise it is detected."""
CALIBRATION_BINS = 15
"""Equal-width confidence bins for the expected calibration error (Guo et al. use 15)."""
CONFUSED_PAIRS = 10
"""Most confused (true, predicted) pairs kept in a report."""
MISTAKES_SHOWN = 20
"""Worst mistakes in the printed report and the JSON unless asked for more."""


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall and F1 of one class; None where nothing was predicted or present."""

    name: str
    precision: float | None
    """Of the samples predicted as this class, the share that are."""
    recall: float | None
    """Of the samples of this class, the share predicted as it."""
    f1: float | None
    support: int
    """Samples of this class."""


@dataclass(frozen=True)
class Mistake:
    """One sample the model got wrong."""

    index: int
    """Its index in the split evaluated."""
    where: str
    """Its file or table row, when the dataset has them; else ""."""
    label: int
    """The label it is given."""
    predicted: int
    confidence: float
    """The probability the model gave its prediction."""
    loss: float
    """Cross-entropy of the given label."""


@dataclass(frozen=True)
class ReliabilityBin:
    """Samples whose confidence fell in ``(low, high]``, and how often they were right."""

    low: float
    high: float
    count: int
    confidence: float | None
    """Mean confidence in the bin; None when it is empty."""
    accuracy: float | None


@dataclass(frozen=True)
class ModelReport:
    """How a model does on one split, everything the command line and the app show."""

    classes: tuple[str, ...]
    samples: int
    accuracy: float
    loss: float
    """Mean cross-entropy of the given labels."""
    per_class: tuple[ClassMetrics, ...]
    confusion: tuple[tuple[int, ...], ...]
    """``confusion[true][predicted]`` sample counts."""
    confused_pairs: tuple[tuple[int, int, int], ...]
    """(true, predicted, count), most frequent first, off the diagonal only."""
    mistakes: tuple[Mistake, ...]
    """Every wrong prediction, highest loss first."""
    ece: float
    """Expected calibration error, 0..1."""
    bins: tuple[ReliabilityBin, ...]
    outputs: str = "logits"
    """What the model's outputs were taken as (one of :data:`OUTPUT_KINDS`)."""
    notes: tuple[str, ...] = field(default=())
    """What the user should know: how the outputs were read, a stripped key prefix."""

    def name(self, k: int) -> str:
        """Class ``k``'s name."""
        return self.classes[k] if 0 <= k < len(self.classes) else str(k)

    def pair_text(self, true: int, predicted: int, count: int) -> str:
        """ "true 4 → predicted 9: 15"."""
        return f"true {self.name(true)} → predicted {self.name(predicted)}: {count:,}"

    def mistakes_in(self, true: int | None = None, predicted: int | None = None) -> tuple[Mistake, ...]:
        """The mistakes of one cell of the confusion matrix (or one row or column), highest loss first."""
        return tuple(
            m
            for m in self.mistakes
            if (true is None or m.label == true) and (predicted is None or m.predicted == predicted)
        )

    def summary(self) -> str:
        """One line: "accuracy 97.8% on 10,000 samples, loss 0.0712, ECE 1.2%"."""
        return (
            f"accuracy {self.accuracy:.1%} on {self.samples:,} samples, loss {self.loss:.4f}, "
            f"ECE {self.ece:.1%}"
        )

    def to_json(self, mistakes: int = MISTAKES_SHOWN) -> dict[str, Any]:
        """Everything as plain values; the ``mistakes`` worst mistakes."""
        return {
            "samples": self.samples,
            "accuracy": self.accuracy,
            "loss": self.loss,
            "outputs": self.outputs,
            "classes": list(self.classes),
            "per_class": [
                {
                    "class": c.name,
                    "precision": c.precision,
                    "recall": c.recall,
                    "f1": c.f1,
                    "support": c.support,
                }
                for c in self.per_class
            ],
            "confusion": [list(row) for row in self.confusion],
            "confused_pairs": [
                {"true": self.name(t), "predicted": self.name(p), "count": n}
                for t, p, n in self.confused_pairs
            ],
            "mistakes": [
                {
                    "index": m.index,
                    "where": m.where or None,
                    "label": self.name(m.label),
                    "predicted": self.name(m.predicted),
                    "confidence": m.confidence,
                    "loss": m.loss,
                }
                for m in self.mistakes[:mistakes]
            ],
            "mistakes_total": len(self.mistakes),
            "calibration": {
                "ece": self.ece,
                "bins": [
                    {
                        "low": b.low,
                        "high": b.high,
                        "count": b.count,
                        "confidence": b.confidence,
                        "accuracy": b.accuracy,
                    }
                    for b in self.bins
                ],
            },
            "notes": list(self.notes),
        }


def _ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS):
    """The expected calibration error and its reliability bins (equal width over (0, 1])."""
    n = len(confidence)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=bins)
    right = np.bincount(which, weights=correct.astype(np.float64), minlength=bins)
    out = []
    ece = 0.0
    for b in range(bins):
        c = int(counts[b])
        mean_conf = conf_sum[b] / c if c else None
        acc = right[b] / c if c else None
        if c:
            ece += c / n * abs(acc - mean_conf)
        out.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), c, mean_conf, acc))
    return float(ece), tuple(out)


def model_report(
    probs: np.ndarray,
    losses: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    *,
    where: Callable[[int], str] | None = None,
    outputs: str = "logits",
    notes: Sequence[str] = (),
) -> ModelReport:
    """The report for N samples' class probabilities (N×C), cross-entropy losses (N) and labels (N).

    ``where(i)`` names sample ``i``'s file or row for the mistakes.
    """
    n, c = probs.shape
    labels = np.asarray(labels, dtype=np.int64)
    predicted = probs.argmax(axis=1) if n else np.zeros(0, np.int64)
    confidence = probs[np.arange(n), predicted].astype(np.float64) if n else np.zeros(0)
    k = max(c, len(classes))
    confusion = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)
    correct = predicted == labels
    support = confusion.sum(axis=1)
    predicted_count = confusion.sum(axis=0)
    per_class = []
    for j in range(k):
        tp = int(confusion[j, j])
        precision = _ratio(tp, predicted_count[j])
        recall = _ratio(tp, support[j])
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else (0.0 if precision is not None and recall is not None else None)
        )
        name = classes[j] if j < len(classes) else str(j)
        per_class.append(ClassMetrics(name, precision, recall, f1, int(support[j])))
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:CONFUSED_PAIRS]
    pairs = tuple((int(i // k), int(i % k), int(off.flat[i])) for i in flat if off.flat[i] > 0)
    wrong = np.flatnonzero(~correct)
    wrong = wrong[np.argsort(-losses[wrong], kind="stable")]
    mistakes = tuple(
        Mistake(
            index=int(i),
            where=where(int(i)) if where is not None else "",
            label=int(labels[i]),
            predicted=int(predicted[i]),
            confidence=float(confidence[i]),
            loss=float(losses[i]),
        )
        for i in wrong
    )
    ece, bins = calibration(confidence, correct)
    return ModelReport(
        classes=tuple(str(x) for x in classes) + tuple(str(j) for j in range(len(classes), k)),
        samples=n,
        accuracy=float(correct.mean()) if n else 0.0,
        loss=float(losses.mean()) if n else float("nan"),
        per_class=tuple(per_class),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        confused_pairs=pairs,
        mistakes=mistakes,
        ece=ece,
        bins=bins,
        outputs=outputs,
        notes=tuple(notes),
    )
