"""The training pane's part for the user's own model: ``u`` loads MODEL with its weights (typed in the
pane's "your model" fields, or given as ``dataloupe DATA --model file.py:NAME --weights W``) and scores it
on the open dataset; the per-class chart, the confusion matrix and the mistakes view show the result.

The model becomes the pane's one model value (a :class:`~dataloupe.core.training.trained.TrainedModel` of
the "user" kind), so ``e`` evaluates it again, on whatever dataset is open then. The work runs in
:mod:`dataloupe.tui.panes.user_model_jobs`; this mixin only starts it and shows what comes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import ContentSwitcher, Static

from dataloupe.core.errors import DataloupeError
from dataloupe.tui.panes.user_model_jobs import (
    UserModelEvaluated,
    UserModelFailed,
    UserModelProgress,
    start_user_model,
)
from dataloupe.tui.widgets.mistakes_view import MistakesView
from dataloupe.tui.widgets.user_model_form import UserModelForm

if TYPE_CHECKING:
    from dataloupe.core.training.trained import TrainedModel
    from dataloupe.tui.panes.training_pane import TrainingPane

MISTAKES_VIEW = ("view-mistakes", "mistakes")
"""(id, title) of the mistakes view among the pane's views."""


class UserModelPart:
    """Mixed into the training pane: it uses the pane's ``handle``, ``current``, ``job`` and view methods."""

    _user_model_asked = False
    """Whether the command line's ``--model`` has been started (once a session)."""

    def action_user_model(self: TrainingPane) -> None:
        """``u``: load the model the form names and score it on the open dataset."""
        if not self._can_start("evaluating", needs_dataset=True):
            return
        try:
            source, weights = self.query_one(UserModelForm).read()
        except DataloupeError as e:
            self.app.notify(str(e), title="Your model", severity="error")
            return
        self._score_user_model(self._device(), source=source, weights=weights)

    def evaluate_user_model(self: TrainingPane, held: TrainedModel, device: str) -> None:
        """``e`` on a user's model (the pane's guards passed): score it again on the open dataset."""
        self._score_user_model(device, held=held)

    def start_model_from_command_line(self: TrainingPane) -> None:
        """The ``--model`` of the command line, once, as soon as a dataset is open."""
        options = self.app.options  # type: ignore[attr-defined]
        if self._user_model_asked or not options.model or self.handle is None or self.running:
            return
        self._user_model_asked = True
        self.query_one(UserModelForm).fill(options.model, options.weights)
        if self.job is None:
            self._score_user_model(self._device(), source=options.model, weights=options.weights)

    def _device(self: TrainingPane) -> str:
        return str(self.query_one("#train-device").value)  # type: ignore[attr-defined]

    def _score_user_model(self: TrainingPane, device: str, **what) -> None:
        assert self.handle is not None
        worker = start_user_model(self, self.handle, device, **what)
        self._start_job("evaluating", worker, f"evaluating your model on {self.handle.name}… (x stops it)")

    def on_user_model_evaluated(self: TrainingPane, message: UserModelEvaluated) -> None:
        from dataloupe.core.training.user_model import as_eval_result

        self.job = self._job_worker = None
        self.current = message.trained
        report = message.report
        self.query_one("#run-state", Static).update(f"{report.summary()}: {message.what}")
        self._show_classes(report.classes, as_eval_result(report))
        self.query_one(MistakesView).show(report, message.split, ascii_only=self.app.ascii)
        self.show_mistakes()
        for note in message.notes:
            self.app.notify(note, timeout=6)

    def on_user_model_progress(self: TrainingPane, message: UserModelProgress) -> None:
        p = message.progress
        if self.job == "evaluating":
            share = f" {p.fraction:.0%}" if p.fraction is not None else ""
            self.query_one("#run-state", Static).update(f"{p.what}{share}… (x stops it)")

    def on_user_model_failed(self: TrainingPane, message: UserModelFailed) -> None:
        self.job = self._job_worker = None
        self.query_one("#run-state", Static).update(
            message.text if message.cancelled else f"✗ {message.text}"
        )
        if not message.cancelled:
            self.app.notify(message.text, title="Your model", severity="error", timeout=12)

    def show_mistakes(self: TrainingPane) -> None:
        """Switch to the mistakes view (the pane's views are its switcher's children, in order)."""
        views = [child.id for child in self.query_one("#train-switcher", ContentSwitcher).children]
        self.show_view(views.index(MISTAKES_VIEW[0]))

    def focus_for_view(self: TrainingPane, view: tuple[str, str]) -> None:
        """The pane keeps the keys whichever view is shown, and hands the mistakes view its arrows and
        f while it is shown (:meth:`action_mistake`, :meth:`action_cell`): a focus change restyles and
        lays out the screen, and cost 20-40 ms of the UI thread on each ``v`` into or out of the view.
        A hidden view that was given the focus (a click) hands it back, or it would take the keys."""
        if view != MISTAKES_VIEW and self.query_one(MistakesView).has_focus:
            self.focus()

    def action_mistake(self: TrainingPane, delta: int) -> None:
        """← and →: the previous or next mistake (bound only while the mistakes view is shown)."""
        self.query_one(MistakesView).action_step(delta)

    def action_cell(self: TrainingPane) -> None:
        """f: the mistakes of the next confusion cell (bound only while the mistakes view is shown)."""
        self.query_one(MistakesView).action_next_cell()

    def check_action(self: TrainingPane, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("mistake", "cell"):
            switchers = self.query("#train-switcher").results(ContentSwitcher)
            return any(switcher.current == MISTAKES_VIEW[0] for switcher in switchers)
        return super().check_action(action, parameters)  # type: ignore[misc]
