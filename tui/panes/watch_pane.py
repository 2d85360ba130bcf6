"""The watch pane: training runs that dataloupe did not start, read live from their logs.

A thread worker polls :class:`dataloupe.core.runlogs.Watch` with the worker's cancel event and posts
each :class:`dataloupe.core.runlogs.WatchSnapshot` as a :class:`WatchPane.Polled` message (a newer one
replaces an older one still queued). A folder of thousands of runs is listed first and read a
slice at a time, so the first runs show at once and keys are answered while the rest are read.
The pane keeps only the latest snapshot and redraws on a timer: the status lines every tick, a
chart only when its data or the view changed.

The keys change a :class:`~dataloupe.tui.panes.watch_view.WatchView` (log scale, smoothing, x axis,
zoom, filters, pins) that outlives a visit to the dataset panes. Layout, top to bottom: the status
line, the toolbar (what the view shows), then the run and tag lists beside the run lines and the
charts, then problems. A one-line strip can be mounted above the charts in ``#watch-main``.

    dataloupe watch lightning_logs/
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import SelectionList, Static

from dataloupe.tui.panes.watch_lists import FilterInput, RunList, TagList
from dataloupe.tui.panes.watch_view import WatchView, chart_data, x_extent
from dataloupe.tui.widgets.line_chart import LineChart
from dataloupe.tui.widgets.system_strip import SystemStrip, writer_line
from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from dataloupe.core.runlogs import Watch, WatchSnapshot

POLL_INTERVAL = 0.5
"""Seconds between two polls of the files when nothing is waiting (new points show within 2 s)."""
POLL_BUDGET = 0.05
"""Seconds one poll reads at most before the screen gets a snapshot (a folder of thousands of runs).
With the rest between slices (:data:`LOADING_PAUSE`) the reader holds the interpreter half the time:
at 0.1 s, `y` while 2,000 runs were read took p95 116-139 ms; at 0.05 s, 69-82 ms, and the whole
folder was read as soon (5.8-5.9 s)."""
LOADING_PAUSE = 0.05
"""Seconds the reader rests between two slices of a backlog, so that keys find the interpreter free."""
REDRAW_INTERVAL = 1.0
"""Seconds between two redraws of the charts and status lines."""
LOADING_REDRAW_INTERVAL = 3.0
"""Seconds between two chart redraws while a backlog is read (the reader needs the time more)."""
MAX_PROBLEMS = 6
"""Problems listed under the charts (the headless ``--once`` prints them all)."""
RUN_LINES = 6
"""Runs described above the charts at most (the ones drawn, pinned first)."""
NARROW = 100
"""Below this many columns the side lists get narrower, so that a chart keeps 40 columns of plot."""

ONE_ROW = frozenset({"#watch-status", "#watch-toolbar"})
"""Lines of a fixed single row: updating them needs no layout of the screen."""

_SMOOTH = Binding.Group("smooth")
_ZOOM = Binding.Group("zoom")
_FILTER = Binding.Group("filter")


class WatchPane(Vertical):
    """Runs read from log files: a run list, a tag list, and one chart per tag or pair of tags."""

    BINDINGS = [
        Binding("y", "log", "log y"),
        Binding("x", "x_axis", "x axis"),
        Binding("s,right_square_bracket", "smoothing(1)", "smooth", group=_SMOOTH, key_display="s"),
        Binding("S,left_square_bracket", "smoothing(-1)", "smooth", group=_SMOOTH, key_display="S"),
        Binding("z", "zoom(1)", "zoom", group=_ZOOM, key_display="z"),
        Binding("Z", "zoom(-1)", "zoom", group=_ZOOM, key_display="Z"),
        Binding("left", "pan(-1)", "move", show=False),
        Binding("right", "pan(1)", "move", show=False),
        Binding("0", "reset_zoom", "all steps", show=False),
        Binding("slash", "filter('tags')", "filter", group=_FILTER, key_display="/"),
        Binding("f", "filter('runs')", "filter", group=_FILTER, key_display="f"),
        Binding("p", "pin", "pin"),
    ]

    @dataclass
    class Polled(Message):
        """The runs as last read; a newer snapshot replaces an older one still queued."""

        snapshot: WatchSnapshot
        """Every run at one moment."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, WatchPane.Polled)

    @dataclass
    class Failed(Message):
        """Watching stopped on an unexpected error; ``text`` says what happened."""

        text: str
        """The message for the user."""

    def __init__(self, path: str, stall_after: float | None = None, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.path = path
        """What is watched."""
        self.stall_after = stall_after
        """Seconds without a point before a run is stalled (None: the core's default)."""
        self.snapshot: WatchSnapshot | None = None
        """The latest snapshot received."""
        self.polls = 0
        """Snapshots received (tests wait on it)."""
        self.view = WatchView()
        """Scales, smoothing, zoom, filters and pins: what the keys change."""
        self.watch: Watch | None = None
        """The runs as read so far; kept while polling is paused, so that coming back reads on."""
        self._drawn: dict[str, tuple] = {}
        """Chart id → what it last drew (redraw only on change)."""
        self._chart_ids: dict[str, str] = {}
        """Chart key → the id of its widget."""
        self._charts_drawn_at = 0.0
        self._shown: dict[str, str | Text] = {}
        """Selector → what the line shows now."""
        self.paused = False
        """Polling was stopped (the user went to the dataset panes); :meth:`resume` starts it again."""
        self._reading = threading.Lock()
        """Held while a worker reads: a worker cancelled on leaving may still be mid-read when the next starts."""

    def compose(self) -> ComposeResult:
        yield SystemStrip(id="watch-system")
        yield Static(f"watching {self.path} · reading…", id="watch-status", markup=False)
        yield Static("", id="watch-toolbar", markup=False)
        with Horizontal(id="watch-body"):
            with Vertical(id="watch-side"):
                yield RunList(self.view, id="watch-runs")
                yield TagList(self.view, id="watch-tags")
            with Vertical(id="watch-main"):
                yield Static("", id="watch-runinfo")
                yield FilterInput(id="watch-filter")
                yield VerticalScroll(id="watch-charts")
        yield Static("", id="watch-problems", markup=False)

    def on_mount(self) -> None:
        self.query_one("#watch-runs").border_title = "runs (space on/off, p pin)"
        self.query_one("#watch-tags").border_title = "tags"
        self.set_interval(REDRAW_INTERVAL, self.redraw)
        self.resume()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "narrow")

    # ------------------------------------------------------------------ the worker
    def resume(self) -> None:
        """Poll the files (again): a pane brought back reads on from where it paused."""
        self.paused = False
        self._poll_worker(self.path, self.stall_after)

    def stop(self) -> None:
        """Stop polling (the worker ends at its next wait); what was read stays for :meth:`resume`."""
        self.paused = True
        self.workers.cancel_group(self, "watch")

    def on_unmount(self) -> None:
        if self.watch is not None:
            with self._reading:
                self.watch.close()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _poll_worker(self, path: str, stall_after: float | None) -> None:
        from dataloupe.core.runlogs import STALL_AFTER, Watch

        def job(cancel: threading.Event) -> None:
            with self._reading:
                if self.watch is None:
                    self.watch = Watch(path, stall_after=stall_after or STALL_AFTER)
                    self.watch.rescan()  # list the runs before reading any: they show at once
                    self.post_message(self.Polled(self.watch.snapshot()))
            watch = self.watch
            while not cancel.is_set():
                started = time.monotonic()
                with self._reading:
                    if cancel.is_set():
                        break
                    snapshot = watch.poll(cancel, budget=POLL_BUDGET)
                self.post_message(self.Polled(snapshot))
                if snapshot.loading:
                    cancel.wait(LOADING_PAUSE)
                else:  # rest at least twice as long as the poll took: keys come first
                    cancel.wait(max(POLL_INTERVAL, 2 * (time.monotonic() - started)))

        run_job(self, job, lambda text, error: self.Failed(text) if error else None, what="Watching")

    def on_watch_pane_failed(self, message: Failed) -> None:
        self._show("#watch-status", f"stopped watching {self.path}: {message.text}")
        self.app.notify(message.text, title="Watching stopped", severity="error", timeout=12)

    def on_watch_pane_polled(self, message: Polled) -> None:
        first = self.snapshot is None
        self.snapshot = message.snapshot
        self.polls += 1
        self.view.meet([r.name for r in message.snapshot.runs])
        self.query_one(RunList).show_runs([r.name for r in message.snapshot.runs])
        self.query_one(TagList).show_tags([t.tag for r in message.snapshot.runs for t in r.tags])
        self.query_one(SystemStrip).follow({r.name: r.path for r in message.snapshot.runs})
        if first or self.polls <= 3:
            self.redraw(force=True)

    def on_system_strip_sampled(self, message: SystemStrip.Sampled) -> None:
        """Each run's writer process beside its name in the run list (and under its header, at the redraw)."""
        self.query_one(RunList).show_writers(message.snapshot.writers)

    # ------------------------------------------------------------------ keys
    def _changed(self) -> None:
        self.redraw(force=True)

    def action_log(self) -> None:
        """Linear ↔ log y on every chart."""
        self.view.toggle_log()
        self._changed()

    def action_x_axis(self) -> None:
        """Step → relative time → wall clock."""
        self.view.cycle_x()
        self._changed()

    def action_smoothing(self, by: int) -> None:
        """Smoothing weight one step up or down."""
        self.view.cycle_smoothing(by)
        self._changed()

    def action_zoom(self, levels: int) -> None:
        """Narrow or widen the x range."""
        self.view.zoom_by(levels)
        self._changed()

    def action_pan(self, direction: int) -> None:
        """Move the zoom window back or on."""
        self.view.pan(direction, self._extent())
        self._changed()

    def action_reset_zoom(self) -> None:
        """Everything in view, following new points."""
        self.view.reset_zoom()
        self._changed()

    def action_filter(self, what: str) -> None:
        """Type a tag filter (``/``) or a run filter (``f``)."""
        current = self.view.tag_filter.text if what == "tags" else self.view.run_filter.text
        self.query_one(FilterInput).open(what, current)

    def action_pin(self) -> None:
        """Pin the highlighted run on top, or unpin it."""
        run = self.query_one(RunList).highlighted_run()
        if run is not None:
            self.view.toggle_pin(run)
            self.query_one(RunList).rebuild()
            self._changed()

    def on_filter_input_typed(self, message: FilterInput.Typed) -> None:
        if message.what == "tags":
            self.view.set_tag_filter(message.text)
            self.query_one(TagList).rebuild()
        else:
            self.view.set_run_filter(message.text)
            self.query_one(RunList).rebuild()
        self._changed()

    def on_filter_input_left(self, message: FilterInput.Left) -> None:
        self.query_one(TagList if message.what == "tags" else RunList).focus()

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled) -> None:
        self.redraw(force=True)

    # ------------------------------------------------------------------ drawing
    def _extent(self) -> tuple[float, float] | None:
        if self.snapshot is None:
            return None
        shown = {t for r in self.snapshot.runs for t in r.columns if self.view.tag_shown(t)}
        return x_extent(self.view.drawn_runs(self.snapshot.runs), shown, self.view)

    def redraw(self, force: bool = False) -> None:
        """Refresh the status lines; redraw the charts whose data or view changed (while a backlog is
        read, every few seconds only, unless ``force``)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        runs = self.view.drawn_runs(snapshot.runs)
        window = self.view.window(self._extent())
        self._show("#watch-status", self._status(snapshot, len(runs)))
        self._show("#watch-toolbar", self.view.summary(window))
        self._show("#watch-runinfo", self._run_lines(runs, time.time()))
        self._show("#watch-problems", "\n".join(snapshot.problems[:MAX_PROBLEMS]))
        if (
            force
            or not snapshot.loading
            or time.monotonic() - self._charts_drawn_at >= LOADING_REDRAW_INTERVAL
        ):
            self._charts_drawn_at = time.monotonic()
            self._draw_charts(runs, window)

    def _show(self, selector: str, content: str | Text) -> None:
        """Update a line only when its text changed: an update of an auto-height line lays the whole
        screen out again, which a key should not wait for."""
        if self._shown.get(selector) != content:
            self._shown[selector] = content
            # the status line and the toolbar are one row high: no layout for them (a key changes the toolbar)
            self.query_one(selector, Static).update(content, layout=selector not in ONE_ROW)

    def _status(self, snapshot: WatchSnapshot, drawn: int) -> str:
        n = len(snapshot.runs)
        text = f"watching {snapshot.root} · {n:,} run{'s' if n != 1 else ''} ({drawn} shown)"
        if snapshot.unread:
            text += f" · reading… {snapshot.unread:,} not read yet"
        elif snapshot.loading:
            text += " · reading…"
        return text + " · Tab: runs/tags · space: on/off"

    def _run_lines(self, runs, now: float) -> Text:
        from dataloupe.core.runlogs.run import describe

        text = Text()
        system = self.query_one(SystemStrip).snapshot
        ascii_only = bool(getattr(self.app, "ascii_screen", False))
        for r in runs[:RUN_LINES]:
            style = "bold red" if r.first_bad or r.stalled else ""
            since = None if r.last_point_at is None else max(0.0, now - r.last_point_at)
            text.append(f"{self.view.marker(r.name, ascii_only)} ", style=self.view.rich_colour(r.name))
            text.append(f"{r.name}: ", style="bold")
            text.append(describe(r, since) + "\n", style=style)
            text.append_text(writer_line(system, r))
        return text

    @staticmethod
    def _in_view(container: VerticalScroll, chart: LineChart) -> bool:
        """Whether any of ``chart`` is inside the scrolled view of the charts."""
        top = container.scroll_offset.y
        region = chart.virtual_region
        return region.bottom > top and region.y < top + max(1, container.size.height)

    def _draw_charts(self, runs, window) -> None:
        from dataloupe.core.runlogs import group_tags

        snapshot = self.snapshot
        if snapshot is None:
            return
        ascii_only = bool(getattr(self.app, "ascii_screen", False))
        container = self.query_one("#watch-charts", VerticalScroll)
        seen: dict[str, None] = {}
        for r in snapshot.runs:
            for t in r.tags:
                seen.setdefault(t.tag)
        groups = group_tags(list(seen))
        order = sorted(groups, key=lambda k: 0 if "loss" in k.lower() else 1)
        for key in order:
            members = [t for t in groups[key] if self.view.tag_shown(t)]
            cid = self._chart_ids.setdefault(key, f"chart-{len(self._chart_ids)}")
            found = container.query(f"#{cid}")
            chart = found.first(LineChart) if found else None
            if chart is None:
                if not members:
                    continue
                title = key if len(groups[key]) > 1 else groups[key][0]
                chart = LineChart(title, x_label="step", id=cid)
                container.mount(chart)
            chart.display = bool(members)
            if not members:
                continue
            signature = (
                self.view.version,
                window,
                tuple(
                    (r.name, tag, len(r.columns.get(tag, ((),))[0]), r.points)
                    for r in runs
                    for tag in members
                ),
            )
            if cid in self._drawn and not self._in_view(container, chart):
                continue  # scrolled out of sight: drawn when it comes back (the next tick), not on every key
            if self._drawn.get(cid) != signature:
                self._drawn[cid] = signature
                title = key if len(groups[key]) > 1 else groups[key][0]
                chart.draw(chart_data(title, members, runs, self.view, window, ascii_only))
