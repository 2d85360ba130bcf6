"""The training pane: configure a run, start, pause and stop it, and watch it learn; save, load and evaluate.

The run is a thread worker (:mod:`dataloupe.tui.panes.training_jobs`; save, load and evaluate are the
keys of :mod:`dataloupe.tui.panes.model_actions`, mixed in here) that
calls :class:`dataloupe.core.training.run.TrainingRun` with the worker's cancel event and a pause event. It
never touches a widget: every snapshot crosses as a
:class:`TrainingPane.Progress` message (a newer one replaces an older one still queued),
and the charts are redrawn from the latest snapshot a few times a second at most.
Three views share the space: settings, curves (loss; train vs test accuracy) and
classes (per-class accuracy; confusion matrix); ``v`` switches between them. A fourth, data size,
shows learning curves (``c``; :mod:`dataloupe.tui.widgets.curve_view`).

    python -m dataloupe.tui digits      # then 6, r
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, ProgressBar, Static
from textual.worker import Worker

from dataloupe.core.errors import DataloupeError
from dataloupe.core.training.data_wait import data_wait_warning, split_words
from dataloupe.core.wording import duration, pack_line, size
from dataloupe.tui.ascii_filter import use_ascii_bars
from dataloupe.tui.heap import freeze_long_lived
from dataloupe.tui.panes.base import Pane, show_fraction
from dataloupe.tui.panes.model_actions import ModelActions
from dataloupe.tui.panes.training_jobs import start_training
from dataloupe.tui.panes.training_user_model import MISTAKES_VIEW, UserModelPart
from dataloupe.tui.widgets.accuracy_chart import AccuracyChart
from dataloupe.tui.widgets.confusion_view import ConfusionView
from dataloupe.tui.widgets.curve_view import LearningCurveView
from dataloupe.tui.widgets.loss_chart import LossChart
from dataloupe.tui.widgets.mistakes_view import MistakesView
from dataloupe.tui.widgets.per_class_chart import PerClassChart
from dataloupe.tui.widgets.system_strip import SystemStrip
from dataloupe.tui.widgets.train_settings import TrainSettings
from dataloupe.tui.widgets.user_model_form import UserModelForm
from dataloupe.tui.workers import ended_unheard, stop_job

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.training.run import EvalResult, TrainConfig, TrainingSnapshot
    from dataloupe.core.training.trained import TrainedModel

VIEWS: tuple[tuple[str, str], ...] = (
    ("view-settings", "settings"),
    ("view-curves", "curves"),
    ("view-classes", "classes"),
    MISTAKES_VIEW,
    ("view-data-size", "data size"),
)
"""(id, title) of the pane's views, in the order ``v`` visits them."""
CHART_REFRESH = 0.25
"""Seconds between two chart redraws: plotext rebuilds the whole figure each time, on the UI thread."""

IMPLEMENTATION_NOTES = ("data held in memory", "data read through a DataLoader")
"""Starts of run notes that describe how the trainer reads data: kept for the command line, never a toast."""

LESSON_TEST = (
    "Out-of-sample (test) accuracy is the one that counts: it is how the model does on data it never saw."
)
LESSON_PARTING = (
    "When the train line keeps rising and the test line stalls or falls, the lines part: overfitting."
)
LESSON_CLASSES = (
    "With unbalanced classes the overall accuracy hides weak classes (guessing the majority already scores "
    "its share): read the per-class bars."
)


