"""Test accuracy per class as horizontal bars: a weak class hides inside a good overall accuracy."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

MAX_BARS = 20
"""More classes than this: only the weakest are drawn, so each bar keeps a readable height."""


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
            self.plt.bar([n for n, _ in shown], [a for _, a in shown], orientation="horizontal", width=0.4)
            self.plt.xlim(0, 100)
        self.bars = tuple(pairs)
        self.updates += 1
        self.refresh()
