"""A model's mistakes, worst first: each sample drawn as the preview draws it, with its given label, the
prediction and the confidence.

``←``/``→`` step through the mistakes in order of loss; ``f`` narrows them to one cell of the confusion
matrix (true class, predicted class), most frequent cell first, and back to all after the last. Drawing
runs in a thread worker (reading a sample may decode an image file); the newest request wins.

    view.show(report, split)   # a ModelReport and the Split it was measured on
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from dataloupe.tui.widgets.sample_view import SampleView, text_strips, to_strips
from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import Split
    from dataloupe.core.training.metrics import Mistake, ModelReport


def confusion_cells(report: ModelReport) -> list[tuple[int, int]]:
    """Every (true, predicted) cell off the diagonal that holds a mistake, most frequent first."""
    matrix = report.confusion
    cells = [
        (matrix[t][p], t, p)
        for t in range(len(matrix))
        for p in range(len(matrix))
        if t != p and matrix[t][p]
    ]
    return [(t, p) for _, t, p in sorted(cells, key=lambda c: (-c[0], c[1], c[2]))]


def mistake_text(
    report: ModelReport, mistake: Mistake, position: int, count: int, cell: tuple[int, int] | None
) -> Text:
    """What the view says beside a sample: which mistake, where it is, given and predicted label."""
    text = Text()
    text.append(f"mistake {position + 1:,} of {count:,}", style="bold")
    scope = f"true {report.name(cell[0])} → predicted {report.name(cell[1])}" if cell else "all, worst first"
    text.append(f" ({scope})\n", style="dim")
    text.append("sample ", style="dim")
    text.append(f"{mistake.index:,}\n")
    if mistake.where:
        text.append(f"{mistake.where}\n", style="dim")
    text.append("given ", style="dim")
    text.append(f"{report.name(mistake.label)}\n", style="bold green")
    text.append("predicted ", style="dim")
    text.append(f"{report.name(mistake.predicted)}", style="bold red")
    text.append(f" at {mistake.confidence:.1%}\n")
    text.append("loss ", style="dim")
    text.append(f"{mistake.loss:.3f}\n")
    text.append("← → step · f one cell of the matrix", style="dim")
    return text


@dataclass(frozen=True)
class _Request:
    serial: int
    split: Split
    index: int
    cols: int
    rows: int
    ascii: bool


class MistakesView(Horizontal):
    """The worst mistakes of a model on a split, one at a time; empty until :meth:`show`."""

    DEFAULT_CSS = """
    MistakesView { height: 1fr; }
    MistakesView #mistake-sample { width: 1fr; height: 1fr; }
    MistakesView #mistake-info { width: 44; height: auto; padding: 0 1; }
    """
    can_focus = True
    # Not in the footer, which the pane's keys fill at 80 columns: the view names them under the sample.
    BINDINGS = [
        Binding("right", "step(1)", "mistake", show=False),
        Binding("left", "step(-1)", "previous mistake", show=False),
        Binding("f", "next_cell", "cell", show=False),
    ]

    @dataclass
    class Drawn(Message):
        """A worker finished drawing request ``serial``."""

        serial: int
        strips: list[Strip]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.report: ModelReport | None = None
        """The report whose mistakes are shown."""
        self.split: Split | None = None
        """The split it was measured on (its samples are drawn)."""
        self.cell: tuple[int, int] | None = None
        """The confusion-matrix cell the mistakes are narrowed to, or None for all."""
        self.position = 0
        """Which of the mistakes shown is drawn."""
        self.ascii = False
        """Draw with ASCII characters."""
        self._serial = 0

    def compose(self) -> ComposeResult:
        yield SampleView(id="mistake-sample")
        yield Static("No model evaluated yet: u loads and evaluates your model.", id="mistake-info")

    @property
    def shown(self) -> tuple[Mistake, ...]:
        """The mistakes in view: all, or those of :attr:`cell`, highest loss first."""
        if self.report is None:
            return ()
        return self.report.mistakes_in(*self.cell) if self.cell else self.report.mistakes

    def show(self, report: ModelReport, split: Split, *, ascii_only: bool = False) -> None:
        """Show ``report``'s mistakes on ``split`` from the worst."""
        self.report, self.split, self.cell, self.position, self.ascii = report, split, None, 0, ascii_only
        self.redraw()

    def action_step(self, delta: int) -> None:
        count = len(self.shown)
        if count:
            self.position = (self.position + delta) % count
            self.redraw()

    def action_next_cell(self) -> None:
        if self.report is None:
            return
        cells = confusion_cells(self.report)
        at = cells.index(self.cell) + 1 if self.cell in cells else 0
        self.cell = cells[at] if at < len(cells) else None
        self.position = 0
        self.redraw()

    def on_resize(self) -> None:
        if self.report is not None:
            self.redraw()

    def redraw(self) -> None:
        """Draw the mistake at :attr:`position` (in a worker) and say what it is."""
        info = self.query_one("#mistake-info", Static)
        report, shown = self.report, self.shown
        if report is None or self.split is None:
            return
        if not shown:
            info.update(Text(f"No mistakes: {report.accuracy:.1%} of {report.samples:,} samples are right."))
            self.query_one(SampleView).clear()
            return
        mistake = shown[self.position]
        info.update(mistake_text(report, mistake, self.position, len(shown), self.cell))
        size = self.query_one(SampleView).size
        self._serial += 1
        self._draw(
            _Request(
                self._serial, self.split, mistake.index, max(8, size.width), max(4, size.height), self.ascii
            )
        )

    @work(thread=True, exclusive=True, group="mistakes", exit_on_error=False)
    def _draw(self, request: _Request) -> None:
        def job(cancel: threading.Event) -> MistakesView.Drawn:
            return self.Drawn(
                request.serial,
                draw_sample(request.split, request.index, request.cols, request.rows, request.ascii),
            )

        def failed(text: str, error: bool) -> MistakesView.Drawn | None:
            return (
                self.Drawn(request.serial, text_strips([f"Cannot draw sample {request.index}:", text]))
                if error
                else None
            )

        run_job(self, job, failed, what="Drawing")

    def on_mistakes_view_drawn(self, message: Drawn) -> None:
        message.stop()
        if message.serial == self._serial:  # an older drawing that finished late is never shown
            self.query_one(SampleView).show(message.strips)


def draw_sample(split: Split, index: int, cols: int, rows: int, ascii_only: bool) -> list[Strip]:
    """Sample ``index`` as the preview draws it: an image in blocks (or ASCII), a table row as bars."""
    from dataloupe.core.render import render, render_features

    x, _ = split[index]
    if split.pipeline.sample_type == "table":
        lines = render_features([], x.numpy(), None, bar_width=max(5, cols - 40), ascii_only=ascii_only)
        return text_strips(lines)
    return to_strips(render(x.float().numpy(), cols, rows, "ascii" if ascii_only else "blocks"))
