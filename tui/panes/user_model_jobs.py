"""The training pane's work with the user's own model: load it with its weights, score it on the open dataset.

:func:`start_user_model` runs in a thread worker and posts :class:`UserModelEvaluated` (the model as the
pane's one :class:`~dataloupe.core.training.trained.TrainedModel` value, the full report and the split it
was measured on) or :class:`UserModelFailed`; it never touches a widget. Loading and scoring go through
the same core functions as ``dataloupe eval file.py:NAME``.

    worker = start_user_model(pane, "net.py:Net", "net.pt", pane.handle, "auto")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from dataloupe.core.progress import Progress
from dataloupe.tui.workers import run_job, throttled

if TYPE_CHECKING:
    from textual.worker import Worker

    from dataloupe.core.data.datasets import DatasetHandle, Split
    from dataloupe.core.training.metrics import ModelReport
    from dataloupe.core.training.trained import TrainedModel
    from dataloupe.tui.panes.base import Pane


@dataclass
class UserModelEvaluated(Message):
    """The user's model was loaded (or held already) and scored on the open dataset."""

    trained: TrainedModel
    """The model, as the value the pane holds (the "user" kind)."""
    report: ModelReport
    """Everything measured: per-class figures, confusion matrix, mistakes, calibration."""
    split: Split
    """The split it was scored on, through the pipeline used (the mistakes view draws its samples)."""
    what: str
    """Which model on which dataset, for the status line."""
    notes: list[str]
    """What the user should know: the weights' form, how outputs were read, a device fallback."""


@dataclass
class UserModelProgress(Message):
    """How far the scoring has come; a newer report replaces an older one still queued."""

    progress: Progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, UserModelProgress)


@dataclass
class UserModelFailed(Message):
    """Loading or scoring the user's model was refused, failed or stopped; ``text`` says why."""

    text: str
    cancelled: bool = False


def start_user_model(
    pane: Pane,
    handle: DatasetHandle,
    device: str,
    *,
    source: str | None = None,
    weights: str | None = None,
    held: TrainedModel | None = None,
) -> Worker:
    """Load ``source`` with ``weights`` (or take the model ``held`` already) and score it on ``handle``."""

    def job(cancel: threading.Event) -> UserModelEvaluated:
        from dataloupe.core.training.user_model import UserModel, evaluate_on_dataset, load_user_model

        model = UserModel.from_trained(held) if held is not None else load_user_model(source or "", weights)
        progress = throttled(lambda p: pane.post_message(UserModelProgress(p)))
        report, split, notes = evaluate_on_dataset(model, handle, device, progress=progress, cancel=cancel)
        trained = model.trained(tuple(handle.classes), split.pipeline, handle.name)
        what = f"{model.name} on {handle.name} {split.name}"
        return UserModelEvaluated(trained, report, split, what, [*notes, *report.notes])

    def failed(text: str, error: bool) -> UserModelFailed:
        return UserModelFailed(text if error else "evaluation stopped: no result", cancelled=not error)

    body = partial(run_job, pane, job, failed, what="Your model", keep_if_cancelled=False)
    return pane.run_worker(
        body, name="Your model", group="checkpoint", thread=True, exclusive=True, exit_on_error=False
    )
