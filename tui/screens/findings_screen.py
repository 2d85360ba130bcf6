"""The deep checks' findings, one sample at a time, drawn as the preview draws samples.

Opened with ``f`` from the checklist pane once ``d`` has run the deep checks. Tab goes from one
check to the next (label noise, near copies, quality); ←/→ step through its findings, most
suspicious first: a label suspect with "given 7 · predicted 1 (0.97)", a near-copy pair side by
side with their distance, a flagged image with its property value. Esc goes back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Static

from dataloupe.core.checks.findings import DEEP_CHECKS
from dataloupe.tui.widgets.key_bar import KeyBar
from dataloupe.tui.widgets.sample_view import SampleView, text_strips, to_strips
from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from dataloupe.core.checks.findings import DeepReport, Finding
    from dataloupe.core.data.datasets import DatasetHandle


@dataclass(frozen=True)
class Drawing:
    """What to draw: read on the UI thread, drawn by the worker."""

    serial: int
    """Increases with every request; an older drawing is dropped."""
    finding: Finding
    """The finding shown."""
    cols: int
    """Width of the picture area."""
    rows: int
    """Height of the picture area."""
    ascii: bool
    """Draw with 7-bit characters."""


class FindingsScreen(Screen):
    """Steps through the findings of each deep check."""

    DEFAULT_CSS = """
    FindingsScreen #findings-head { height: auto; padding: 0 1; border-bottom: hkey $panel; }
    FindingsScreen #findings-body { height: 1fr; }
    FindingsScreen #findings-view { width: 1fr; }
    FindingsScreen #findings-info { width: 38; padding: 0 1; }
    """

    BINDINGS = [
        Binding("right", "move(1)", "finding", key_display="←→"),
        Binding("left", "move(-1)", "previous finding", show=False),
        Binding("tab", "next_check", "next check", priority=True),
        Binding("escape", "close", "back"),
    ]

    class Drawn(Message):
        """The worker has drawn a finding."""

        def __init__(self, serial: int, strips: list[Strip]) -> None:
            super().__init__()
            self.serial = serial
            """Which request was drawn."""
            self.strips = strips
            """The picture, row by row."""

    def __init__(self, handle: DatasetHandle, report: DeepReport, ascii_only: bool = False) -> None:
        super().__init__()
        self.handle = handle
        """The dataset the findings are about."""
        self.report = report
        """What the deep checks found."""
        self.ascii_only = ascii_only
        """Draw with 7-bit characters."""
        self.checks = [c for c in DEEP_CHECKS if report.of(c)] or [DEEP_CHECKS[0]]
        """The checks that found something, in report order."""
        self.check = self.checks[0]
        """The check whose findings are shown."""
        self.position = 0
        """Which of its findings is shown."""
        self._serial = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="findings-head")
        with Horizontal(id="findings-body"):
            yield SampleView(id="findings-view")
            with Vertical(id="findings-info"):
                yield Static("", id="findings-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.show()

    def on_resize(self) -> None:
        self.show()

    @property
    def current(self) -> list[Finding]:
        """The findings of the check shown."""
        return self.report.of(self.check)

    def action_move(self, delta: int) -> None:
        if self.current:
            self.position = (self.position + delta) % len(self.current)
            self.show()

    def action_next_check(self) -> None:
        self.check = self.checks[(self.checks.index(self.check) + 1) % len(self.checks)]
        self.position = 0
        self.show()

    def action_close(self) -> None:
        self.dismiss()

    def show(self) -> None:
        """Draw the finding at :attr:`position` of the check shown (the picture in a worker)."""
        tabs = Text()
        for c in DEEP_CHECKS:
            n = len(self.report.of(c))
            tabs.append(f" {c} ({n:,}) ", style="reverse bold" if c == self.check else "dim")
        findings = self.current
        self.query_one("#findings-head", Static).update(tabs)
        info = self.query_one("#findings-text", Static)
        if not findings:
            info.update(Text("Nothing found by this check.", style="italic"))
            self.query_one(SampleView).show([])
            return
        f = findings[self.position]
        info.update(finding_text(f, self.position, len(findings)))
        view = self.query_one(SampleView)
        self._serial += 1
        drawing = Drawing(self._serial, f, max(8, view.size.width), max(4, view.size.height), self.ascii_only)
        self._draw_worker(drawing)

    @work(thread=True, exclusive=True, group="findings", exit_on_error=False)
    def _draw_worker(self, drawing: Drawing) -> None:
        def job(cancel: threading.Event) -> FindingsScreen.Drawn:
            return self.Drawn(drawing.serial, draw_finding(self.handle, drawing))

        def failed(text: str, error: bool) -> FindingsScreen.Drawn | None:
            return (
                self.Drawn(drawing.serial, text_strips(["Cannot draw this sample:", text])) if error else None
            )

        run_job(self, job, failed, what="Drawing")

    def on_findings_screen_drawn(self, message: Drawn) -> None:
        if message.serial == self._serial:
            self.query_one(SampleView).show(message.strips)


def finding_text(f: Finding, position: int, total: int) -> Text:
    """The words beside the picture: which finding, where the sample is, what was found."""
    out = Text()
    out.append(f"{f.check}: {position + 1:,} of {total:,}\n\n", style="bold")
    out.append(f"{f.split} {f.index:,}", style="bold")
    out.append(f"\n{f.where}\n" if f.where else "\n", style="dim")
    if f.check != "label noise":  # a label suspect's headline names its label
        out.append(f"label {f.label}\n")
    out.append(f.headline(), style="bold yellow")
    out.append("\n")
    if f.other_index is not None:
        out.append(f"\n{f.other_split} {f.other_index:,}", style="bold")
        out.append(f"\n{f.other_where}" if f.other_where else "", style="dim")
        out.append("\n")
    return out


def draw_finding(handle: DatasetHandle, drawing: Drawing) -> list[Strip]:
    """The finding's sample (and its twin, for a near copy) drawn as the preview draws samples. Pure:
    runs on the worker thread."""
    from dataloupe.core.render import render, render_features, render_grid

    f = drawing.finding
    style = "ascii" if drawing.ascii else "blocks"
    pipeline = handle.pipeline.with_(mode="scaled")
    split = handle.split(f.split, pipeline)
    x, _ = split[f.index]
    if pipeline.sample_type == "table":
        lines = render_features(handle.feature_names or [], x.numpy(), None, ascii_only=drawing.ascii)
        return text_strips(lines)
    if f.other_index is not None and f.other_split is not None:
        other, _ = handle.split(f.other_split, pipeline)[f.other_index]
        captions = [f"{f.split} {f.index}", f"{f.other_split} {f.other_index}"]
        image = render_grid([x.numpy(), other.numpy()], captions, drawing.cols, drawing.rows, style)
        return to_strips(image)
    return to_strips(render(x.numpy(), drawing.cols, drawing.rows, style))
