"""What the checklist answers: a verdict per check, the class counts of each split, and the report.

Torch-free, so the app and ``dataloupe check --help`` can read the names and verdicts early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dataloupe.core.stats.classes import BalanceSummary

Verdict = Literal["pass", "warn", "fail"]
VERDICTS: tuple[Verdict, ...] = ("pass", "warn", "fail")
"""Verdicts from best to worst."""
SYMBOLS: dict[str, str] = {"pass": "✓", "warn": "⚠", "fail": "✗"}
"""How each verdict is drawn."""

CHECKS = (
    "readable",
    "numeric",
    "split",
    "shuffled",
    "scaled",
    "balanced",
    "finite",
    "shapes",
    "class sizes",
    "test labels",
)
"""Every check, in the order it is reported."""
SAMPLE_LIMIT = 2_000
"""Samples read from a split that is not held in memory."""
MIN_CLASS_SAMPLES = 10
"""A class with fewer training samples than this is too small to learn or to judge."""


@dataclass(frozen=True)
class CheckResult:
    """One answered question."""

    name: str
    """Which check: one of :data:`CHECKS`."""
    verdict: Verdict
    """pass, warn or fail."""
    evidence: str
    """What was measured, in a sentence."""
    fix: str | None = None
    """What to do about a warning or a failure; None when nothing needs doing."""

    @property
    def symbol(self) -> str:
        """✓, ⚠ or ✗."""
        return SYMBOLS[self.verdict]


@dataclass(frozen=True)
class SplitCounts:
    """The class counts of one split and what they say about balance."""

    name: str
    """"train" or "test"."""
    counts: tuple[int, ...]
    """Samples per class."""
    summary: BalanceSummary
    """Ratio, majority accuracy, entropy."""

    @property
    def total(self) -> int:
        """Samples in the split."""
        return sum(self.counts)


@dataclass(frozen=True)
class ChecklistReport:
    """Everything :func:`run_checklist` found: counts per split and every check's result."""

    dataset: str
    """The dataset's display name."""
    classes: tuple[str, ...]
    """Class names (extended with "#k" for labels past the class list)."""
    transform: str
    """The transform the checks saw, as the tutorials would write it."""
    mode: str
    """raw, scaled or normalized."""
    splits: tuple[SplitCounts, ...]
    """Class counts of each split, train first."""
    results: tuple[CheckResult, ...]
    """One result per check, in :data:`CHECKS` order."""
    threshold: float
    """Largest ÷ smallest above which a split is unbalanced."""
    seconds: float
    """How long the checklist took."""

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of any check."""
        return max((r.verdict for r in self.results), key=VERDICTS.index, default="pass")

    def result(self, name: str) -> CheckResult:
        """The result of check ``name``."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def split(self, name: str) -> SplitCounts:
        """The counts of split ``name``."""
        for s in self.splits:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def total_counts(self) -> tuple[int, ...]:
        """Samples per class over every split."""
        width = max((len(s.counts) for s in self.splits), default=0)
        return tuple(sum(s.counts[k] for s in self.splits if k < len(s.counts)) for k in range(width))

    def exit_code(self, strict: bool = False) -> int:
        """0 when nothing fails; 1 with ``strict`` when something warns; 2 when a check fails."""
        if self.verdict == "fail":
            return 2
        if strict and self.verdict == "warn":
            return 1
        return 0
