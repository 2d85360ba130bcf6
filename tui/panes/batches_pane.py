"""The batches pane: DataLoader batches exactly as training sees them, one at a time.

Loader settings (batch size, seed, sampler, shuffle, drop_last) sit at the top; keys step to the
next batch, start a new epoch (a fresh pass that reshuffles) or jump to batch N, and toggle
normalization and augmentation. Each batch shows its epoch and position, X's and y's shape and
dtype, X's statistics, the labels, a class table (this batch, this epoch so far, the split) and
a grid of its samples.

Batches are built and drawn by :class:`dataloupe.core.batching.BatchStepper` in a thread worker, one
worker at a time. Key presses that arrive while a batch is being built are queued as moves and
merged ("next" ×12 becomes one step of 12), so holding the next-batch key builds and draws only
the latest batch, never a backlog of stale ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from dataloupe.core.batching import WORKERS_REASON, LoaderSettings
from dataloupe.tui.panes.base import Pane
from dataloupe.tui.panes.batch_job import BatchJob, add_move, draw, info_text, move_and_build
from dataloupe.tui.screens.jump_screen import JumpScreen
from dataloupe.tui.widgets.loader_settings import LoaderSettingsForm
from dataloupe.tui.widgets.sample_view import SampleView
from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from dataloupe.core.batching import BatchStepper, BatchSummary

HISTORY = 1_000
"""Batches remembered in :attr:`BatchesPane.shown` (for tests and the benchmark)."""
HELP = (
    "Keys: n next batch (into a new epoch after the last) · e new epoch: a fresh pass over the loader, "
    "which reshuffles · g go to batch N · t normalization on/off · a augmentation on/off (images) · "
    "b edit the settings (enter applies, escape returns to the keys) · ? this help.\n"
    "shuffle turns the sequential sampler into a random one; balanced draws each class equally often, "
    "with replacement. Batches are numbered from 0, epochs from 1.\n" + WORKERS_REASON
)
"""What the help key shows."""


def own_loader_row(loader) -> str:
    """The settings row for the user's own DataLoader: what it does, read from it (``LoaderFacts``)."""
    from dataloupe.core.batching.user_loader import LoaderFacts

    facts = LoaderFacts.read(loader)
    size = f"batch {facts.batch_size:,}" if facts.batch_size else "custom batch sampler"
    last = "drop_last on" if facts.drop_last else "drop_last off"
    return (
        f"your DataLoader (set in your code, read-only): {size} · {facts.shuffle_text()} · {last} · "
        f"{facts.num_workers} workers"
    )


