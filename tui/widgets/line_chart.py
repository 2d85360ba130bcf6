"""The line chart of every pane: labelled lines against x, drawn from a bounded number of points.

The training pane's loss and accuracy charts (:mod:`dataloupe.tui.widgets.loss_chart`,
:mod:`dataloupe.tui.widgets.accuracy_chart`) are configurations of it, and the watch pane draws each tag,
or pair of tags, of any run with it. plotext rebuilds the whole figure on the UI thread at every
render, so :meth:`LineChart.show` thins each line (:func:`thin`) until the chart holds at most
:data:`MAX_POINTS_PER_CHART` points, and the panes call it a few times a second at most.

Lines differ by marker as well as by colour, so they stay apart under ``NO_COLOR`` and in ASCII.
The key is in the title when the chart's lines are known in advance (train and test), else in
plotext's legend. A percent chart draws fractions as percent, its y axis spanning the lines with
whole-number ticks (:mod:`dataloupe.tui.widgets.axes`) instead of 0 to 100.

    python -c "from dataloupe.tui.widgets.line_chart import thin; print(thin(range(10), range(10), 4))"
"""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from dataloupe.tui.terminal import app_glyphs
from dataloupe.tui.widgets.axes import log_ticks, round_ticks, time_ticks, value_ticks, whole_ticks
from dataloupe.tui.widgets.chart_data import ChartData

Line = tuple[str, Sequence[float], Sequence[float]]
"""(label, xs, values) of one line; an empty label leaves the line out of the legend."""
MAX_POINTS_PER_LINE = 200
"""Points drawn per line unless a chart asks for more: plotext redraws every one of them on the UI thread."""
MAX_POINTS_PER_CHART = 1200
"""Points drawn per chart however many runs and lines it compares (about 0.1 s to build on these machines)."""
MIN_POINTS_PER_LINE = 20
"""Points a line keeps however many lines share the chart, so that each still has a shape."""
LINE_COLOURS = ("cyan", "orange")
"""plotext colours of the training charts' lines (the bar chart's colours), in turn."""
FRAME_ROWS = 4
"""Rows besides the plot: title, the frame's top and bottom, tick labels (an x label takes one more)."""
MARKS_PER_LINE = 8
"""Markers set along a watch chart's line so that its run is known without colour."""
X_LABELS = {"step": "step", "relative": "time since start", "wall": "wall clock"}
"""The x label of a watch chart per x axis."""


def thin(xs: Sequence[float], ys: Sequence[float], limit: int = MAX_POINTS_PER_LINE) -> tuple[list, list]:
    """At most ``limit`` evenly spaced points of a line, the last one always kept."""
    n = len(xs)
    if n <= limit:
        return list(xs), list(ys)
    idx = [round(i * (n - 1) / (limit - 1)) for i in range(limit)]
    return [xs[i] for i in idx], [ys[i] for i in idx]


