"""The dataloupe app: six panes in tabs, each opened by a number key.

``build_app`` is the one factory: the command line calls it and so do the tests.
torch is imported by the first worker, so the first screen appears at once.

    python -m dataloupe.tui digits
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.driver import Driver
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.stats.classes import IMBALANCE_THRESHOLD
from dataloupe.core.threads import GIVE_WAY
from dataloupe.core.user_calls import in_user_code, running_calls
from dataloupe.tui import hangup
from dataloupe.tui.ascii_filter import AsciiFilter, use_ascii_bars
from dataloupe.tui.heap import freeze_long_lived
from dataloupe.tui.key_order import KeysInOrder
from dataloupe.tui.messages import DatasetFacts, DatasetFailed, DatasetOpened, DatasetProgress, TorchReady
from dataloupe.tui.panes.balance_pane import BalancePane
from dataloupe.tui.panes.base import Pane
from dataloupe.tui.panes.batches_pane import BatchesPane
from dataloupe.tui.panes.checklist_pane import ChecklistPane
from dataloupe.tui.panes.dataset_pane import DatasetPane
from dataloupe.tui.panes.preview_pane import PreviewPane
from dataloupe.tui.panes.training_pane import TrainingPane
from dataloupe.tui.widgets.key_bar import KeyBar
from dataloupe.tui.widgets.pane_tabs import PaneTabs
from dataloupe.tui.workers import LeavingExecutor, ended_unheard, run_job, stop_job, throttled

CANCELLED_OPEN = "Opening was cancelled; ctrl+o opens it again."
STUCK_AFTER = 5.0
"""Seconds a call into the user's code runs before the status line names it as not returning."""
"""What the dataset pane says after Esc stopped an open."""

PANES: tuple[tuple[str, str, str, type[Pane]], ...] = (
    ("1", "dataset", "Dataset", DatasetPane),
    ("2", "preview", "Preview", PreviewPane),
    ("3", "balance", "Balance", BalancePane),
    ("4", "checklist", "Checklist", ChecklistPane),
    ("5", "batches", "Batches", BatchesPane),
    ("6", "training", "Training", TrainingPane),
)
"""(key, id, title, class) of each tab, in order."""


@dataclass(frozen=True)
class AppOptions:
    """What the command line asks of the app."""

    spec: DatasetSpec = field(default_factory=DatasetSpec)
    """Dataset to open on start."""
    split: str = "train"
    """Split to show first."""
    ascii: bool = False
    """Only 7-bit ASCII on screen: samples, charts, frames and every other line (--ascii, or a C locale)."""
    open_on_start: bool = True
    """Open ``spec`` as soon as the app starts."""
    start_pane: str = "preview"
    """Tab shown once the first dataset is open."""
    watch: str | None = None
    """Log file or folder of runs to watch on start (``dataloupe watch PATH``)."""
    stall_after: float | None = None
    """Seconds without a new point before a watched run is stalled (None: the default, 10 minutes)."""
    model: str | None = None
    """The user's own model (``file.py:NAME``) for the training pane to load and evaluate (``--model``)."""
    weights: str | None = None
    """Its weights file (``--weights``)."""


def _underline_at_once(tabs: Tabs) -> None:
    """Move the tab bar's underline to the new tab at once instead of sliding it there for 0.3 s.

    A pane key should show its answer in one frame: the slide kept the tab bar changing for a
    third of a second after every switch (bench_keys timed switches by it), and over SSH each of
    its frames is sent. Textual has no option for it, so the private method that moves the
    underline is wrapped; if a Textual release renames it, the underline slides again, nothing breaks.
    Other animations (the indeterminate progress bars) keep running.
    """
    highlight = getattr(tabs, "_highlight_active", None)
    if callable(highlight):
        tabs._highlight_active = lambda animate=True: highlight(animate=False)  # type: ignore[method-assign]


