"""A bar chart of class counts: one split's counts, or the shares of train and test side by side.

Drawn cell by cell (not with plotext) so that it can promise three things: a bar's height is
true to its value to an eighth of a row (a class of 4 samples is a sliver beside one of 130),
groups of bars have a gap between them, and the count axis has whole-number ticks. The key
sits in the title line, never over the bars. Without colour the two series differ by fill,
and in ASCII mode every character is 7-bit. When the classes cannot get one column per bar,
the chart says how wide it would need to be instead of dropping classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from dataloupe.tui.terminal import Glyphs, app_glyphs
from dataloupe.tui.widgets.axes import whole_ticks

SERIES_COLOURS = ("cyan", "dark_orange")
"""Bar colours of the first and second series (train, test)."""
MIN_ROWS = 6
"""Rows the chart needs: title, three rows of bars, the axis line and the class names."""
AXIS_STYLE = "dim"
"""Style of the axis lines and tick labels."""


@dataclass(frozen=True)
class ChartData:
    """What the chart draws: a value per class for each series."""

    classes: tuple[str, ...]
    """Class names, one per bar group."""
    series: tuple[tuple[str, tuple[float, ...]], ...]
    """(name, one value per class) for each series: one series, or train and test."""
    title: str
    """Above the chart: "train: samples per class", "share of each split (%)"."""


@dataclass(frozen=True)
class BarLayout:
    """Where the bars go in a chart of a given size."""

    plot_rows: int
    """Rows the bars may fill."""
    label_width: int
    """Columns of the tick labels left of the axis."""
    group_width: int
    """Columns per class: its bars and the gap after them."""
    bar_width: int
    """Columns of one bar."""
    ticks: tuple[int, ...]
    """Values of the axis ticks, bottom to top; the last is the top of the plot."""


class ClassChart(Widget):
    """Bars of class counts; :meth:`show` replaces the data and redraws once."""

    DEFAULT_CSS = """
    ClassChart {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.data: ChartData | None = None
        """What is drawn now (None: nothing yet)."""

    def show(self, data: ChartData | None) -> None:
        """Draw ``data`` (None clears the chart)."""
        self.data = data
        self.replot()

    def replot(self) -> None:
        """Draw again (the chart is rebuilt from :attr:`data` at every render)."""
        self.refresh()

    def on_resize(self) -> None:
        self.refresh()

    # ------------------------------------------------------------------ geometry
    def layout_for(self, width: int, height: int) -> BarLayout | None:
        """The bar geometry for a ``width`` × ``height`` chart; None when the bars do not fit."""
        data = self.data
        if data is None or not data.classes or not data.series:
            return None
        plot_rows = height - 3  # title above; axis line and class names below
        if height < MIN_ROWS:
            return None
        top = max((v for _, values in data.series for v in values), default=0.0)
        ticks = tuple(whole_ticks(0, max(top, 1.0), max(1, plot_rows // 2)))
        label_width = max(len(f"{t:,}") for t in ticks)
        plot_width = width - label_width - 1
        n, s = len(data.classes), len(data.series)
        group = plot_width // n if n else 0
        if group < s:
            return None
        gap = 1 if group > s else 0
        bar = max(1, min(6, (group - gap) // s))
        return BarLayout(plot_rows, label_width, group, bar, ticks)

    def needed_width(self) -> int:
        """Columns the chart needs to give every class one column per bar and a gap."""
        data = self.data
        if data is None:
            return 0
        top = max((v for _, values in data.series for v in values), default=1.0)
        return len(f"{int(top) * 10:,}") + 1 + len(data.classes) * (len(data.series) + 1)

    def bar_eighths(self, layout: BarLayout) -> list[list[int]]:
        """Each bar's height in eighths of a row, per series and class (0 only for a value of 0)."""
        data = self.data
        assert data is not None
        full = layout.plot_rows * 8
        top = layout.ticks[-1]
        heights = []
        for _, values in data.series:
            row = []
            for v in values:
                h = round(v / top * full) if top else 0
                row.append(max(h, 1) if v > 0 else 0)
            heights.append(row)
        return heights

    # ------------------------------------------------------------------ drawing
    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        g = app_glyphs(self.app)
        data = self.data
        if data is None or not data.classes or not data.series:
            return Text("no counts yet", style="dim", justify="center")
        text = Text(no_wrap=True, overflow="crop")
        text.append_text(self._title(data, g, width))
        layout = self.layout_for(width, height)
        if layout is None:
            need_w, need_h = self.needed_width(), MIN_ROWS
            screen = self.app.size
            term_w = screen.width + max(0, need_w - width)
            term_h = screen.height + max(0, need_h - height)
            text.append(
                f"\n{len(data.classes)} classes do not fit in {width}×{height}: the chart needs "
                f"{need_w}×{need_h}. Make the terminal at least {term_w}×{term_h}; the table lists "
                "every class.",
                style="italic",
            )
            text.no_wrap = False
            return text
        eighths = self.bar_eighths(layout)
        lw, rows = layout.label_width, layout.plot_rows
        top = layout.ticks[-1]
        labels = {rows - round(t / top * rows): f"{t:,}" for t in layout.ticks[1:]}
        axis_v = "|" if g.ascii else "│"
        tick_v = "+" if g.ascii else "┤"
        for r in range(rows):  # r = 0 is the top row
            text.append("\n")
            label = labels.get(r)
            text.append((label or "").rjust(lw), style=AXIS_STYLE)
            text.append(tick_v if label else axis_v, style=AXIS_STYLE)
            level = (rows - 1 - r) * 8  # eighths below this row
            for k in range(len(data.classes)):
                used = 0
                for si in range(len(data.series)):
                    h = eighths[si][k] - level
                    cell = self._cell(h, si, g)
                    text.append(cell * layout.bar_width, style=SERIES_COLOURS[si % 2])
                    used += layout.bar_width
                text.append(" " * (layout.group_width - used))
        text.append("\n")
        text.append("0".rjust(lw), style=AXIS_STYLE)
        corner, line = ("+", "-") if g.ascii else ("└", "─")
        text.append(corner + line * (layout.group_width * len(data.classes)), style=AXIS_STYLE)
        text.append("\n" + " " * (lw + 1))
        text.append(self._class_names(data.classes, layout, g))
        return text

    @staticmethod
    def _cell(eighths: int, series: int, g: Glyphs) -> str:
        """The character of a bar in a row where ``eighths`` of its height remain."""
        if eighths <= 0:
            return " "
        if eighths >= 8:
            return g.bars[series % 2]
        if g.ascii:
            return "." if eighths < 4 else g.bars[series % 2]
        return g.eighths[eighths - 1]

    @staticmethod
    def _title(data: ChartData, g: Glyphs, width: int) -> Text:
        """The title and, for two series, the key: which fill and colour is which split.

        When the line is too short for both, the title is cut and the key kept whole.
        """
        key = Text()
        if len(data.series) > 1:
            for si, (name, _) in enumerate(data.series):
                key.append("  ")
                key.append(g.bars[si % 2] * 2, style=SERIES_COLOURS[si % 2])
                key.append(f" {name}")
        title = Text(data.title, style="bold")
        room = max(1, width - key.cell_len)
        if title.cell_len > room:
            title.truncate(max(1, room - 1))
            title.append("~" if g.ascii else "…", style="bold")
        title.append_text(key)
        title.truncate(max(1, width))
        title.align("center", max(1, width))
        return title

    @staticmethod
    def _class_names(classes: tuple[str, ...], layout: BarLayout, g: Glyphs) -> Text:
        """Class names centred under their bars; a name that would run into the last one is left out."""
        line = [" "] * (layout.group_width * len(classes))
        room = max(1, layout.group_width - 1)
        free_from = 0
        for k, name in enumerate(classes):
            short = _short(name, room, g)
            centre = k * layout.group_width + (layout.group_width - 1) // 2
            start = max(free_from, centre - (len(short) - 1) // 2)
            if start + len(short) > len(line) or start > centre:
                continue
            line[start : start + len(short)] = short
            free_from = start + len(short) + 1
        return Text("".join(line).rstrip())


def _short(name: str, width: int, g: Glyphs) -> str:
    """A class name short enough to sit under its bar."""
    if len(name) <= width:
        return name
    return name[: width - 1] + ("~" if g.ascii else "…") if width > 1 else name[:1]
