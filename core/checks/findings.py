"""What the deep checks name: one :class:`Finding` per sample (or pair of samples), and the report.

Torch-free: the command line writes these as JSON and CSV, the app lists and draws them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from dataloupe.core.checks.results import CheckResult

DEEP_CHECKS = ("label noise", "near copies", "quality")
"""The checks ``--deep`` adds, in the order they are reported."""
EXPORT_COLUMNS = (
    "file_or_index",
    "split",
    "index",
    "check",
    "given_label",
    "predicted_label",
    "score",
    "found",
)
"""The columns of ``--export suspects.csv``."""


@dataclass(frozen=True)
class Finding:
    """One sample a deep check names, and what it found."""

    check: str
    """Which check: one of :data:`DEEP_CHECKS`."""
    split: str
    """The sample's split."""
    index: int
    """The sample's index in its split."""
    label: str
    """Its given label (the class name)."""
    found: str
    """What was found, for a person: "looks like 1", "near copy of train 412", "blank"."""
    score: float
    """How strong the finding is. Label errors: the probability that the given label is wrong
    (1 − its self-confidence). Near duplicates: the Hamming distance of the hashes. Image quality:
    the robust z-score of the property (how many MADs from the dataset's median)."""
    where: str = ""
    """The sample's file (image folders) or row in its table; "" when the index says it."""
    predicted: str | None = None
    """Label errors: the label the sample looks like."""
    probability: float | None = None
    """Label errors: the probability of the predicted label."""
    other_split: str | None = None
    """Near duplicates: the split of the other sample of the pair."""
    other_index: int | None = None
    """Near duplicates: the index of the other sample."""
    other_where: str = ""
    """Near duplicates: the other sample's file or row."""
    prop: str | None = None
    """Image quality: the property ("brightness", "sharpness", …)."""
    value: float | None = None
    """Image quality: the property's value for this sample."""

    @property
    def place(self) -> str:
        """The file, the row, or "train 12"."""
        return self.where or f"{self.split} {self.index:,}"

    def headline(self) -> str:
        """One line: "given 7 · predicted 1 (0.97)", "distance 2 from train 41", "blank (contrast 0.001)"."""
        if self.check == "label noise":
            return f"given {self.label} · predicted {self.predicted} ({self.probability:.2f})"
        if self.check == "near copies":
            return f"{self.found} (distance {self.score:g})"
        return self.found

    def to_json(self) -> dict[str, Any]:
        """Plain values, without the fields a check does not use."""
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


@dataclass(frozen=True)
class DeepReport:
    """What the deep checks found: a result per check and every sample they name."""

    results: tuple[CheckResult, ...]
    """One per check run, in :data:`DEEP_CHECKS` order."""
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    """Every sample named, each check's most suspicious first."""
    seconds: float = 0.0
    """How long the deep checks took."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall seconds per step: reading, label noise, near copies, quality."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds of the process per step (on a shared machine, what the step cost)."""

    def of(self, check: str) -> list[Finding]:
        """The findings of one check."""
        return [f for f in self.findings if f.check == check]

    def to_json(self) -> dict[str, Any]:
        """Findings and timings, for ``--json``."""
        return {
            "findings": [f.to_json() for f in self.findings],
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "cpu": {k: round(v, 3) for k, v in self.cpu.items()},
        }

    def to_csv(self) -> str:
        """Every finding as a CSV row of :data:`EXPORT_COLUMNS`."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for f in self.findings:
            writer.writerow(
                [
                    f.where or str(f.index),
                    f.split,
                    f.index,
                    f.check,
                    f.label,
                    f.predicted or "",
                    f"{f.score:.6g}",
                    f.found,
                ]
            )
        return out.getvalue()
