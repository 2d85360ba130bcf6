"""What the training pane runs in workers: the training run, and saving, loading and evaluating its model.

Each ``start_*`` function starts one thread worker on the pane and returns it; the worker posts
the pane's own messages (``Finished``, ``CheckpointDone``, ``Evaluated``, …) through
:func:`dataloupe.tui.workers.run_job` and never touches a widget. Save, load and evaluate share the
"checkpoint" group; the pane starts one at a time, so two jobs never use one model at once.

    worker = start_evaluate(pane, pane.current, pane.handle, "cpu")
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dataloupe.core.training.trained import TRAINED_HERE
from dataloupe.tui.workers import Failed, Job, run_job

if TYPE_CHECKING:
    from textual.worker import Worker

    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.training.models import ModelSpec
    from dataloupe.core.training.run import TrainConfig, TrainingSnapshot
    from dataloupe.core.training.trained import TrainedModel
    from dataloupe.tui.panes.training_pane import TrainingPane


def _start(pane: TrainingPane, group: str, job: Job, failed: Failed, what: str, keep: bool) -> Worker:
    """One thread worker in ``group`` (a newer one in the group cancels it) that runs ``job``."""
    body = partial(run_job, pane, job, failed, what=what, keep_if_cancelled=keep)
    return pane.run_worker(body, name=what, group=group, thread=True, exclusive=True, exit_on_error=False)


def start_training(
    pane: TrainingPane, handle: DatasetHandle, config: TrainConfig, pause: threading.Event
) -> Worker:
    """Train ``config`` on ``handle``; snapshots come as ``Progress``, the end as ``Finished`` (or ``Failed``)."""

    def on_report(snapshot: TrainingSnapshot) -> None:
        if not snapshot.ended:  # the final one travels in Finished, which nothing may replace
            pane.post_message(pane.Progress(snapshot))

    def job(cancel: threading.Event) -> TrainingPane.Finished:
        from dataloupe.core.training.run import TrainingRun

        training = TrainingRun(handle, config, on_report=on_report, cancel=cancel, pause=pause)
        final = training.run()  # a stop ends the run early with its final snapshot, not an error
        return pane.Finished(final, training.trained())

    return _start(pane, "training", job, lambda text, _: pane.Failed(text), "Training", keep=True)


def start_save(pane: TrainingPane, current: TrainedModel, path: Path) -> Worker:
    """Write ``current`` to ``path``; ``CheckpointDone`` or ``CheckpointFailed`` follows."""

    def job(cancel: threading.Event) -> TrainingPane.CheckpointDone:
        from dataloupe.core.training.checkpoint import save_checkpoint

        written = save_checkpoint(path, current)
        return pane.CheckpointDone(f"saved {current.name} to {written}")

    return _start(
        pane,
        "checkpoint",
        job,
        lambda text, _: pane.CheckpointFailed(text, ask_path=True),
        "Saving",
        keep=True,
    )


def start_load(pane: TrainingPane, path: Path, expect: ModelSpec) -> Worker:
    """Read the checkpoint at ``path`` (it must fit ``expect``); ``CheckpointDone`` carries the model."""

    def job(cancel: threading.Event) -> TrainingPane.CheckpointDone:
        from dataloupe.core.training.checkpoint import load_checkpoint

        loaded = load_checkpoint(path, expect)
        loaded.build_model()  # weights that do not fit their network are refused now, not at evaluation
        return pane.CheckpointDone(f"loaded {loaded.describe()} · e evaluates it", loaded)

    failed: Failed = lambda text, _: pane.CheckpointFailed(text)  # noqa: E731
    return _start(pane, "checkpoint", job, failed, f"Loading {path}", keep=True)


def start_evaluate(pane: TrainingPane, current: TrainedModel, handle: DatasetHandle, device: str) -> Worker:
    """Evaluate ``current`` on ``handle``'s test split; ``Evaluated``, or a stop that shows no accuracy."""

    def job(cancel: threading.Event) -> TrainingPane.Evaluated:
        from dataloupe.core.training.evaluation import evaluate_on_test

        result, notes = evaluate_on_test(current, handle, device, cancel)
        where = (
            "loaded from " + Path(current.source).name if current.source != TRAINED_HERE else current.source
        )
        what = f"{current.name} ({where}) on {handle.name}"
        return pane.Evaluated(result, notes, tuple(handle.classes), what)

    def failed(text: str, error: bool) -> TrainingPane.CheckpointFailed:
        # cut short, the accuracy would be measured on part of the test split: report only the stop
        return pane.CheckpointFailed(text if error else "evaluation stopped: no result", cancelled=not error)

    return _start(pane, "checkpoint", job, failed, "Evaluation", keep=False)