def _give_way_on_keys(driver: type[Driver]) -> type[Driver]:
    """``driver``, raising :data:`GIVE_WAY` for every key it reads (on its input thread)."""

    class GiveWayOnKeys(driver):  # type: ignore[valid-type,misc]
        def process_message(self, message) -> None:
            if isinstance(message, events.Key):
                GIVE_WAY.raise_()
            super().process_message(message)

    GiveWayOnKeys.__name__ = GiveWayOnKeys.__qualname__ = f"GiveWayOn{driver.__name__}"
    return GiveWayOnKeys


class DataloupeApp(App):
    """Is this data ready to train on? Six panes that answer it, driven from the keyboard."""

    TITLE = "dataloupe"
    CSS_PATH = [
        "app.tcss",
        "panes/dataset_pane.tcss",
        "panes/preview_pane.tcss",
        "panes/balance_pane.tcss",
        "panes/checklist_pane.tcss",
        "panes/batches_pane.tcss",
        "panes/training_pane.tcss",
        "panes/watch_pane.tcss",
    ]
    BINDINGS = [
        # One footer entry stands for all six pane keys ("1-6 pane"); the tab titles name each.
        *[
            Binding(
                key,
                f"show_pane('{pid}')",
                "pane" if key == "1" else title,
                show=key == "1",
                key_display="1-6",
            )
            for key, pid, title, _ in PANES
        ],
        Binding("w", "watch", "watch"),
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        # A pane or form that gives Esc a meaning of its own leaves the field itself.
        Binding("escape", "leave_field", "keys", show=False),
    ]

    handle = reactive(None, init=False)
    """The open dataset (a ``dataloupe.core.data.datasets.DatasetHandle``), or None."""
    split = reactive("train", init=False)
    """The split every pane shows."""
    torch_ready = reactive(False, init=False)
    """Whether torch has been imported."""
    imbalance_threshold: reactive[float] = reactive(IMBALANCE_THRESHOLD, init=False)
    """Largest ÷ smallest class count above which a split is unbalanced: the balance pane's + and -
    set it, and the checklist's "balanced" check uses the same value."""

    def __init__(self, options: AppOptions | None = None) -> None:
        super().__init__()
        self.options = options or AppOptions()
        """What the command line asked for."""
        self.ascii = self.options.ascii
        """Draw samples in ASCII (the preview's ``a`` turns it on and off)."""
        self.ascii_screen = self.options.ascii
        """Only 7-bit ASCII on screen, for the whole session: charts draw with ASCII glyphs, and a line
        filter rewrites every other character (frames, tab bar, footer, ✓)."""
        self._ascii_filter = AsciiFilter()
        self.started = time.perf_counter()
        """When the app object was made (for the first-screen benchmark)."""
        self.first_paint: float | None = None
        """Seconds from construction to the first screen."""
        self._drawn = False
        """The first screen has been drawn."""
        self._tabs_ready = False
        """The tab bar has announced its initial tab."""
        self._starting = False
        """The slow work has been asked to start (it starts once the tab bar has settled)."""
        self._opened_once = False
        """Whether a dataset has been opened in this session (the first one switches to the preview)."""
        self._open_request = 0
        """Serial of the newest open; messages about older ones are dropped."""
        self._open_job: Worker | None = None
        """The worker of the newest open."""
        self._opening: DatasetSpec = self.options.spec
        """What the newest open asked for."""
        self._open_thread: int | None = None
        """The thread of the newest open's worker (its ``threading.get_ident()``), once it has begun."""
        self._stuck = ""
        """The user's call that has not returned, as the status line shows it ("" when none)."""
        self.farewell = ""
        """A line for stderr once the app has quit (where a hang-up kept the running model)."""
        self.hung_up = False
        """SIGHUP or SIGTERM came: the app is stopping a run, keeping its model and quitting."""
        self.previous_handlers: dict = {}
        """The signal handlers the app replaced while it runs (see :mod:`dataloupe.tui.hangup`)."""
        self._keys = KeysInOrder(self, super().on_event, settled=self._keys_settled)
        """Hands the terminal's keys on one at a time, each once the one before has had its effect."""

    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal go through :class:`KeysInOrder`; everything else as Textual does.

        A key raises :data:`GIVE_WAY`, so that a model training in a worker waits between its
        steps until the key's answer is on screen (see :class:`~dataloupe.core.threads.GiveWay`).
        """
        if isinstance(event, events.Key) and not event.is_forwarded:
            GIVE_WAY.raise_()
            await self._keys.arrived(event)
        else:
            await super().on_event(event)

    def get_driver_class(self):
        """Textual's driver for this terminal, raising :data:`GIVE_WAY` on the thread that reads the
        keys, as soon as one is read: training waits from then, not from when the UI thread, slowed
        by the training thread's hold on the GIL, gets to the key (up to 10 ms later at the p95)."""
        return _give_way_on_keys(super().get_driver_class())

    def _keys_settled(self) -> None:
        """Every key has had its effect: once the screen shows it, training goes on."""
        self.call_after_refresh(GIVE_WAY.lower)

    def get_line_filters(self):
        """Textual's filters (NO_COLOR's monochrome), then the ASCII one under --ascii."""
        filters = super().get_line_filters()
        return [*filters, self._ascii_filter] if self.ascii_screen else filters

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(id="status-line")
        with PaneTabs(initial="dataset", id="tabs"):
            for key, pid, title, cls in PANES:
                with TabPane(f"{key} {title}", id=pid):
                    yield cls(id=f"{pid}-pane")
        yield KeyBar()

    def on_mount(self) -> None:
        # Thread workers run where one stuck in the user's code never keeps the app from quitting.
        asyncio.get_running_loop().set_default_executor(LeavingExecutor())
        self.set_interval(1.0, self._watch_user_calls)
        hangup.install(self)  # SIGHUP, SIGTERM: stop a run, keep its model, quit cleanly
        # Number keys choose tabs; keeping focus off the tab bar keeps ←/→ for the panes.
        tabs = self.query_one("#tabs Tabs", Tabs)
        tabs.can_focus = False
        _underline_at_once(tabs)
        self._update_status()
        # Start the slow work only once the first screen is up.
        self.call_after_refresh(self._first_screen_shown)

    def on_unmount(self) -> None:
        hangup.uninstall(self)

    def _first_screen_shown(self) -> None:
        self._drawn = True
        if self.ascii_screen:
            use_ascii_bars(self)
        self._start_when_ready()

    def _start_when_ready(self) -> None:
        """Start the slow work once the first screen is drawn and the tabs have settled.

        The tabbed content announces its initial tab, and the tab bar, from its own mount handler,
        activates its first tab once more: a message that the tabbed content turns into a switch to
        that tab. A dataset opened before that message went through would see its switch to the
        preview undone; that is the likely cause of the dataset pane seen after a quick first open
        on a loaded machine, though no test has reproduced it. So the work starts only after it, in
        the order Textual's queues keep: behind what the tab bar has queued, then behind what the
        tabbed content has.
        """
        if not (self._drawn and self._tabs_ready) or self._starting:
            return
        self._starting = True
        self._after_the_tab_bar(self._start)

    def _after_the_tab_bar(self, then: Callable[[], object]) -> None:
        tab_bar = self.query_one("#tabs Tabs", Tabs)
        if not tab_bar.is_mounted:  # its mount handler has not run: its activation is still to come
            self.call_after_refresh(self._after_the_tab_bar, then)
            return
        tabbed = self.query_one(TabbedContent)
        tab_bar.call_later(tabbed.call_later, then)

    def _start(self) -> None:
        self.first_paint = time.perf_counter() - self.started
        if self.options.open_on_start:
            self.open_dataset(self.options.spec, self.options.split)
        if self.options.watch is not None:
            from dataloupe.tui.screens.watch_screen import WatchScreen

            # installed, so that leaving it for the dataset panes keeps its runs, filters and scales
            self.install_screen(WatchScreen(self.options.watch, self.options.stall_after), name="watch")
            self.push_screen("watch")

    def action_watch(self) -> None:
        """Back to the watch screen that ``dataloupe watch`` opened, as it was left."""
        if self.is_screen_installed("watch") and self.screen is not self.get_screen("watch"):
            self.push_screen("watch")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``w`` is a key only in an app started with ``dataloupe watch``."""
        if action == "watch":
            return self.is_screen_installed("watch") and self.screen is not self.get_screen("watch")
        return True

    # ------------------------------------------------------------------ panes
    def action_show_pane(self, pane_id: str) -> None:
        """Open the tab ``pane_id`` and focus its content."""
        tabs = self.query_one(TabbedContent)
        tabs.active = pane_id
        self.query_one(f"#{pane_id}-pane", Pane).pane_activated()

    def action_leave_field(self) -> None:
        """Esc in a text field: give the keys back to the pane, so 1-6 and q work again."""
        focused = self.focused
        if not isinstance(focused, Input):
            return
        holder = next((a for a in focused.ancestors if isinstance(a, Widget) and a.focusable), None)
        if holder is not None:
            holder.focus()
        else:
            self.screen.set_focus(None)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if not self._tabs_ready:
            self._tabs_ready = True
            self._start_when_ready()
        pane_id = event.pane.id
        # A late event from an earlier switch must not pull focus into a pane that is no longer shown,
        # nor reach for one that is gone (the app is closing).
        if pane_id and event.tabbed_content.active == pane_id:
            for pane in self.query(f"#{pane_id}-pane").results(Pane):
                pane.pane_activated()

    def panes(self) -> list[Pane]:
        return list(self.query(Pane))

    def watch_split(self, split: str) -> None:
        for pane in self.panes():
            pane.show_split(split)
        self._update_status()

    def choose_split(self, split: str) -> None:
        """Show ``split`` everywhere, if the open dataset has it."""
        if self.handle is not None and split not in self.handle.splits:
            self.notify(f"{self.handle.name} has no {split} split.", severity="warning")
            return
        self.split = split

    def next_split(self) -> None:
        """Switch train ↔ test."""
        if self.handle is None:
            return
        names = self.handle.split_names
        i = names.index(self.split) if self.split in names else -1
        self.choose_split(names[(i + 1) % len(names)])

    def _update_status(self) -> None:
        h = self.handle
        if h is None:
            text = "no dataset open · 1 opens the dataset pane"
        else:
            sizes = " / ".join(f"{s} {h.splits[s].length:,}" for s in h.split_names)
            text = f"{h.name} · {sizes} · {h.num_classes} classes · showing {self.split}"
        if not self.torch_ready:
            text += " · loading torch…"
        if self._stuck:
            text = f"{self._stuck} · q quits and leaves it behind"
        self.query_one("#status-line", Static).update(text)

    def _watch_user_calls(self) -> None:
        """Name, in the status line, a call into the user's code that has not returned for a while."""
        stuck = running_calls(longer_than=STUCK_AFTER)
        text = stuck[0].describe() if stuck else ""
        if text != self._stuck:
            self._stuck = text
            self._update_status()

    # ------------------------------------------------------------------ opening datasets
    def open_dataset(self, spec: DatasetSpec, split: str = "train") -> Worker:
        """Open ``spec`` in a worker; the panes update when it is done. A newer open supersedes it."""
        self._open_request += 1
        self._opening = spec
        self.query_one(DatasetPane).loading_started(spec)
        self._open_job = self._open_worker(spec, split, self._open_request)
        return self._open_job

    @work(thread=True, exclusive=True, group="open-dataset", exit_on_error=False)
    def _open_worker(self, spec: DatasetSpec, split: str, request: int) -> None:
        t0 = time.perf_counter()
        if not self.torch_ready:
            import torch  # noqa: F401 - the slow import, off the UI thread

            freeze_long_lived("torch loaded")  # its objects would be walked by every full collection
            self.post_message(TorchReady(time.perf_counter() - t0))

        self._open_thread = threading.get_ident()

        def job(cancel: threading.Event) -> DatasetOpened:
            from dataloupe.core.readers import open_dataset

            progress = throttled(lambda p: self.post_message(DatasetProgress(p.what, p.fraction, request)))
            handle = open_dataset(spec, progress=progress, cancel=cancel)
            facts = DatasetFacts.read(handle)  # decodes a sample: here, not on the UI thread
            seconds = time.perf_counter() - t0
            return DatasetOpened(handle, spec, handle.default_split(split), seconds, facts, request)

        def failed(text: str, error: bool) -> DatasetFailed:
            return DatasetFailed(spec, text if error else CANCELLED_OPEN, not error, request)

        run_job(self, job, failed, what=f"Opening {spec.source}")

    def cancel_open(self) -> None:
        """Stop opening (or downloading) a dataset.

        An open inside the user's code cannot be interrupted (a thread cannot be killed): the app stops
        waiting for it at once, and whatever it returns later is dropped as superseded.
        """
        stop_job(self._open_job)  # it reports the stop even if it has not begun
        if self._open_thread is not None and in_user_code(self._open_thread):
            calls = [c for c in running_calls() if c.thread == self._open_thread]
            left = f" Your `{calls[0].call}` is still running and is left behind." if calls else ""
            self._open_request += 1
            self._open_thread = None
            self.post_message(DatasetFailed(self._opening, CANCELLED_OPEN + left, True, self._open_request))

    def _superseded(self, request: int | None) -> bool:
        """A message about an open that a newer one replaced (None: not from an open worker)."""
        return request is not None and request != self._open_request

    def on_torch_ready(self, message: TorchReady) -> None:
        self.torch_ready = True
        self._update_status()

    def on_dataset_progress(self, message: DatasetProgress) -> None:
        if not self._superseded(message.request):
            self.query_one(DatasetPane).loading_progress(message.what, message.fraction)

    def on_dataset_failed(self, message: DatasetFailed) -> None:
        if self._superseded(message.request):
            return  # a newer open is under way: its progress stays on screen
        self.query_one(DatasetPane).loading_failed(message.text)
        if message.cancelled:
            self.notify(message.text, severity="warning", timeout=6)
            return
        self.notify(message.text, title="Could not open the dataset", severity="error", timeout=12)
        if self.query_one(TabbedContent).active != "dataset":
            self.action_show_pane("dataset")

    def on_dataset_opened(self, message: DatasetOpened) -> None:
        if self._superseded(message.request):
            return
        first = not self._opened_once
        self._opened_once = True
        self.handle = message.handle
        self.set_reactive(DataloupeApp.split, message.split)
        for pane in self.panes():
            pane.show_dataset(message.handle, message.split, message.facts)
        self.query_one(DatasetPane).loading_done(message.handle, message.seconds)
        self._update_status()
        if first and self.query_one(TabbedContent).active in ("dataset", ""):
            self.action_show_pane(self.options.start_pane)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An open that ended unheard ends its progress; a worker that raised shows a message, not a traceback."""
        if event.worker is self._open_job and ended_unheard(event):
            # cancelled before its thread began, or crashed before its job: nothing else will come
            error = event.worker.error
            text = CANCELLED_OPEN if error is None else f"Opening failed: {type(error).__name__}: {error}"
            self.post_message(DatasetFailed(self._opening, text, error is None, self._open_request))
            return
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            err = event.worker.error
            self.notify(
                f"{event.worker.name} failed: {type(err).__name__}: {err}", severity="error", timeout=12
            )


def build_app(options: AppOptions | None = None) -> DataloupeApp:
    """Build the app; the command line and the tests both come through here."""
    return DataloupeApp(options)
