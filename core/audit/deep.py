"""``run_deep``: every sample of every split read once, then the three deep checks on them.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \\
from dataloupe.core.audit import run_deep; r = run_deep(open_dataset(DatasetSpec('digits'))); print([x.evidence for x in r.results])"
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from dataloupe.core.checks.findings import DeepReport
from dataloupe.core.checks.gather import gather_samples
from dataloupe.core.checks.label_noise import ScoredSplit, Scorer, check_label_noise
from dataloupe.core.checks.near_copies import check_near_copies
from dataloupe.core.checks.quality import check_image_quality
from dataloupe.core.progress import ProgressCallback, check_cancel

if TYPE_CHECKING:
    import torch

    from dataloupe.core.checks import ChecklistReport
    from dataloupe.core.data.datasets import DatasetHandle

FOLDS = 5
"""K of the K-fold cross-fitting: each fold model learns from 80% of the samples."""


def crossfit_scorer(
    x: torch.Tensor,
    labels: np.ndarray,
    num_classes: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    folds: int = FOLDS,
) -> np.ndarray:
    """dataloupe's own out-of-sample probabilities: the built-in MLP trained K-fold."""
    from dataloupe.core.training.crossfit import cross_fit

    return cross_fit(x, labels, num_classes, folds=folds, progress=progress, cancel=cancel)


def run_deep(
    handle: DatasetHandle,
    *,
    scorer: Scorer | None = None,
    folds: int = FOLDS,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    scored: ScoredSplit | None = None,
) -> DeepReport:
    """Read every sample of ``handle`` and run the deep checks: label noise, near copies, quality.

    ``scorer`` gives the out-of-sample probabilities (default: :func:`crossfit_scorer` with ``folds``);
    ``scored`` holds a split already scored by the user's own model, which the label check then judges.
    Raises :class:`~dataloupe.core.errors.Cancelled` when ``cancel`` is set.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    samples = gather_samples(handle, progress, cancel)
    timings["reading"], cpu["reading"] = time.perf_counter() - t0, time.process_time() - c0

    def score(x, labels, num_classes, progress, cancel):
        if scorer is not None:
            return scorer(x, labels, num_classes, progress, cancel)
        return crossfit_scorer(x, labels, num_classes, progress, cancel, folds=folds)

    results, findings = [], []
    steps = (
        ("label noise", lambda: check_label_noise(samples, score, folds, progress, cancel, scored)),
        ("near copies", lambda: check_near_copies(samples, progress, cancel)),
        ("quality", lambda: check_image_quality(samples, progress, cancel)),
    )
    for name, step in steps:
        check_cancel(cancel)
        start, start_cpu = time.perf_counter(), time.process_time()
        result, found = step()
        timings[name], cpu[name] = time.perf_counter() - start, time.process_time() - start_cpu
        results.append(result)
        findings.extend(found)
    return DeepReport(tuple(results), tuple(findings), time.perf_counter() - t0, timings, cpu)


def run_checklist_deep(
    handle: DatasetHandle,
    *,
    scorer: Scorer | None = None,
    folds: int = FOLDS,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    scored: ScoredSplit | None = None,
    **checklist,
) -> tuple[ChecklistReport, DeepReport]:
    """The checklist with every sample read (so exact copies are looked for among all of them), then
    the deep checks; the checklist report ends with the deep checks' results. ``checklist`` holds
    :func:`~dataloupe.core.checks.run_checklist`'s options. The app's checklist pane and
    ``dataloupe check --deep`` both call this."""
    from dataclasses import replace

    from dataloupe.core.checks import run_checklist

    every = max((d.length for d in handle.splits.values()), default=1)
    checklist["sample_limit"] = max(checklist.get("sample_limit") or 1, every)
    report = run_checklist(handle, progress=progress, cancel=cancel, **checklist)
    deep = run_deep(handle, scorer=scorer, folds=folds, progress=progress, cancel=cancel, scored=scored)
    combined = replace(report, results=report.results + deep.results, seconds=report.seconds + deep.seconds)
    return combined, deep
