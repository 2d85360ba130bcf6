"""The watch pane: training runs that dataloupe did not start, read live from their logs.

A thread worker polls :class:`dataloupe.core.runlogs.Watch` with the worker's cancel event and posts
each :class:`dataloupe.core.runlogs.WatchSnapshot` as a :class:`WatchPane.Polled` message (a newer one
replaces an older one still queued). The pane keeps only the latest snapshot and redraws
on a timer: the status lines every tick, a chart only when its data changed. The run list
and the tag list (space toggles, Tab moves between them) choose what the charts compare.

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
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from dataloupe.tui.widgets.line_chart import LineChart
from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from dataloupe.core.runlogs import RunSnapshot, WatchSnapshot

POLL_INTERVAL = 0.5
"""Seconds between two polls of the files when nothing is waiting (new points show within 2 s)."""
REDRAW_INTERVAL = 1.0
"""Seconds between two redraws of the charts and status lines."""
LOADING_REDRAW_INTERVAL = 3.0
"""Seconds between two chart redraws while a backlog is read (the reader needs the time more)."""
LEGEND_LINES = 4
"""Lines a chart names in its key at most before its raw lines go unnamed (their smoothed twin is named)."""
MAX_PROBLEMS = 6
"""Problems listed under the charts (the headless ``--once`` prints them all)."""
SMOOTH_FROM = 50
"""A tag with more points than this is drawn raw and smoothed; a sparser one (evaluations) as it is,
unless it has its chart to itself."""


class WatchPane(Vertical):
    """Runs read from log files: a run list, a tag list, and one chart per tag or pair of tags."""

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
        self._drawn: dict[str, tuple] = {}
        """Chart id → what it last drew (redraw only on change)."""
        self._groups: dict[str, list[str]] = {}
        """Chart key → its tags, in order of appearance."""
        self._chart_ids: dict[str, str] = {}
        """Chart key → the id of its widget."""
        self._charts_drawn_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static(f"watching {self.path} · reading…", id="watch-status")
        with Horizontal(id="watch-body"):
            with Vertical(id="watch-side"):
                yield SelectionList[str](id="watch-runs")
                yield SelectionList[str](id="watch-tags")
            with Vertical(id="watch-main"):
                yield Static("", id="watch-runinfo")
                yield VerticalScroll(id="watch-charts")
        yield Static("", id="watch-problems")

    def on_mount(self) -> None:
        self.query_one("#watch-runs").border_title = "runs (space: on/off)"
        self.query_one("#watch-tags").border_title = "tags"
        self.set_interval(REDRAW_INTERVAL, self.redraw)
        self._poll_worker(self.path, self.stall_after)

    # ------------------------------------------------------------------ the worker
    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _poll_worker(self, path: str, stall_after: float | None) -> None:
        from dataloupe.core.runlogs import STALL_AFTER, Watch

        def job(cancel: threading.Event) -> None:
            watch = Watch(path, stall_after=stall_after or STALL_AFTER)
            try:
                while not cancel.is_set():
                    snapshot = watch.poll(cancel)
                    self.post_message(self.Polled(snapshot))
                    if not snapshot.loading:
                        cancel.wait(POLL_INTERVAL)
            finally:
                watch.close()

        run_job(self, job, lambda text, error: self.Failed(text) if error else None, what="Watching")

    def on_watch_pane_failed(self, message: Failed) -> None:
        self.query_one("#watch-status", Static).update(f"stopped watching {self.path}: {message.text}")
        self.app.notify(message.text, title="Watching stopped", severity="error", timeout=12)

    def on_watch_pane_polled(self, message: Polled) -> None:
        first = self.snapshot is None
        self.snapshot = message.snapshot
        self.polls += 1
        self._update_lists(message.snapshot)
        if first:
            self.redraw()

    def stop(self) -> None:
        """Stop polling (the worker ends at its next wait)."""
        self.workers.cancel_group(self, "watch")

    # ------------------------------------------------------------------ lists
    def _update_lists(self, snapshot: WatchSnapshot) -> None:
        from dataloupe.core.runlogs import chart_key

        runs = self.query_one("#watch-runs", SelectionList)
        known = {runs.get_option_at_index(i).value for i in range(runs.option_count)}
        for r in snapshot.runs:
            if r.name not in known:
                runs.add_option(Selection(r.name, r.name, True))
        tags = self.query_one("#watch-tags", SelectionList)
        known_tags = {tags.get_option_at_index(i).value for i in range(tags.option_count)}
        for r in snapshot.runs:
            for t in r.tags:
                if t.tag not in known_tags:
                    known_tags.add(t.tag)
                    tags.add_option(Selection(t.tag, t.tag, True))
                    key = chart_key(t.tag)[0]
                    self._groups.setdefault(key, []).append(t.tag)
        for lst in (runs, tags):  # space acts on the highlighted line: start on the first
            if lst.highlighted is None and lst.option_count:
                lst.highlighted = 0

    def selected_runs(self) -> set[str]:
        """Names of the runs switched on."""
        return set(self.query_one("#watch-runs", SelectionList).selected)

    def selected_tags(self) -> set[str]:
        """Tags switched on."""
        return set(self.query_one("#watch-tags", SelectionList).selected)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.redraw(force=True)

    # ------------------------------------------------------------------ drawing
    def redraw(self, force: bool = False) -> None:
        """Refresh the status lines; redraw the charts whose data or selection changed (while a
        backlog is read, every few seconds only, unless ``force``)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        now = time.time()
        selected = self.selected_runs()
        runs = [r for r in snapshot.runs if r.name in selected]
        self.query_one("#watch-status", Static).update(self._status(snapshot))
        self.query_one("#watch-runinfo", Static).update(self._run_lines(snapshot, now))
        self.query_one("#watch-problems", Static).update("\n".join(snapshot.problems[:MAX_PROBLEMS]))
        if (
            force
            or not snapshot.loading
            or time.monotonic() - self._charts_drawn_at >= LOADING_REDRAW_INTERVAL
        ):
            self._charts_drawn_at = time.monotonic()
            self._draw_charts(runs)

    def _status(self, snapshot: WatchSnapshot) -> str:
        n = len(snapshot.runs)
        shown = len(self.selected_runs())
        text = f"watching {snapshot.root} · {n} run{'s' if n != 1 else ''} ({shown} shown)"
        if snapshot.loading:
            text += " · reading…"
        return text + " · Tab: runs/tags · space: on/off"

    def _run_lines(self, snapshot: WatchSnapshot, now: float) -> Text:
        from dataloupe.core.runlogs.run import describe

        text = Text()
        for r in snapshot.runs:
            style = "bold red" if r.first_bad or r.stalled else ""
            since = None if r.last_point_at is None else max(0.0, now - r.last_point_at)
            text.append(f"{r.name}: ", style="bold")
            text.append(describe(r, since) + "\n", style=style)
        return text

    def _draw_charts(self, runs: list[RunSnapshot]) -> None:
        from dataloupe.core.runlogs.series import chart_key, role_kind

        tags_on = self.selected_tags()
        container = self.query_one("#watch-charts", VerticalScroll)
        multi = len(runs) > 1
        order = sorted(self._groups, key=lambda k: 0 if "loss" in k.lower() else 1)
        for key in order:
            members = [t for t in self._groups[key] if t in tags_on]
            cid = self._chart_ids.setdefault(key, f"chart-{len(self._chart_ids)}")
            found = container.query(f"#{cid}")
            chart = found.first(LineChart) if found else None
            if chart is None:
                if not members:
                    continue
                title = key if len(self._groups[key]) > 1 else self._groups[key][0]
                chart = LineChart(title, x_label="step", id=cid)
                container.mount(chart)
            chart.display = bool(members)
            if not members:
                continue
            lines = []
            signature = []
            for r in runs:
                for tag in members:
                    cols = r.columns.get(tag)
                    if not cols or not cols[0]:
                        continue
                    steps, raw, smooth = cols
                    points = next((t.points for t in r.tags if t.tag == tag), 0)
                    signature.append((r.name, tag, points, len(steps)))
                    kind = role_kind(chart_key(tag)[1])
                    name = f"{r.name} {tag}" if multi else tag
                    if kind:
                        name += f" ({kind})"
                    if points > SMOOTH_FROM or (len(members) == 1 and points > 1):
                        lines.append((f"{name} raw", steps, raw))
                        lines.append((f"{name} smoothed", steps, smooth))
                    else:  # a few evaluations: the points themselves
                        lines.append((name, steps, raw))
            if len(lines) > LEGEND_LINES:  # a key that long would cover the chart: raw lines go unnamed
                lines = [("" if label.endswith(" raw") else label, xs, ys) for label, xs, ys in lines]
            sig = tuple(signature)
            if self._drawn.get(cid) != sig:
                self._drawn[cid] = sig
                chart.show(lines)
