"""Running the checklist: gather the facts once, answer every check, collect the report."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from dataloupe.core.checks.facts import Facts
from dataloupe.core.checks.files import check_readable
from dataloupe.core.checks.labels import (
    check_balanced,
    check_class_sizes,
    check_numeric,
    check_shuffled,
    check_split,
    check_test_labels,
)
from dataloupe.core.checks.results import MIN_CLASS_SAMPLES, ChecklistReport, CheckResult, SplitCounts
from dataloupe.core.checks.samples import SAMPLE_LIMIT, StoredSamples, read_stored
from dataloupe.core.checks.values import check_finite, check_scaled, check_shapes
from dataloupe.core.errors import Cancelled, DataloupeError, DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.stats.classes import (
    IMBALANCE_THRESHOLD,
    balance_summary,
    class_names,
    counts_of,
    split_labels,
)

if TYPE_CHECKING:
    import numpy as np

    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.data.pipeline import Pipeline


def run_checklist(
    handle: DatasetHandle,
    *,
    loader_shuffles: bool | None = None,
    pipeline: Pipeline | None = None,
    sample_limit: int = SAMPLE_LIMIT,
    threshold: float = IMBALANCE_THRESHOLD,
    min_class_samples: int = MIN_CLASS_SAMPLES,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ChecklistReport:
    """Run every check on ``handle`` as ``pipeline`` (default: the handle's own) shows it.

    ``loader_shuffles`` says whether the training DataLoader shuffles, when the caller knows.
    Raises :class:`~dataloupe.core.errors.Cancelled` when ``cancel`` is set, and
    :class:`~dataloupe.core.errors.DataloupeError` when the labels cannot be read at all.
    """
    t0 = time.perf_counter()
    loader_facts = None
    if handle.loader is not None:  # the user's own DataLoader says itself whether it shuffles
        from dataloupe.core.batching.user_loader import LoaderFacts

        loader_facts = LoaderFacts.read(handle.loader)
        loader_shuffles = loader_facts.shuffle
    pipeline = (pipeline or handle.pipeline).with_(augment=False)
    n_classes = len(handle.classes)
    labels: dict[str, np.ndarray] = {}
    stored: dict[str, StoredSamples] = {}
    for name in handle.split_names:
        split = handle.split(name, pipeline)
        what = f"reading {name} labels"

        def partial(p, what=what) -> None:
            report(progress, what, p.done, p.total)

        try:
            labels[name] = split_labels(split, n_classes, on_partial=partial, cancel=cancel)
        except (Cancelled, DataloupeError):
            raise
        except Exception as e:  # noqa: BLE001 - a dataset that cannot be read is bad input, not a crash
            raise DatasetError(
                f"{handle.name}: cannot read the {name} labels: {type(e).__name__}: {e}"
            ) from e
    width = max([n_classes] + [int(y.max()) + 1 for y in labels.values() if y.size])
    counts = {name: counts_of(y, width) for name, y in labels.items()}
    classes = class_names(handle.classes, width)
    for name in handle.split_names:
        stored[name] = read_stored(handle.split(name, pipeline), sample_limit, progress, cancel)
    facts = Facts(
        handle=handle,
        pipeline=pipeline,
        classes=classes,
        labels=labels,
        counts=counts,
        stored=stored,
        loader_shuffles=loader_shuffles,
        threshold=threshold,
        min_class_samples=min_class_samples,
        progress=progress,
        cancel=cancel,
    )
    results = []
    for name, check in _CHECKS.items():
        check_cancel(cancel)
        try:
            results.append(check(facts))
        except Cancelled:
            raise
        except DataloupeError as e:
            results.append(CheckResult(name, "fail", str(e)))
        except Exception as e:  # noqa: BLE001 - a sample the check cannot handle is a finding, not a crash
            results.append(CheckResult(name, "fail", f"the check could not run: {type(e).__name__}: {e}"))
    if loader_facts is not None:
        results = [
            replace(r, evidence=f"{r.evidence}; read from your DataLoader: {loader_facts.checked()}")
            if r.name == "shuffled"
            else r
            for r in results
        ]
    splits = tuple(
        SplitCounts(
            name, tuple(int(c) for c in counts[name]), balance_summary(counts[name], classes, threshold)
        )
        for name in handle.split_names
    )
    return ChecklistReport(
        dataset=handle.name,
        classes=classes,
        transform=pipeline.describe(),
        mode=pipeline.mode,
        splits=splits,
        results=tuple(results),
        threshold=threshold,
        seconds=time.perf_counter() - t0,
    )


_CHECKS: dict[str, Callable[[Facts], CheckResult]] = {
    "readable": check_readable,
    "numeric": check_numeric,
    "split": check_split,
    "shuffled": check_shuffled,
    "scaled": check_scaled,
    "balanced": check_balanced,
    "finite": check_finite,
    "shapes": check_shapes,
    "class sizes": check_class_sizes,
    "test labels": check_test_labels,
}
