"""The training pane's model keys: save (``s``), load (``l``) and evaluate (``e``) the model it holds.

:class:`ModelActions` is mixed into :class:`~dataloupe.tui.panes.training_pane.TrainingPane`: the
actions check one set of guards (:meth:`ModelActions._can_start`: no run going, one job at a time,
a model or a dataset where the job needs one), start a worker from
:mod:`dataloupe.tui.panes.training_jobs`, and handle the messages it posts back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.widgets import Static

from dataloupe.core.errors import DataloupeError
from dataloupe.tui.panes.training_jobs import start_evaluate, start_load, start_save
from dataloupe.tui.widgets.train_settings import TrainSettings

if TYPE_CHECKING:
    from textual.worker import Worker

    from dataloupe.tui.panes.training_pane import TrainingPane

JOB_NOUNS = {"saving": "the save", "loading": "the load", "evaluating": "the evaluation"}
"""What each job is called in "wait until … ends"."""
NO_MODEL = {
    "saving": "No model to save yet: r trains one.",
    "evaluating": "No model to evaluate: r trains one, l loads one.",
}
"""What a job that needs a model says when there is none."""


class ModelActions:
    """Save, load and evaluate for the training pane (mixed into it; ``self`` is the pane)."""

    _written: set[Path]
    _confirm_replace: Path | None

    def _can_start(
        self: TrainingPane, wanted: str, *, needs_model: bool = False, needs_dataset: bool = False
    ) -> bool:
        """Whether ``wanted`` ("saving", "loading", "evaluating") may start now; says why not when not."""
        if self.running:
            self.app.notify(f"Wait for the run to end (or x stops it) before {wanted}.", severity="warning")
            return False
        if needs_model and self.current is None:
            self.app.notify(NO_MODEL[wanted], severity="warning")
            return False
        if needs_dataset and self.handle is None:
            self.app.notify("Open a dataset first (key 1).", severity="error")
            return False
        if self.job is not None:  # one job at a time: two jobs never use one model at once
            hint = " (x stops it)" if self.job == "evaluating" else ""
            self.app.notify(
                f"Wait until {JOB_NOUNS[self.job]} ends{hint} before {wanted}.", severity="warning"
            )
            return False
        return True

    def _start_job(self: TrainingPane, job: str, worker: Worker, status: str) -> None:
        self.job = job
        self._job_worker = worker
        self.query_one("#run-state", Static).update(status)

    # ------------------------------------------------------------------ the keys
    def action_save(self: TrainingPane) -> None:
        if not self._can_start("saving", needs_model=True):
            return
        assert self.current is not None
        path = self.query_one(TrainSettings).checkpoint_path()
        resolved = path.expanduser().resolve()
        if resolved.exists() and resolved not in self._written and self._confirm_replace != resolved:
            # a file this session did not write: never replace it without a second press
            self._confirm_replace = resolved
            self.app.notify(
                f"{path} already exists. Press s again to replace it, or change the checkpoint path.",
                title="Replace the checkpoint?",
                severity="warning",
                timeout=8,
            )
            return
        self._confirm_replace = None
        self._written.add(resolved)
        self._start_job("saving", start_save(self, self.current, path), f"saving to {path}…")

    def action_load(self: TrainingPane) -> None:
        if not self._can_start("loading"):
            return
        settings = self.query_one(TrainSettings)
        try:
            expect = settings.model_spec()
        except DataloupeError as e:
            self.app.notify(str(e), title="Cannot load", severity="error")
            return
        path = settings.checkpoint_path()
        self._start_job("loading", start_load(self, path, expect), f"loading {path}…")

    def action_evaluate(self: TrainingPane) -> None:
        if not self._can_start("evaluating", needs_model=True, needs_dataset=True):
            return
        assert self.current is not None and self.handle is not None
        device = str(self.query_one("#train-device").value)  # type: ignore[attr-defined]
        worker = start_evaluate(self, self.current, self.handle, device)
        self._start_job("evaluating", worker, f"evaluating on {self.handle.name}… (x stops it)")

    # ------------------------------------------------------------------ what the jobs report
    def on_training_pane_checkpoint_done(self: TrainingPane, message: TrainingPane.CheckpointDone) -> None:
        self.job = self._job_worker = None
        if message.loaded is not None:
            self.current = message.loaded
        self.query_one("#run-state", Static).update(message.text)
        self.app.notify(message.text, timeout=6)

    def on_training_pane_checkpoint_failed(
        self: TrainingPane, message: TrainingPane.CheckpointFailed
    ) -> None:
        self.job = self._job_worker = None
        if message.cancelled:
            self.query_one("#run-state", Static).update(message.text)
            return
        kept = f" Kept the current model ({self.current.name})." if self.current is not None else ""
        self.query_one("#run-state", Static).update(f"✗ {message.text}")
        if message.ask_path:  # the model is kept: ask where else to put it
            kept += " Type another path in the Checkpoint field and press s to save it there."
            self.query_one("#train-checkpoint").focus()
        self.app.notify(message.text + kept, title="Checkpoint", severity="error", timeout=12)

    def on_training_pane_evaluated(self: TrainingPane, message: TrainingPane.Evaluated) -> None:
        self.job = self._job_worker = None
        result = message.result
        text = f"test accuracy {result.accuracy:.1%} on {result.samples:,} samples: {message.what}"
        self.query_one("#run-state", Static).update(text)
        self._show_classes(message.classes, result)
        self.show_view(2)
