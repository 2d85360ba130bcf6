"""What the watch screen shows and how: scales, smoothing, x axis, zoom, filters, pins, and the
lines of each chart built from a snapshot. No Textual here: the pane keeps one :class:`WatchView`,
changes it on keys, and draws what :func:`chart_data` returns; tests and the benchmark call it
directly.

Every run keeps one colour and one marker, given in the order runs are first seen, on every
chart and in the run list, so that a run is known by its marker without colour. A training
line is drawn as a line with its run's marker every few columns; evaluations (sparse,
out-of-sample tags) as the markers alone; the raw values, when smoothed, faint behind.

    python -c "from dataloupe.tui.panes.watch_view import WatchView; v = WatchView(); v.cycle_smoothing(1); print(v.weight)"
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dataloupe.core.runlogs.filters import NameFilter
from dataloupe.core.runlogs.series import chart_key, role_kind, smooth
from dataloupe.core.wording import plural
from dataloupe.tui.widgets.chart_data import ChartData, Trace, TraceKind, XAxis

if TYPE_CHECKING:
    from dataloupe.core.runlogs import RunSnapshot

SMOOTHING_WEIGHTS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)
"""The smoothing weights ``s`` and ``S`` step through (TensorBoard's slider, in the steps users pick)."""
DEFAULT_SMOOTHING = 3
"""Index of the weight a screen starts with (0.9)."""
X_AXES = ("step", "relative", "wall")
"""What ``x`` cycles through: the step, the time since the run's first point, the wall clock."""
X_TITLES = {"step": "step", "relative": "time since start", "wall": "wall clock"}
"""How the toolbar names each x axis."""
RUN_COLOURS = ("cyan", "orange", "magenta+", "green+", "red+", "blue+", "yellow", "white")
"""plotext colours given to runs in turn."""
RICH_COLOURS = (
    "cyan",
    "dark_orange",
    "bright_magenta",
    "bright_green",
    "bright_red",
    "bright_blue",
    "yellow",
    "white",
)
"""The same colours for Rich text (the run list, the run lines)."""
RUN_MARKERS = ("•", "■", "▲", "◆", "+", "x", "o", "#")
"""Markers given to runs in turn (Unicode)."""
ASCII_RUN_MARKERS = ("*", "o", "+", "x", "#", "@", "%", "&")
"""Markers given to runs in turn under ``--ascii``."""
FAINT = 244
"""plotext colour (grey of the 256) of the raw values drawn behind their smoothed line."""
MAX_CHART_RUNS = 8
"""Runs a chart compares at most (pinned first): a folder of 2,000 runs must not draw 2,000 lines, and
eight runs in first-seen order have eight different colours and markers."""
DRAW_POINTS = 400
"""Points of a series passed to a chart at most (after smoothing, which needs them all): two per column
of the widest plot; the chart thins them again to its own width."""
SMOOTH_FROM = 50
"""A tag with more points than this is smoothed; a sparser one (evaluations) is drawn as it is,
unless it has its chart to itself."""


@dataclass
class WatchView:
    """The screen's choices, kept while the user goes to the dataset panes and back."""

    log_y: bool = False
    """Log scale on every chart's y axis."""
    smoothing: int = DEFAULT_SMOOTHING
    """Index into :data:`SMOOTHING_WEIGHTS`."""
    x_axis: XAxis = "step"
    """The x axis of every chart."""
    zoom: int = 0
    """0 shows everything; each level halves the x range shown."""
    zoom_end: float | None = None
    """Right edge of the zoom window; None follows the newest point."""
    tag_filter: NameFilter = field(default_factory=NameFilter)
    """Tags shown (``/``)."""
    run_filter: NameFilter = field(default_factory=NameFilter)
    """Runs shown (``f``)."""
    pinned: list[str] = field(default_factory=list)
    """Runs drawn on top and listed first, in the order pinned."""
    runs_off: set[str] = field(default_factory=set)
    """Runs switched off in the run list."""
    tags_off: set[str] = field(default_factory=set)
    """Tags switched off in the tag list."""
    order: dict[str, int] = field(default_factory=dict)
    """Run → its place in order of first sight: its colour and marker."""
    version: int = 0
    """Grows at every change (charts redraw when it moves)."""

    # ------------------------------------------------------------------ choices
    @property
    def weight(self) -> float:
        """The smoothing weight."""
        return SMOOTHING_WEIGHTS[self.smoothing]

    def changed(self) -> None:
        """Note a change: every chart redraws."""
        self.version += 1

    def toggle_log(self) -> None:
        """Linear ↔ log y."""
        self.log_y = not self.log_y
        self.changed()

    def cycle_smoothing(self, by: int) -> None:
        """One weight up (1) or down (-1), staying within 0 … 0.99."""
        self.smoothing = min(len(SMOOTHING_WEIGHTS) - 1, max(0, self.smoothing + by))
        self.changed()

    def cycle_x(self) -> None:
        """step → relative time → wall clock → step; the zoom is reset (its range was in the old unit)."""
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self.zoom, self.zoom_end = 0, None
        self.changed()

    def zoom_by(self, levels: int) -> None:
        """Narrow (1) or widen (-1) the x range shown; the window's right edge stays."""
        self.zoom = max(0, min(12, self.zoom + levels))
        if self.zoom == 0:
            self.zoom_end = None
        self.changed()

    def pan(self, direction: int, extent: tuple[float, float] | None) -> None:
        """Move the zoom window half its width back (-1) or on (1); reaching the newest point follows it."""
        if not self.zoom or extent is None:
            return
        low, high = extent
        width = (high - low) / 2**self.zoom
        end = high if self.zoom_end is None else self.zoom_end
        end = max(low + width, end + direction * width / 2)
        self.zoom_end = None if end >= high else end
        self.changed()

    def reset_zoom(self) -> None:
        """Everything in view again, following new points."""
        self.zoom, self.zoom_end = 0, None
        self.changed()

    def window(self, extent: tuple[float, float] | None) -> tuple[float, float] | None:
        """The x range shown, from the x range of everything shown; None when not zoomed."""
        if not self.zoom or extent is None:
            return None
        low, high = extent
        width = (high - low) / 2**self.zoom
        end = high if self.zoom_end is None else min(high, self.zoom_end)
        return end - width, end

    def set_tag_filter(self, text: str) -> None:
        self.tag_filter = NameFilter(text)
        self.changed()

    def set_run_filter(self, text: str) -> None:
        self.run_filter = NameFilter(text)
        self.changed()

    def toggle_pin(self, run: str) -> None:
        """Pin ``run`` on top, or unpin it."""
        if run in self.pinned:
            self.pinned.remove(run)
        else:
            self.pinned.append(run)
        self.changed()

    # ------------------------------------------------------------------ who is shown, and how
    def meet(self, names: Sequence[str]) -> None:
        """Give runs seen for the first time their colour and marker."""
        for name in names:
            if name not in self.order:
                self.order[name] = len(self.order)

    def colour(self, run: str) -> str:
        """The run's colour on every chart."""
        return RUN_COLOURS[self.order.get(run, 0) % len(RUN_COLOURS)]

    def rich_colour(self, run: str) -> str:
        """The run's colour in the lists and run lines."""
        return RICH_COLOURS[self.order.get(run, 0) % len(RICH_COLOURS)]

    def marker(self, run: str, ascii_only: bool = False) -> str:
        """The run's marker on every chart and in the run list."""
        markers = ASCII_RUN_MARKERS if ascii_only else RUN_MARKERS
        return markers[self.order.get(run, 0) % len(markers)]

    def listed_runs(self, names: Sequence[str]) -> list[str]:
        """Runs in the run list: those the filter keeps (pinned ones always), pinned first."""
        kept = [n for n in names if n in self.pinned or self.run_filter.matches(n)]
        return [n for n in self.pinned if n in kept] + [n for n in kept if n not in self.pinned]

    def drawn_runs(self, runs: Sequence[RunSnapshot]) -> list[RunSnapshot]:
        """Runs the charts compare: listed and switched on, pinned first, :data:`MAX_CHART_RUNS` at most."""
        by_name = {r.name: r for r in runs}
        names = [n for n in self.listed_runs(list(by_name)) if n not in self.runs_off]
        return [by_name[n] for n in names[:MAX_CHART_RUNS]]

    def tag_shown(self, tag: str) -> bool:
        """Whether ``tag`` passes the filter and is switched on."""
        return tag not in self.tags_off and self.tag_filter.matches(tag)

    def x_of(self, run: RunSnapshot, steps: Sequence[float], walls: Sequence[float]) -> Sequence[float]:
        """A series' x values in the chosen axis (steps when the log has no times)."""
        if self.x_axis == "step" or not run.timed:
            return steps  # chart_data leaves untimed runs off a time axis
        if self.x_axis == "wall":
            return walls
        start = run.started_at or (walls[0] if walls else 0.0)
        return [w - start for w in walls]

    def summary(self, window: tuple[float, float] | None) -> str:
        """The toolbar: scale, x axis, smoothing, zoom and filters, with their keys."""
        parts = [
            f"y {'log' if self.log_y else 'linear'}",
            f"x {X_TITLES[self.x_axis]}",
            f"smoothing {self.weight:g}" if self.weight else "smoothing off",
        ]
        if window is None:
            parts.append("zoom: all")
        else:
            low, high = window
            span = _span(high - low, self.x_axis)
            parts.append(f"zoom: last {span}, following" if self.zoom_end is None else f"zoom: {span} window")
        if self.tag_filter.text:
            parts.append(f"tags /{self.tag_filter.text}/")
        if self.run_filter.text:
            parts.append(f"runs ~{self.run_filter.text}~")
        if self.pinned:
            parts.append(f"{plural(len(self.pinned), 'run')} pinned")
        return " · ".join(parts)


def _span(width: float, axis: XAxis) -> str:
    if axis == "step":
        return plural(max(1, round(width)), "step")
    from dataloupe.core.wording import duration

    return duration(width)


def x_extent(
    runs: Sequence[RunSnapshot], tags: set[str] | None, view: WatchView
) -> tuple[float, float] | None:
    """(first, last) x over the tags shown of ``runs``: what the zoom window cuts."""
    low, high = math.inf, -math.inf
    for run in runs:
        if view.x_axis != "step" and not run.timed:
            continue
        for tag, (steps, _, walls) in run.columns.items():
            if not steps or (tags is not None and tag not in tags):
                continue
            xs = view.x_of(run, steps, walls)
            low, high = min(low, xs[0]), max(high, xs[-1])
    return (low, high) if low <= high else None


def chart_data(
    name: str,
    tags: Sequence[str],
    runs: Sequence[RunSnapshot],
    view: WatchView,
    window: tuple[float, float] | None = None,
    ascii_only: bool = False,
) -> ChartData:
    """The traces of one chart (the tags of one group) over ``runs``, smoothed, cut to ``window`` and
    scaled as ``view`` says. Pinned runs are drawn last, on top."""
    weight = view.weight
    faint: list[Trace] = []
    front: list[Trace] = []
    dropped = 0
    roles: dict[str, TraceKind] = {}
    untimed = 0
    for run in reversed(runs):  # the first (pinned) runs last: plotext draws later series on top
        if view.x_axis != "step" and not run.timed:
            untimed += 1  # a log without times (Lightning's CSV) has no place on a time axis
            continue
        colour, marker = view.colour(run.name), view.marker(run.name, ascii_only)
        for tag in tags:
            cols = run.columns.get(tag)
            if not cols or not cols[0]:
                continue
            steps, values, walls = cols
            points = next((t.points for t in run.tags if t.tag == tag), len(steps))
            role = role_kind(chart_key(tag)[1])
            label = f"{run.name} {tag}" if len(runs) > 1 else tag
            xs = view.x_of(run, steps, walls)
            kind: TraceKind = "points" if role == "out-of-sample" else "line"
            roles[role or "in-sample"] = kind
            smoothed = bool(weight) and (points > SMOOTH_FROM or (len(tags) == 1 and points > 1))
            shown = smooth(values, weight) if smoothed else values
            if smoothed:
                fx, fy, lost = _cut(xs, values, window, view.log_y)
                faint.append(Trace("", run.name, fx, fy, FAINT, marker, "faint"))
                dropped += lost  # counted on the values as logged, not on their average
            tx, ty, lost = _cut(xs, shown, window, view.log_y)
            if not smoothed:
                dropped += lost
            front.append(Trace(label, run.name, tx, ty, colour, marker, kind))
    title = name + (" [log]" if view.log_y else "")
    if len(set(roles.values())) > 1:
        title += " · " + ", ".join(
            f"{role}: {'line' if k == 'line' else 'markers'}" for role, k in roles.items()
        )
    if dropped:
        title += f" · {plural(dropped, 'value')} ≤ 0 not drawn"
    if untimed:
        title += f" · {plural(untimed, 'run')} without times not drawn"
    return ChartData(title, tuple(faint + front), view.log_y, view.x_axis, window, dropped)


def _cut(
    xs: Sequence[float], ys: Sequence[float], window: tuple[float, float] | None, log_y: bool
) -> tuple[list[float], list[float], int]:
    """The points within ``window`` (xs are in order), finite, and on a log chart positive and as
    log10; and how many were left out for being ≤ 0."""
    if window is not None:
        lo, hi = bisect_left(xs, window[0]), bisect_right(xs, window[1])
        xs, ys = xs[lo:hi], ys[lo:hi]
    dropped = sum(1 for y in ys if y <= 0) if log_y else 0  # counted on every point, not the sample
    if len(xs) > DRAW_POINTS:  # decimate before the per-point work: the chart draws no more than this
        step = len(xs) / DRAW_POINTS
        keep = [int(i * step) for i in range(DRAW_POINTS)] + [len(xs) - 1]
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    out_x, out_y = [], []
    isfinite, log10 = math.isfinite, math.log10
    for x, y in zip(xs, ys, strict=False):
        if not isfinite(y):
            continue
        if log_y:
            if y <= 0:
                continue
            y = log10(y)
        out_x.append(x)
        out_y.append(y)
    return out_x, out_y, dropped