class TrainingPane(UserModelPart, ModelActions, Pane):
    """Train a small model in the background and watch loss, accuracy and per-class accuracy stream in."""

    BINDINGS = [
        Binding("r", "start", "start"),
        Binding("p", "pause", "pause"),
        Binding("x", "stop", "stop"),
        Binding("s", "save", "save"),
        Binding("l", "load", "load"),
        Binding("e", "evaluate", "eval"),
        Binding(
            "u", "user_model", "your model", show=False
        ),  # the footer is full at 80 columns: the form names u
        Binding("v", "next_view", "view"),
        Binding("c", "curve", "curve"),
        # the mistakes view's keys, bound while it is shown (training_user_model.check_action)
        Binding("right", "mistake(1)", "mistake", show=False),
        Binding("left", "mistake(-1)", "previous mistake", show=False),
        Binding("f", "cell", "cell", show=False),
    ]

    # ------------------------------------------------------------------ messages
    @dataclass
    class Progress(Message):
        """A snapshot of the running training; a newer one replaces an older one still queued."""

        snapshot: TrainingSnapshot
        """The run at one moment."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TrainingPane.Progress)

    @dataclass
    class Finished(Message):
        """The run ended (finished, stopped, diverged or failed)."""

        snapshot: TrainingSnapshot
        """The final snapshot; ``message`` says why a run ended early."""
        trained: TrainedModel | None
        """The model it trained (None when it failed before training)."""

    @dataclass
    class Failed(Message):
        """The run could not start or crashed; ``text`` says why."""

        text: str
        """The message for the user."""

    @dataclass
    class CheckpointDone(Message):
        """A save or load finished."""

        text: str
        """What happened, for the status line."""
        loaded: TrainedModel | None = None
        """The model read from a checkpoint, for a load."""

    @dataclass
    class CheckpointFailed(Message):
        """A save, load or evaluation was refused or cancelled; the current model is unchanged."""

        text: str
        """Why, and what to do."""
        cancelled: bool = False
        """The user stopped it (x): nothing to report but that."""
        ask_path: bool = False
        """A save failed: ask for another path (the model is kept)."""

    @dataclass
    class Evaluated(Message):
        """The current model was evaluated on the test split."""

        result: EvalResult
        """Accuracy, per-class accuracy and the confusion matrix."""
        notes: list[str]
        """Notes for the user (held-out split, device fallback)."""
        classes: tuple[str, ...]
        """Class names of the evaluated dataset."""
        what: str
        """Which model on which dataset, for the status line."""

    # ------------------------------------------------------------------ layout
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._written: set[Path] = set()
        """Checkpoint files this session has written (they may be replaced without asking)."""
        self._confirm_replace: Path | None = None
        """A file that exists and that one more press of s will replace."""
        self.current: TrainedModel | None = None
        """The model to save or evaluate: the last one trained here or loaded."""
        self.snapshot: TrainingSnapshot | None = None
        """The latest snapshot shown."""
        self.running = False
        """Whether a run is in progress."""
        self.pause_event = threading.Event()
        """Set while the run should wait between two steps."""
        self.view = 0
        """Index into :data:`VIEWS` of the view shown."""
        self.job: str | None = None
        """The save, load or evaluation in progress ("saving", "loading", "evaluating"), or None.
        One at a time: two jobs never use one model at once."""
        self.run_dataset: DatasetHandle | None = None
        """The dataset of the run shown (running or ended), or None when none is shown."""
        self._line_rows: dict[str | None, int] = {}
        """Rows each status line took when last updated (a change of rows is a layout pass)."""
        self._charts_dirty = False
        self._run_worker: Worker | None = None
        self._job_worker: Worker | None = None
        self._notes_shown: set[str] = set()
        """Notes about runs already shown as a toast this session."""
        self.built = False
        """Whether the pane's widgets exist: they are made the first time the pane is shown."""

    def compose(self) -> ComposeResult:
        # About 70 widgets, 40% of the app's: made when first shown, so that the first screen
        # (and every start of the app) does not pay for them. Nothing can reach them before: a
        # run starts from this pane's keys, and the dataset is applied once they exist.
        if not self.built:
            return
        yield SystemStrip(id="train-system")
        yield Static(self._view_tabs(), id="train-views")
        with Horizontal(id="train-status"):
            yield ProgressBar(total=1, show_eta=False, id="epoch-progress")
            yield Static("no run yet · r starts one", id="run-stats")
        yield Static("", id="run-state")
        with ContentSwitcher(initial=VIEWS[0][0], id="train-switcher"):
            with Vertical(id="view-settings"):
                yield TrainSettings(id="train-settings")
                yield UserModelForm(id="user-model-form")
                yield Static(
                    f"{LESSON_TEST}\n{LESSON_PARTING}\n{LESSON_CLASSES}", id="lessons", classes="lesson"
                )
            with Vertical(id="view-curves"):
                with Horizontal(id="curves-charts"):
                    yield LossChart(id="loss-chart")
                    yield AccuracyChart(id="accuracy-chart")
                yield Static(f"{LESSON_TEST} {LESSON_PARTING}", classes="lesson")
            with Vertical(id="view-classes"):
                with Horizontal(id="classes-charts"):
                    yield PerClassChart(id="per-class-chart")
                    yield ConfusionView(id="confusion")
                yield Static(LESSON_CLASSES, classes="lesson")
            with Vertical(id=MISTAKES_VIEW[0]):
                yield MistakesView(id="mistakes")
            yield LearningCurveView(id="view-data-size")

    def on_mount(self) -> None:
        self.can_focus = True
        self.set_interval(CHART_REFRESH, self._redraw_charts)

    def pane_activated(self) -> None:
        self.focus()
        if not self.built:
            self.built = True
            self.call_later(self._build)

    async def _build(self) -> None:
        await self.recompose()
        if self.app.ascii_screen:  # type: ignore[attr-defined]
            use_ascii_bars(self)
        self.dataset_changed()

    # ------------------------------------------------------------------ dataset
    def dataset_changed(self) -> None:
        handle = self.handle
        if handle is None or not self.built or not self.children:
            return
        if self.facts is not None:  # the shape takes decoding a sample: the opening worker read it
            self.query_one(TrainSettings).set_dataset(
                self.facts.sample_shape, len(handle.classes), self.facts.sizes_vary
            )
        self.start_model_from_command_line()
        earlier = self.run_dataset
        if earlier is None or earlier is handle:
            if not self.running and self.snapshot is None:
                self.query_one("#run-state", Static).update(f"dataset: {handle.name} · r starts training")
            return
        # a run belongs to its dataset: a running one is labelled as the earlier dataset's, an ended one cleared
        if self.running:
            if self.snapshot is not None:
                self._show_snapshot(self.snapshot)  # redrawn with the label
            return
        self._clear_run()
        kept = f" · the model trained on {earlier.name} stays loaded (s saves it)" if self.current else ""
        self.query_one("#run-state", Static).update(f"dataset: {handle.name} · r starts training{kept}")

    def _clear_run(self) -> None:
        """Forget the run shown: status, progress and charts."""
        self.snapshot = None
        self.run_dataset = None
        self._charts_dirty = False
        show_fraction(self.query_one("#epoch-progress", ProgressBar), 0.0)
        self.query_one("#run-stats", Static).update("no run yet · r starts one")
        loss, accuracy = self.query_one(LossChart), self.query_one(AccuracyChart)
        if (
            loss.points or accuracy.points
        ):  # plotext redraws the whole figure: only when there is a run to clear
            loss.show([])
            accuracy.show([])
            self._show_classes((), None)

    def _earlier(self) -> str:
        """ " on digits (the earlier dataset)" while the run shown is not on the open dataset, else ""."""
        run = self.run_dataset
        if run is None or run is self.handle:
            return ""
        return f" on {run.name} (the earlier dataset)"

    # ------------------------------------------------------------------ views
    def _view_tabs(self) -> Text:
        text = Text()
        for i, (_, title) in enumerate(VIEWS):
            text.append(f" {title} ", style="reverse bold" if i == self.view else "dim")
            text.append(" ")
        text.append(" v switches view · Tab edits settings", style="dim")
        return text

    def show_view(self, index: int) -> None:
        """Show view ``index`` of :data:`VIEWS`."""
        self.view = index % len(VIEWS)
        self.query_one(ContentSwitcher).current = VIEWS[self.view][0]
        # the same words, only the highlight moves: no layout pass (it reflows the whole screen)
        self.query_one("#train-views", Static).update(self._view_tabs(), layout=False)
        self._charts_dirty = self.snapshot is not None
        self.focus_for_view(VIEWS[self.view])

    def action_next_view(self) -> None:
        self.show_view(self.view + 1)

    # ------------------------------------------------------------------ run controls
    def action_start(self) -> None:
        if self.running:
            self.app.notify("A run is in progress: x stops it, p pauses it.", severity="warning")
            return
        if self.handle is None:
            self.app.notify("Open a dataset first (key 1).", severity="error")
            return
        try:
            config = self.query_one(TrainSettings).config()  # threads: set once at start-up
        except DataloupeError as e:
            self.app.notify(str(e), title="Cannot start training", severity="error")
            return
        self.start_run(config)

    def action_curve(self) -> None:
        """Measure learning curves with the settings' model in the "data size" view; again, stop them."""
        try:
            config = self.query_one(TrainSettings).config()
        except DataloupeError as e:
            self.app.notify(str(e), title="Cannot measure learning curves", severity="error")
            return
        self.show_view(VIEWS.index(("view-data-size", "data size")))
        self.query_one(LearningCurveView).toggle(self.handle, config)

    def start_run(self, config: TrainConfig) -> None:
        """Start training ``config`` on the open dataset in a worker."""
        if self.handle is None or self.running:
            return
        self.running = True
        self.pause_event.clear()
        self._clear_run()
        self.run_dataset = self.handle
        self.query_one("#run-state", Static).update(
            f"starting: {self.handle.name}, {config.model}, lr {config.lr:g}…"
        )
        self.query_one("#run-stats", Static).update("")
        if self.view == 0:
            self.show_view(1)
        self._run_worker = start_training(self, self.handle, config, self.pause_event)

    def action_pause(self) -> None:
        if not self.running:
            self.app.notify("No run to pause: r starts one.", severity="warning")
            return
        if self.pause_event.is_set():
            self.pause_event.clear()
            self.query_one("#run-state", Static).update("resumed")
        else:
            self.pause_event.set()
            self.query_one("#run-state", Static).update("pausing… (p resumes, x stops)")

    def action_stop(self) -> None:
        if self.running:
            self.query_one("#run-state", Static).update("stopping…")
            stop_job(self._run_worker)  # the run ends at the next step, or at once if it has not begun
        elif self.job == "evaluating":
            self.query_one("#run-state", Static).update("stopping the evaluation…")
            stop_job(self._job_worker)
        elif self.job is not None:
            self.app.notify(
                f"{self.job.capitalize()} cannot be stopped; it ends in a moment.", severity="warning"
            )
        else:
            self.app.notify("No run to stop: r starts one.", severity="warning")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that ended without a word (cancelled before it began) ends what waits for it."""
        if event.worker is self._run_worker and ended_unheard(event):
            self._run_worker = None
            self.running = False
            self.pause_event.clear()
            self.query_one("#run-state", Static).update("stopped before the first step · r starts a run")
        elif event.worker is self._job_worker and ended_unheard(event):
            self._job_worker = None
            job, self.job = self.job, None
            self.query_one("#run-state", Static).update(f"{job or 'the job'} was cancelled before it began")

    def on_train_settings_left(self, message: TrainSettings.Left) -> None:
        self.focus()

    # ------------------------------------------------------------------ messages from the run
    def on_training_pane_progress(self, message: Progress) -> None:
        freeze_long_lived("first training run")  # its optimizer has loaded torch._dynamo
        self._show_snapshot(message.snapshot)

    def on_training_pane_finished(self, message: Finished) -> None:
        self.running = False
        self._run_worker = None
        self.pause_event.clear()
        final = message.snapshot
        self._show_snapshot(final)
        self._redraw_charts()
        if message.trained is not None and final.step > 0:
            self.current = message.trained
        summary = f"run{self._earlier()}: {final.summary()}" if self._earlier() else final.summary()
        self.query_one("#run-state", Static).update(summary)
        # the summary stays on the status line; a toast over the charts only when the run went wrong
        title = {"diverged": "Training stopped: the loss blew up", "failed": "Training failed"}.get(
            final.state
        )
        if title is not None:
            self.app.notify(summary, title=title, severity="error", timeout=10)

    def on_training_pane_failed(self, message: Failed) -> None:
        self.running = False
        self._run_worker = None
        self.pause_event.clear()
        self.query_one("#run-state", Static).update(f"✗ {message.text}")
        self.app.notify(message.text, title="Training failed", severity="error", timeout=10)

    def _show_snapshot(self, s: TrainingSnapshot) -> None:
        first = self.snapshot is None
        self.snapshot = s
        bar = self.query_one("#epoch-progress", ProgressBar)
        if s.state == "finished":
            show_fraction(bar, 1.0, finished=True)
        elif s.ended:  # stopped, failed or diverged: where in its epoch the run stopped, never a full bar
            bar.update(total=1.0, progress=min(s.epoch_fraction, 0.99))
        else:  # a full epoch still has its evaluation to run: the bar says so instead of resting at 100%
            show_fraction(bar, s.epoch_fraction)
        parts = [f"epoch {s.epoch}/{s.epochs}"]
        if s.loss is not None:
            parts.append(f"loss {s.loss:.4f}")
        if s.latest is not None:
            held = f" ({s.held_out})" if s.held_out else ""  # the dataset has no test split of its own
            if s.leakage:  # test samples that were trained on: the split check fails
                held += " ⚠ test samples copy training ones"
            parts.append(f"test {s.latest.test.accuracy:.1%}{held}")
        parts.append(duration(s.elapsed))
        if s.eta is not None:
            parts.append(f"ETA {duration(s.eta)}")
        if s.gpu_memory is not None:
            parts.append(f"GPU {size(s.gpu_memory)}")
        if s.data:
            parts.append(f"data {s.data}")  # the data path and its memory (issue 8)
        if s.data_wait is not None:
            parts.append(split_words(s.data_wait))
        stats = self.query_one("#run-stats", Static)
        self._show_line(stats, pack_line(parts, stats.content_region.width or 60))
        if not s.ended:
            state = "paused (p resumes, x stops)" if s.state == "paused" else f"{s.state} on {s.device}"
            starved = data_wait_warning(s.data_wait, s.device)
            self._show_line(
                self.query_one("#run-state", Static),
                f"{state}{self._earlier()} · step {s.step:,}/{s.total_steps:,} · "
                f"{s.samples_per_second:,.0f} samples/s" + (f"\n⚠ {starved}" if starved else ""),
            )
        if first:
            for note in s.notes:
                if note not in self._notes_shown and not note.startswith(IMPLEMENTATION_NOTES):
                    self._notes_shown.add(note)  # once a session, not after every run
                    self.app.notify(note, timeout=6)
        self._charts_dirty = True

    def _show_line(self, line: Static, text: str) -> None:
        """Update a status line that changes with every snapshot, laying the screen out again only
        when its number of rows changes: a layout pass reflows the whole screen on the UI thread, and
        at ten snapshots a second it was most of the UI thread's time while a model trained."""
        width = max(1, line.content_region.width)
        rows = sum(max(1, -(-len(row) // width)) for row in text.split("\n"))
        line.update(text, layout=rows != self._line_rows.get(line.id))
        self._line_rows[line.id] = rows

    def _redraw_charts(self) -> None:
        """Push the latest snapshot to the charts (called a few times a second, and at the end of a run)."""
        s = self.snapshot
        if not self._charts_dirty or s is None:
            return
        self._charts_dirty = False
        view = VIEWS[self.view][1]
        if view == "curves" or s.ended:
            self.query_one(LossChart).show_loss(s.loss_steps, s.loss_values)
            self.query_one(AccuracyChart).show_accuracy(s.accuracy_epochs, s.train_accuracy, s.test_accuracy)
        if s.latest is not None and (view == "classes" or s.ended):
            self._show_classes(s.classes, s.latest.test)
        if view == "settings" and not s.ended:
            self._charts_dirty = True  # draw when the charts are shown, not while hidden

    def _show_classes(self, classes: tuple[str, ...], result: EvalResult | None) -> None:
        """Per-class accuracy and the confusion matrix of ``result`` (None: clear them)."""
        self.query_one(PerClassChart).show(classes, result.per_class if result else ())
        self.query_one(ConfusionView).show(classes, result.confusion if result else ())
