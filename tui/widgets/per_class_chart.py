"""Test accuracy per class as horizontal bars: a weak class hides inside a good overall accuracy.

One row per class under a title: the name, a bar as long as the accuracy, the percent. Drawn as
text (not a plotext figure, which needs a frame and tick rows around the bars and rebuilds on the
UI thread at every render), so ten classes take eleven rows and fit the classes view at 80×24. When
the chart has fewer rows (or columns) than its classes need, it says so and names the terminal
size that shows them all, rather than dropping classes.

    python -c "from dataloupe.tui.widgets.per_class_chart import bar_rows; print(*bar_rows([('cat', 71.3)], 20, '#'), sep='\\n')"
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from dataloupe.tui.terminal import app_glyphs

MAX_BARS = 20
"""More classes than this: only the weakest are drawn, so the chart fits a terminal's height."""
TITLE_ROWS = 1
"""Rows besides the bars: the title."""
MIN_BAR_COLUMNS = 10
"""Columns a bar needs besides the class names and the percent, to tell 50% from 90%."""
PERCENT_COLUMNS = 7
"""Columns of the percent after a bar (" 100.0%")."""
NAME_COLUMNS = 12
"""Class names longer than this are cut, so that the bars keep their room."""


def bar_rows(pairs: Sequence[tuple[str, float]], width: int, block: str) -> list[str]:
    """One line per ``(name, percent)``, ``width`` columns each: the name, a bar of ``block``, the percent."""
    names = min(NAME_COLUMNS, max((len(n) for n, _ in pairs), default=1))
    room = max(1, width - names - 1 - PERCENT_COLUMNS)
    rows = []
    for name, percent in pairs:
        filled = round(room * max(0.0, min(100.0, percent)) / 100)
        rows.append(f"{name[:names]:>{names}} {block * filled}{' ' * (room - filled)}{percent:6.1f}%")
    return rows


class PerClassChart(Widget):
    """One bar per class (the weakest ``MAX_BARS`` when there are more)."""

    DEFAULT_CSS = """
    PerClassChart {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.bars: tuple[tuple[str, float], ...] = ()
        """(class name, accuracy %) last drawn, top to bottom."""
        self.title = "test accuracy % per class"
        """The line above the bars."""
        self.updates = 0
        """Times new data was plotted."""

    def show(self, names: Sequence[str], accuracies: Sequence[float | None]) -> None:
        """Bars for the classes that have test samples (accuracies 0..1, None for an absent class)."""
        pairs = [(str(n), 100 * a) for n, a in zip(names, accuracies, strict=False) if a is not None]
        self.title = "test accuracy % per class"
        if len(pairs) > MAX_BARS:
            pairs = sorted(pairs, key=lambda p: p[1])[:MAX_BARS]
            self.title = f"weakest {MAX_BARS} of {len(names)} classes: test accuracy %"
        self.bars = tuple(pairs)
        self.updates += 1
        self.refresh()

    def needed_size(self) -> tuple[int, int]:
        """(columns, rows) this chart needs to draw every bar it holds."""
        names = min(NAME_COLUMNS, max((len(n) for n, _ in self.bars), default=1))
        return names + 1 + MIN_BAR_COLUMNS + PERCENT_COLUMNS, len(self.bars) + TITLE_ROWS

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
        text = Text(self.title, style="bold", no_wrap=True, overflow="crop")
        if not self.bars:
            return text
        block = app_glyphs(self.app).bars[0]
        for row in bar_rows(self.bars, self.size.width, block):
            text.append("\n" + row, style="")
        return text

    def on_resize(self) -> None:
        self.refresh()
