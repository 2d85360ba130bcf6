"""The training pane's "data size" view: would more data help? Learning curves filling in live.

:class:`LearningCurveView` runs a sweep (:mod:`dataloupe.core.training.curve`) in its own thread worker
(:mod:`dataloupe.tui.widgets.curve_job`), which reports the sweep as it stands in
:class:`LearningCurveView.Measured` messages (a newer one replaces an older one still queued). The
view draws them a few times a second: the chart of test accuracy against training size, one line per
network, the table of every network's parameters, samples per class at each size, and train and test
accuracy, and the verdict. Stopping keeps the points measured on screen.

The pane calls :meth:`LearningCurveView.toggle` with the dataset and its settings; nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from dataloupe.core.training.curve.points import CurvePlan, CurveResult
from dataloupe.core.training.curve.verdict import judge, percent
from dataloupe.core.wording import duration
from dataloupe.tui.widgets.curve_chart import CurveChart
from dataloupe.tui.workers import ended_unheard, stop_job

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.settings import TrainConfig

REFRESH = 0.25
"""Seconds between two redraws: plotext rebuilds the whole figure each time, on the UI thread."""
LESSON = (
    "Would more data help? If the test line still climbs at the right edge, more samples should pay; "
    "if it is flat, a bigger or different model (or better data) is the next step. "
    "Which shape wins at which size cannot be predicted: it is measured."
)


def curve_table(result: CurveResult) -> str:
    """Every network with its parameters, and per size its samples per class, test accuracy ± the spread
    between seeds (largest minus smallest), and train accuracy (percent)."""
    head = f"{'samples':>8} {'/class':>8}"
    sub = f"{'':>8} {'':>8}"
    for n in result.networks:
        head += f" │ {f'{n.name} ({n.params:,})':>16}"
        sub += f" │ {'test ±':>10} {'train':>5}"
    lines = [head, sub]
    for size in result.sizes:
        row = f"{size.samples:>8,} {size.per_class_text():>8}"
        for n in result.networks:
            cell = result.cell(n.name, size.samples)
            if cell is None:
                row += f" │ {'·':>10} {'·':>5}"
                continue
            spread = f"±{100 * cell.spread:.1f}" if cell.spread is not None else ""
            row += f" │ {f'{100 * cell.test:.1f}{spread}':>10} {100 * cell.train:>5.1f}"
        lines.append(row)
    return "\n".join(lines)


class LearningCurveView(Vertical):
    """Run a learning-curve sweep in the background and show its curves, table and verdict as they come."""

    DEFAULT_CSS = """
    LearningCurveView { height: 1fr; }
    LearningCurveView #curve-status { height: 1; padding: 0 1; }
    LearningCurveView #curve-chart { height: 1fr; min-height: 6; }
    LearningCurveView #curve-table { height: auto; padding: 0 1; }
    LearningCurveView #curve-verdict { height: auto; max-height: 3; padding: 0 1; }
    """

    @dataclass
    class Measured(Message):
        """The sweep as it stands; a newer one replaces an older one still queued, never the final one."""

        result: CurveResult
        """Points so far, progress, and how it ended once it has."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LearningCurveView.Measured) and not message.result.ended

    @dataclass
    class Failed(Message):
        """The sweep could not start (settings, data not held in memory) or its worker died."""

        text: str
        """Why, for the user."""
        error: bool = True
        """False when it was only cancelled before it began."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.plan = CurvePlan()
        """Networks, sizes and repeats of the next sweep (tests make it small)."""
        self.result: CurveResult | None = None
        """The sweep shown (running or ended), or None before the first."""
        self.running = False
        """Whether a sweep is in progress."""
        self._worker: Worker | None = None
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Static(
            "c measures learning curves on the open dataset with the settings' model", id="curve-status"
        )
        yield CurveChart(id="curve-chart")
        yield Static("", id="curve-table")
        yield Static(LESSON, id="curve-verdict", classes="lesson")

    def on_mount(self) -> None:
        self.set_interval(REFRESH, self._redraw)

    # ------------------------------------------------------------------ control
    def toggle(self, handle: DatasetHandle | None, config: TrainConfig) -> None:
        """Start a sweep of ``config`` on ``handle``, or stop the one running (its points stay)."""
        if self.running:
            self.query_one("#curve-status", Static).update("stopping… (the points measured stay)")
            stop_job(self._worker)
            return
        if handle is None:
            self.app.notify("Open a dataset first (key 1).", severity="error")
            return
        from dataloupe.tui.widgets.curve_job import start_curve

        self.running = True
        self.result = None
        self.query_one(CurveChart).show_curves(None)
        self.query_one("#curve-table", Static).update("")
        self.query_one("#curve-status", Static).update(f"preparing the sweep on {handle.name}…")
        self._worker = start_curve(self, handle, config, self.plan)

    # ------------------------------------------------------------------ messages
    def on_learning_curve_view_measured(self, message: Measured) -> None:
        message.stop()
        self.result = message.result
        self._dirty = True
        if message.result.ended:
            self.running = False
            self._worker = None
            self._redraw()

    def on_learning_curve_view_failed(self, message: Failed) -> None:
        message.stop()
        self.running = False
        self._worker = None
        self.query_one("#curve-status", Static).update(f"✗ {message.text}")
        if message.error:
            self.app.notify(message.text, title="Learning curve", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and ended_unheard(event):
            self._worker = None
            self.running = False
            self.query_one("#curve-status", Static).update("stopped before the first point · c starts again")

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        result = self.result
        if not self._dirty or result is None:
            return
        self._dirty = False
        self.query_one("#curve-status", Static).update(self.status_text(result))
        self.query_one(CurveChart).show_curves(result)
        self.query_one("#curve-table", Static).update(curve_table(result))
        verdict = judge(result)
        self.query_one("#curve-verdict", Static).update("\n".join(filter(None, (verdict.text, verdict.best))))

    @staticmethod
    def status_text(r: CurveResult) -> str:
        """ "7/30 points · 2×48 on 322 samples, seed 0 · 12.0 s · ETA 40.1 s · c stops"."""
        what = f"{len(r.points)}/{r.total} points of {r.steps_per_point:,} steps"
        if r.ended:
            ended = r.message or f"{duration(r.elapsed)} on {r.device}"
            return f"{r.state}: {what} · {ended} · c again"
        parts = [what, r.current or "preparing…", duration(r.elapsed)]
        if r.eta is not None:
            parts.append(f"ETA {duration(r.eta)}")
        sizes = f"{percent(r.sizes[0].share)}-{percent(r.sizes[-1].share)}" if r.sizes else ""
        return " · ".join([*parts, f"sizes {sizes}", "c stops"])