class BatchesPane(Pane):
    """Step through DataLoader batches; building and drawing run in one worker at a time, latest request wins."""

    BINDINGS = [
        Binding("n", "next_batch", "next"),
        Binding("right", "next_batch", "next", show=False),
        Binding("e", "new_epoch", "epoch"),
        Binding("g", "jump", "go to"),
        Binding("t", "normalize", "normalize"),
        Binding("a", "augment", "augment"),
        Binding("b", "settings", "settings"),
        Binding("question_mark", "help", "help", key_display="?"),
    ]

    @dataclass
    class Built(Message):
        """A worker built and drew a batch."""

        generation: int
        """The job's generation."""
        stepper: BatchStepper
        """The stepper, moved to this batch (handed back to the UI thread for the next job)."""
        summary: BatchSummary
        """What is shown about the batch."""
        strips: list[Strip]
        """The sample grid (or table rows), row by row."""
        info: Text
        """Epoch, position, shapes, statistics, labels and class table."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, BatchesPane.Built)

    @dataclass
    class Failed(Message):
        """A worker could not build a batch; ``text`` says why."""

        generation: int
        """The job's generation."""
        stepper: BatchStepper | None
        """The stepper to continue with (None when it could not be built)."""
        text: str
        """The message for the user."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.settings = LoaderSettings()
        """The loader settings in use."""
        self.normalize = False
        """Normalize(mean, std) after scaling."""
        self.augment = False
        """Random rotation and shift (images)."""
        self.summary: BatchSummary | None = None
        """The batch shown, or None."""
        self.presses = 0
        """Moves asked for (key presses and jumps), for tests and the benchmark."""
        self.renders = 0
        """Batches built and drawn."""
        self.shown: list[tuple[int, int]] = []
        """(epoch, batch) of each batch drawn, oldest first (the last :data:`HISTORY`)."""
        self.last_error: str | None = None
        """The last message shown for a bad setting or a batch that could not be built."""
        self._stepper: BatchStepper | None = None
        self._generation = 0
        self._moves: list[tuple[str, int]] = []
        self._reset = False
        self._redraw = False
        self._worker: Worker | None = None
        self._failed: str | None = None
        self._stale = True  # the dataset or split changed while the pane was hidden

    def compose(self) -> ComposeResult:
        yield LoaderSettingsForm(self.settings, id="loader-settings")
        yield Static("", id="own-loader-settings")
        with Horizontal(id="batches-body"):
            with VerticalScroll(id="batch-info-scroll"):
                yield Static(HELP, id="batches-help")
                yield Static("Open a dataset to see its batches (key 1).", id="batch-info")
            with VerticalScroll(id="batch-grid-scroll"):
                yield SampleView(id="batch-grid")

    def on_mount(self) -> None:
        self.can_focus = True
        self.query_one("#batches-help").display = False

    def pane_activated(self) -> None:
        self.focus()
        if self._stale:
            # on the first visit the grid has no size until the pane is laid out: build after that
            self.call_after_refresh(self._reset_if_stale)

    def _reset_if_stale(self) -> None:
        if self._stale and self.is_shown:
            self._request_reset()

    @property
    def busy(self) -> bool:
        """A worker is building a batch."""
        return self._worker is not None

    # ------------------------------------------------------------------ dataset and settings
    def dataset_changed(self) -> None:
        self._generation += 1  # whatever a running worker builds is for the old dataset
        self._keep(None)
        self.summary = None
        self._stale = True
        if self.is_shown:
            self._request_reset()

    @property
    def own_loader(self) -> bool:
        """The batches come from the user's own DataLoader (its training split), which the form does not set."""
        h = self.handle
        return h is not None and h.loader is not None and self.split_name == h.split_names[0]

    def _request_reset(self) -> None:
        if self.handle is None or self.split_name not in self.handle.splits:
            return
        # the user's loader's own settings, read-only, in place of a form that would change nothing
        own = self.own_loader
        form = self.query_one(LoaderSettingsForm)
        form.disabled = own
        form.display = not own
        row = self.query_one("#own-loader-settings", Static)
        row.display = own
        if own:
            row.update(own_loader_row(self.handle.loader))
        self._stale = False
        self._generation += 1
        self._reset = True
        self._moves.clear()
        self._failed = None
        self._kick()

    def on_loader_settings_form_changed(self, message: LoaderSettingsForm.Changed) -> None:
        if message.settings != self.settings:
            self.settings = message.settings
            self._request_reset()
        if message.submitted:
            self.focus()

    def on_loader_settings_form_invalid(self, message: LoaderSettingsForm.Invalid) -> None:
        self.last_error = message.text
        self.app.notify(message.text, title="Loader settings", severity="error")

    def on_loader_settings_form_left(self, message: LoaderSettingsForm.Left) -> None:
        self.focus()

    def on_resize(self) -> None:
        if self.summary is not None or self.busy:
            self._redraw = True  # a batch built for the old size is drawn again for the new one
            self._kick()

    # ------------------------------------------------------------------ actions
    def _move(self, kind: str, value: int = 0) -> None:
        if self.handle is None:
            return
        if self._stepper is None and not self._reset and not self.busy:
            if self._failed:
                self.app.notify(self._failed, title="Batches", severity="error")
                return
            self._request_reset()
        self.presses += 1
        add_move(self._moves, kind, value)
        self._kick()

    def action_next_batch(self) -> None:
        self._move("step", 1)

    def action_new_epoch(self) -> None:
        self._move("epoch")

    def action_jump(self) -> None:
        if self.summary is None:
            return
        n = self.summary.batches

        def done(index: int | None) -> None:
            if index is not None:
                self._move("jump", index)

        self.app.push_screen(JumpScreen(f"Go to batch (0..{n - 1:,}) of this epoch", n), done)

    def action_normalize(self) -> None:
        self.normalize = not self.normalize
        self._redraw = True
        self._kick()

    def action_augment(self) -> None:
        if self.handle is not None and self.handle.pipeline.sample_type != "image":
            self.app.notify(
                "Augmentation applies to images only; table rows are unchanged.", severity="warning"
            )
            return
        self.augment = not self.augment
        self._redraw = True
        self._kick()

    def action_settings(self) -> None:
        if self.own_loader:
            self.app.notify(
                "These are your DataLoader's own batches: its batch size, sampler and collate function "
                "apply. Change them in your code, or open the Dataset itself to try other settings.",
                title="Batches",
            )
            return
        self.query_one(LoaderSettingsForm).focus_batch_size()

    def action_help(self) -> None:
        help_text = self.query_one("#batches-help")
        help_text.display = not help_text.display
        if help_text.display:
            self.query_one("#batch-info-scroll", VerticalScroll).scroll_home(animate=False)

    # ------------------------------------------------------------------ the one worker
    def _kick(self) -> None:
        """Start a worker for everything asked since the last one, unless one is running."""
        if self.busy or self.handle is None or self.split_name not in self.handle.splits:
            return
        reset = self._reset or self._stepper is None
        if not (reset or self._moves or self._redraw):
            return
        if reset and self._failed and not self._reset:
            return  # the settings could not be built; wait for new ones
        job = BatchJob(
            generation=self._generation,
            handle=self.handle,
            split_name=self.split_name,
            settings=self.settings,
            stepper=None if reset else self._stepper,
            moves=tuple(self._moves),
            normalize=self.normalize,
            augment=self.augment,
            cols=max(8, self.query_one("#batch-grid-scroll").scrollable_content_region.width),
            rows=max(4, self.query_one("#batch-grid-scroll").scrollable_content_region.height),
            ascii=bool(getattr(self.app, "ascii", False)),
            info_cols=max(20, self.query_one("#batch-info-scroll").scrollable_content_region.width),
        )
        self._moves.clear()
        self._reset = self._redraw = False
        self._worker = self._build_worker(job)

    @work(thread=True, exclusive=True, group="batches", exit_on_error=False)
    def _build_worker(self, job: BatchJob) -> None:
        """Apply the job's moves to the stepper, build the one batch they end on, draw it. Touches no widget."""
        built: list[BatchStepper | None] = [job.stepper]  # the stepper to go on with, even if drawing fails

        def build(cancel: threading.Event) -> BatchesPane.Built:
            stepper, batch = move_and_build(job)
            built[0] = stepper
            strips, info = draw(batch, job), info_text(batch.summary, stepper, job)
            return self.Built(job.generation, stepper, batch.summary, strips, info)

        run_job(
            self,
            build,
            lambda text, _: self.Failed(job.generation, built[0], text),
            what="Building the batch",
        )

    def _keep(self, stepper: BatchStepper | None) -> None:
        """Go on with ``stepper``; the one it replaces stops its loader's worker processes."""
        if self._stepper is not None and self._stepper is not stepper:
            self._stepper.close()
        self._stepper = stepper

    def _drop(self, stepper: BatchStepper | None) -> None:
        """A stepper built for what has changed since: stop its workers unless it is the current one."""
        if stepper is not None and stepper is not self._stepper:
            stepper.close()

    def on_batches_pane_built(self, message: Built) -> None:
        if message.generation != self._generation:
            self._drop(message.stepper)
            return  # built for settings or a dataset that have changed since
        self._keep(message.stepper)
        self.summary = message.summary
        self.renders += 1
        self.shown.append((message.summary.epoch, message.summary.index))
        del self.shown[:-HISTORY]
        grid = self.query_one("#batch-grid", SampleView)
        grid.show(message.strips)
        grid.styles.height = max(1, len(message.strips))
        self.query_one("#batch-info", Static).update(message.info)

    def on_batches_pane_failed(self, message: Failed) -> None:
        if message.generation != self._generation:
            self._drop(message.stepper)
            return
        self._keep(message.stepper)
        if message.stepper is None:
            self._failed = message.text
            self.summary = None
            self.query_one("#batch-info", Static).update(Text(message.text, style="bold red"))
            self.query_one("#batch-grid", SampleView).clear()
        self.last_error = message.text
        self.app.notify(message.text, title="Batches", severity="error")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._worker = None
            self._kick()  # everything pressed meanwhile, as one job
