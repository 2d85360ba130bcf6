"""Test accuracy per class as horizontal bars: a weak class hides inside a good overall accuracy.

Each class takes one row. When the chart has fewer rows (or columns) than its classes need, it
says so and names the terminal size that shows them all, rather than letting plotext drop
every other class.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from dataloupe.tui.terminal import app_glyphs

MAX_BARS = 20
"""More classes than this: only the weakest are drawn, so each bar keeps a readable height."""
FRAME_ROWS = 4
"""Rows besides the bars: title, the frame's top and bottom, tick labels."""
MIN_BAR_COLUMNS = 10
"""Columns a bar needs besides the class names and the frame, to tell 50% from 90%."""


class PerClassChart(PlotextPlot):
    """One bar per class (the weakest ``MAX_BARS`` when there are more)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.bars: tuple[tuple[str, float], ...] = ()
        """(class name, accuracy %) last drawn, top to bottom."""
        self.updates = 0
        """Times new data was plotted."""

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title("test accuracy % per class")

    def show(self, names: Sequence[str], accuracies: Sequence[float | None]) -> None:
        """Bars for the classes that have test samples (accuracies 0..1, None for an absent class)."""
        pairs = [(n, 100 * a) for n, a in zip(names, accuracies, strict=False) if a is not None]
        title = "test accuracy % per class"
        if len(pairs) > MAX_BARS:
            pairs = sorted(pairs, key=lambda p: p[1])[:MAX_BARS]
            title = f"weakest {MAX_BARS} of {len(names)} classes: test accuracy %"
        self.plt.clear_data()
        self.plt.title(title)
        if pairs:
            # plotext draws the first bar at the bottom; reverse so the list reads top-down
            shown = list(reversed(pairs))
            marker = app_glyphs(self.app).bars[0]
            self.plt.bar(
                [n for n, _ in shown],
                [a for _, a in shown],
                orientation="horizontal",
                width=0.4,
                marker=marker,
            )
            self.plt.xlim(0, 100)
        self.bars = tuple(pairs)
        self.updates += 1
        self.refresh()

    def needed_size(self) -> tuple[int, int]:
        """(columns, rows) this chart needs to draw every bar it holds."""
        names = max((len(str(n)) for n, _ in self.bars), default=1)
        return names + 3 + MIN_BAR_COLUMNS, len(self.bars) + FRAME_ROWS

    def too_small(self) -> str | None:
        """What is missing, naming the terminal size that shows every class; None when the bars fit."""
        if not self.bars:
            return None
        need_w, need_h = self.needed_size()
        width, height = self.size
        if width >= need_w and height >= need_h:
            return None
        screen = self.app.size
        term_w = screen.width + max(0, need_w - width)
        term_h = screen.height + max(0, need_h - height)
        return (
            f"{len(self.bars)} classes need {need_w}×{need_h} for one bar each; this chart has "
            f"{width}×{height}. Make the terminal at least {term_w}×{term_h} to see them all."
        )

    def render(self) -> RenderResult:
        problem = self.too_small()
        if problem is not None:
            return Text(problem, style="italic")
        return super().render()

    def on_resize(self) -> None:
        self.refresh()
