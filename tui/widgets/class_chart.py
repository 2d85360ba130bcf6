"""A bar chart of class counts: one split's counts, or the shares of train and test side by side."""

from __future__ import annotations

from dataclasses import dataclass

from textual_plotext import PlotextPlot

SERIES_COLOURS = ("cyan", "orange")
"""Bar colours of the first and second series (train, test)."""
MAX_LABELS = 24
"""With more classes than this, only every k-th class is named under the bars."""


@dataclass(frozen=True)
class ChartData:
    """What the chart draws: a value per class for each series."""

    classes: tuple[str, ...]
    """Class names, one per bar group."""
    series: tuple[tuple[str, tuple[float, ...]], ...]
    """(name, one value per class) for each series: one series, or train and test."""
    title: str
    """Above the chart: "train: samples per class", "share of each split (%)"."""


class ClassChart(PlotextPlot):
    """Bars of class counts; :meth:`show` replaces the data and redraws once."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.data: ChartData | None = None
        """What is drawn now (None: nothing yet)."""

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title("class counts")

    def show(self, data: ChartData | None) -> None:
        """Draw ``data`` (None clears the chart)."""
        self.data = data
        self.replot()

    def replot(self) -> None:
        """Clear the plot, draw the bars again, refresh: the figure is rebuilt at every render anyway."""
        plt = self.plt
        plt.clear_data()
        data = self.data
        if data is None or not data.classes or not data.series:
            plt.title("no counts yet")
            self.refresh()
            return
        plt.title(data.title)
        positions = list(range(len(data.classes)))
        if len(data.series) == 1:
            _, values = data.series[0]
            plt.bar(positions, list(values), color=SERIES_COLOURS[0], width=0.8)
        else:
            plt.multiple_bar(
                positions,
                [list(values) for _, values in data.series],
                labels=[name for name, _ in data.series],
                color=list(SERIES_COLOURS[: len(data.series)]),
                width=0.8,
            )
        step = max(1, -(-len(data.classes) // MAX_LABELS))
        ticks = positions[::step]
        # a name may take the room of its bar group; the y axis takes about 8 columns
        room = max(3, (self.size.width - 8) // max(1, len(ticks)) - 1) if self.size.width else 8
        plt.xticks(ticks, [_short(data.classes[k], room) for k in ticks])
        self.refresh()

    def on_resize(self) -> None:
        if self.data is not None:
            self.replot()


def _short(name: str, width: int = 8) -> str:
    """A class name short enough to sit under its bar."""
    return name if len(name) <= width else name[: width - 1] + "…"