class LineChart(PlotextPlot):
    """A titled line chart; :meth:`show` replaces every line at once."""

    def __init__(
        self,
        title: str,
        *,
        x_label: str = "",
        key: Sequence[str] = (),
        percent: bool = False,
        colours: Sequence[str] = (),
        line_points: int = MAX_POINTS_PER_LINE,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id)
        self.title = title
        """What the chart shows (the tag, the pair's shared name, or the quantity and its unit)."""
        self.x_label = x_label
        """Label under the x ticks ("" keeps the row for the lines: put the unit in the title)."""
        self.key = tuple(key)
        """Names of the lines in order, shown in the title beside their markers (empty: plotext's legend)."""
        self.percent = percent
        """Values are fractions drawn as percent, on whole-number ticks that span the lines."""
        self.colours = tuple(colours)
        """plotext colours of the lines in turn (empty: plotext's own sequence)."""
        self.line_points = line_points
        """Points a line keeps when the chart draws few lines."""
        self.points = 0
        """Points of the longest line drawn in the last update (steps or evaluations shown)."""
        self.drawn = 0
        """Points drawn in the last update, all lines together (at most :data:`MAX_POINTS_PER_CHART`)."""
        self.updates = 0
        """Times new data was plotted (tests watch it grow)."""
        self.labels: tuple[str, ...] = ()
        """Labels of the lines drawn (empty labels left out)."""
        self.lines = 0
        """Lines drawn."""
        self.y_range: tuple[float, float] | None = None
        """The y axis last drawn by a percent chart or a watch chart (log10 on a log chart), else None."""
        self.y_labels: tuple[str, ...] = ()
        """The y tick labels a watch chart last drew."""
        self.x_labels: tuple[str, ...] = ()
        """The x tick labels a watch chart last drew."""
        self.data: ChartData | None = None
        """What a watch chart last drew (its title and traces)."""
        self._figure: tuple[tuple, object] | None = None
        """(what it was built for, the figure) of the last build."""

    def render(self):
        """The figure, built again only when its data, size or theme changed: plotext builds the whole
        figure on the UI thread, and a chart shown again (``v`` back to the curves) or laid out again
        with the same data would otherwise rebuild the figure it already has."""
        key = (self.updates, self.size, self.app.theme)
        if self._figure is None or self._figure[0] != key:
            self._figure = (key, super().render())
        return self._figure[1]

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title(self.title_text())
        if self.x_label:
            self.plt.xlabel(self.x_label)

    def title_text(self) -> str:
        """The title, with the key when the lines are named in advance: which marker is which line."""
        if not self.key:
            return self.title
        keys = app_glyphs(self.app).line_keys
        return f"{self.title}: " + ", ".join(f"{keys[i % len(keys)]} {n}" for i, n in enumerate(self.key))

    def show(self, lines: Sequence[Line]) -> None:
        """Plot ``lines``, each thinned so that the chart draws :data:`MAX_POINTS_PER_CHART` points at most."""
        plt = self.plt
        plt.clear_data()
        plt.title(self.title_text())
        self.y_range = None
        limit = max(MIN_POINTS_PER_LINE, min(self.line_points, MAX_POINTS_PER_CHART // max(1, len(lines))))
        markers = app_glyphs(self.app).lines
        drawn: list[tuple[str, list, list]] = []
        for i, (label, xs, ys) in enumerate(lines):
            if not xs:
                continue
            tx, ty = thin(xs, ys, limit)
            if self.percent:
                ty = [100 * y for y in ty]
            style = {"color": self.colours[i % len(self.colours)]} if self.colours else {}
            legend = None if self.key else label or None  # a key in the title: no legend over the lines
            plt.plot(tx, ty, label=legend, marker=markers[i % len(markers)], **style)
            drawn.append((label, tx, ty))
        if self.percent and drawn:
            self._percent_axis([y for _, _, ty in drawn for y in ty])
        self._x_axis([x for _, tx, _ in drawn for x in tx])
        self.points = max((len(tx) for _, tx, _ in drawn), default=0)
        self.drawn = sum(len(tx) for _, tx, _ in drawn)
        self.lines = len(drawn)
        self.labels = tuple(label for label, _, _ in drawn if label)
        self.updates += 1
        self.refresh()

    def draw(self, data: ChartData) -> None:
        """Plot a watch chart: its traces (thinned so that the chart draws :data:`MAX_POINTS_PER_CHART`
        points at most), y ticks on round numbers or decades, x ticks on round steps or times."""
        self.data = data
        plt = self.plt
        plt.clear_data()
        plt.title(data.title)
        plt.xlabel(X_LABELS[data.x_axis])
        self.y_range = None
        glyphs = app_glyphs(self.app)
        line = glyphs.lines[0]  # braille, or "*" in ASCII
        faint = "." if glyphs.ascii else "·"
        traces = [t for t in data.traces if t.xs]
        columns = max(20, (self.size.width or 80) - 10)  # the plot's width, about
        # braille draws two points per column: more is plotext's time spent on nothing
        limit = max(MIN_POINTS_PER_LINE, min(2 * columns, MAX_POINTS_PER_CHART // max(1, len(traces))))
        xs_all: list[float] = []
        ys_all: list[float] = []
        longest = drawn = 0
        for trace in traces:
            tx, ty = thin(trace.xs, trace.ys, columns if trace.kind == "faint" else limit)
            if trace.kind == "points":
                plt.scatter(tx, ty, marker=trace.marker, color=trace.colour)
            elif trace.kind == "faint":  # dots, not braille: plotext's braille pass is most of a build
                plt.scatter(tx, ty, marker=faint, color=trace.colour)
            else:
                plt.plot(tx, ty, marker=line, color=trace.colour)
                if trace.kind == "line":
                    mx, my = thin(tx, ty, MARKS_PER_LINE)
                    plt.scatter(mx, my, marker=trace.marker, color=trace.colour)
            xs_all += (tx[0], tx[-1])
            ys_all += (min(ty), max(ty))
            longest, drawn = max(longest, len(tx)), drawn + len(tx)
        rows = max(2, (self.size.height or 16) - FRAME_ROWS - 1)
        if ys_all:
            ticker = log_ticks if data.log_y else value_ticks
            low, high, ticks, labels = ticker(min(ys_all), max(ys_all), max(1, rows // 3))
            plt.ylim(low, high)
            plt.yticks(ticks, labels)
            self.y_range = (low, high)
            self.y_labels = tuple(labels)
        if xs_all or data.x_range:
            low, high = data.x_range or (min(xs_all), max(xs_all))
            if data.x_range:
                plt.xlim(low, high)
            cols = max(12, (self.size.width or 40) - 12)
            if data.x_axis == "step":
                width = len(f"{high:,.0f}") + 3
                ticks, labels = round_ticks(low, high, max(1, min(8, cols // width)), whole=True)
            else:
                ticks, labels = time_ticks(low, high, max(1, cols // 10), clock=data.x_axis == "wall")
            plt.xticks(ticks, labels)
            self.x_labels = tuple(labels)
        self.points, self.drawn, self.lines = longest, drawn, len(traces)
        self.labels = tuple(t.label for t in traces if t.label)
        self.updates += 1
        self.refresh()

    def _x_axis(self, xs: list[float]) -> None:
        """x ticks at a round step (whole numbers when every x is one: steps, epochs). plotext's own
        split the span evenly, and labelled steps 1 to 20 as 1.0, 5.8, 10.5, 15.2, 20.0."""
        if not xs:
            return
        low, high = float(min(xs)), float(max(xs))
        width = len(f"{high:,.0f}") + 3  # a label and the gap to the next
        cols = max(width, (self.size.width or 40) - 10)
        whole = all(float(x).is_integer() for x in xs)
        ticks, labels = round_ticks(low, high, max(1, min(8, cols // width)), whole=whole)
        self.plt.xticks(ticks, labels)

    def _percent_axis(self, values: list[float]) -> None:
        """A y axis from just below to just above ``values`` (percent), on whole-number ticks within 0..100."""
        rows = max(2, (self.size.height or 12) - FRAME_ROWS - bool(self.x_label))
        ticks = whole_ticks(max(0.0, min(values) - 1), min(100.0, max(values) + 1), max(1, rows // 2))
        low, high = max(0, ticks[0]), min(100, ticks[-1])
        self.plt.ylim(low, high)
        self.plt.yticks([t for t in ticks if low <= t <= high])
        self.y_range = (float(low), float(high))
