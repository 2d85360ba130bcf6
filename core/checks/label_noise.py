"""The "label noise" check: samples whose given label is likely wrong, by confident learning on
out-of-sample probabilities.

The probabilities come from a :data:`Scorer`, any function that returns, for every sample, the
probability of each class from a model that never saw that sample. dataloupe's own is K-fold
cross-fitting (``dataloupe.core.training.crossfit``, wired in by ``dataloupe.core.audit``); the data
side never trains anything itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dataloupe.core.checks.findings import Finding
from dataloupe.core.checks.gather import DeepSamples
from dataloupe.core.checks.label_issues import MIN_PER_CLASS_FOLD, find_label_issues
from dataloupe.core.checks.results import CheckResult
from dataloupe.core.progress import ProgressCallback
from dataloupe.core.stats.classes import class_name
from dataloupe.core.wording import plural

if TYPE_CHECKING:
    import torch

Scorer = Callable[
    ["torch.Tensor", np.ndarray, int, ProgressCallback | None, threading.Event | None], np.ndarray
]
"""``scorer(x, labels, num_classes, progress, cancel)`` → N×C out-of-sample probabilities of samples ``x``
(N×…, as stored) with ``labels``."""
NAMED = 5
"""Suspects named in the evidence; every one is in the findings."""


@dataclass(frozen=True)
class ScoredSplit:
    """Out-of-sample probabilities of one split from a model given by the user, in place of cross-fitting:
    a model that never trained on that split scores it."""

    split: str
    """The split scored (its samples in index order)."""
    probs: np.ndarray
    """N×C class probabilities."""
    by: str
    """Who scored them, for the report ("scored by net.py:Net with net.pt")."""


def why_not(samples: DeepSamples, folds: int) -> str | None:
    """Why the label check cannot run on ``samples`` with ``folds`` folds, or None when it can."""
    labels = np.concatenate([s.labels for s in samples.splits.values()])
    counts = np.bincount(labels) if len(labels) else np.zeros(0, np.int64)
    present = np.flatnonzero(counts)
    if len(present) < 2:
        return "it needs at least two classes with samples"
    need = MIN_PER_CLASS_FOLD * folds
    small = [k for k in present if counts[k] < need]
    if small:
        listed = ", ".join(f"{class_name(samples.classes, int(k))} ({int(counts[k]):,})" for k in small[:5])
        return (
            f"it needs at least {MIN_PER_CLASS_FOLD} samples of each class per fold ({need} with {folds} folds), "
            f"and {plural(len(small), 'class', 'classes')} {'has' if len(small) == 1 else 'have'} fewer: {listed}"
        )
    return None


def check_label_noise(
    samples: DeepSamples,
    scorer: Scorer,
    folds: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    scored: ScoredSplit | None = None,
) -> tuple[CheckResult, list[Finding]]:
    """Score every sample of every split out of sample, then name the likely label errors.

    With ``scored`` (probabilities from the user's own model), only that split is judged, by them.
    """
    import torch

    reason = why_not(samples, 1 if scored is not None else folds)
    if scored is not None and reason is None:
        reason = _unscorable(samples, scored)
    if reason:
        return CheckResult(
            "label noise", "warn", f"did not run: {reason}", "add samples of the small classes"
        ), []
    if scored is not None:
        parts = [samples.splits[scored.split]]
        labels = parts[0].labels
        probs = np.asarray(scored.probs, dtype=np.float64)
        how = f"{scored.by}, on the {scored.split} split, which it never trained on, agrees with"
    else:
        parts = list(samples.splits.values())
        x = torch.cat([s.x for s in parts]) if len(parts) > 1 else parts[0].x
        labels = np.concatenate([s.labels for s in parts])
        width = max(len(samples.classes), int(labels.max()) + 1)
        probs = scorer(x, labels, width, progress, cancel)
        how = f"{folds}-fold out-of-sample models agree with"
    issues = find_label_issues(labels, probs)
    split_of = np.concatenate([np.full(len(s), k) for k, s in enumerate(parts)])
    index_of = np.concatenate([np.arange(len(s)) for s in parts])
    findings = []
    for k, i in enumerate(issues.indices):
        predicted = class_name(samples.classes, int(issues.predicted[k]))
        findings.append(
            samples.finding(
                "label noise",
                parts[split_of[i]],
                int(index_of[i]),
                f"looks like {predicted}",
                round(1.0 - float(issues.self_confidence[k]), 4),
                predicted=predicted,
                probability=round(float(issues.predicted_probability[k]), 4),
            )
        )
    accuracy = float((probs.argmax(1) == labels).mean())
    return _result(
        samples, issues, findings, len(labels), f"{how} {accuracy:.1%} of the given labels"
    ), findings


def _unscorable(samples: DeepSamples, scored: ScoredSplit) -> str | None:
    """Why ``scored`` cannot judge ``samples``' labels, or None when it can."""
    if scored.split not in samples.splits:
        return f"the {scored.split} split your model scored was not read"
    n, read = len(scored.probs), len(samples.splits[scored.split])
    if n != read:
        return f"your model scored {n:,} samples of the {scored.split} split, and {read:,} were read"
    return None


def _result(samples: DeepSamples, issues, findings: list[Finding], total: int, how: str) -> CheckResult:
    if not findings:
        return CheckResult("label noise", "pass", f"no likely label errors among {total:,} samples ({how})")
    noisy = np.argsort(-issues.noise_share)[:4]
    shares = ", ".join(
        f"{class_name(samples.classes, int(k))} {issues.noise_share[k]:.1%}"
        for k in noisy
        if issues.noise_share[k] > 0
    )
    confusions = "; ".join(
        f"given {class_name(samples.classes, i)}, looks like {class_name(samples.classes, j)}: {n}"
        for i, j, n in issues.confusions(3)
    )
    named = "; ".join(
        f"{f.place} given {f.label}, looks like {f.predicted} ({f.probability:.2f})" for f in findings[:NAMED]
    )
    return CheckResult(
        "label noise",
        "warn",
        f"{plural(len(findings), 'likely label error')} among {total:,} samples ({len(findings) / total:.1%}; {how}). "
        f"Estimated wrong labels, most in: {shares}. Top confusions: {confusions}. First: {named}",
        "look at them (the app's findings view, or --export suspects.csv), correct the wrong labels and "
        "move the samples to their class",
    )
