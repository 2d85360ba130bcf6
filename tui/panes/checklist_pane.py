"""The data checklist: every question a dataset must answer before training, ✓ ⚠ or ✗, with the
evidence and the fix. ``dataloupe.core.checks.run_checklist`` does the work in a worker; ``t`` switches
the transform the checks see (raw, scaled, normalized), so "scaled" can be seen to fail on raw
values and pass after scaling. ``d`` runs the deep checks too (label noise, near copies, quality:
``dataloupe.core.audit.run_checklist_deep``, as ``dataloupe check --deep``), and ``f`` then shows
the samples they name.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import ProgressBar, Static
from textual.worker import Worker

from dataloupe.tui.panes.base import Pane, show_fraction
from dataloupe.tui.workers import ended_unheard, run_job, stop_job, throttled

if TYPE_CHECKING:
    from dataloupe.core.checks import ChecklistReport
    from dataloupe.core.checks.findings import DeepReport
    from dataloupe.core.data.datasets import DatasetHandle

CANCELLED = "The checklist was cancelled; r runs it again."
"""Shown where the results go after c."""
VERDICT_STYLES = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}
"""How each verdict's symbol is coloured."""


class ChecklistPane(Pane):
    """Runs the checklist when shown or when the dataset changes, and lists the results."""

    BINDINGS = [
        Binding("r", "rerun", "re-check"),
        Binding("t", "transform", "raw|scaled"),
        Binding("d", "deep", "deep check"),
        Binding("f", "findings", "findings"),
        Binding("c", "cancel", "cancel"),
    ]

    @dataclass
    class Progressed(Message):
        """How far the checklist has come; a newer report replaces an older one."""

        run: int
        """Which run reports (an earlier run's reports are dropped)."""
        what: str
        """What is being done: "reading train samples"."""
        fraction: float | None
        """0..1, or None when unknown."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ChecklistPane.Progressed)

    @dataclass
    class Finished(Message):
        """The checklist has run to the end."""

        run: int
        """Which run finished (an earlier run's result is dropped)."""
        handle: DatasetHandle
        """The dataset checked."""
        report: ChecklistReport
        """What was found."""

    @dataclass
    class DeepFinished(Message):
        """The checklist and the deep checks have run to the end."""

        run: int
        """Which run finished (an earlier run's result is dropped)."""
        handle: DatasetHandle
        """The dataset checked."""
        report: ChecklistReport
        """The checklist, ending with the deep checks' results."""
        deep: DeepReport
        """The samples the deep checks name."""

    @dataclass
    class Stopped(Message):
        """The checklist stopped early: cancelled, or the dataset could not be read."""

        run: int
        """Which run stopped (an earlier run's stop is dropped)."""
        handle: DatasetHandle
        """The dataset that was being checked."""
        text: str
        """What happened, for the user."""
        error: bool
        """True for a failure, False for a cancel."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.report: ChecklistReport | None = None
        """The last finished checklist, or None."""
        self.deep: DeepReport | None = None
        """The findings of the last deep run (``d``) of this checklist, or None."""
        self.mode: str | None = None
        """Transform the checks see (raw, scaled, normalized); None: the dataset's own."""
        self.running = False
        """A checklist worker is running."""
        self._checked: tuple | None = None
        """:meth:`_key` of the last run started, so a split change does not re-run it."""
        self._run = 0
        """Serial of the newest run; messages from earlier runs are dropped."""
        self._worker: Worker | None = None
        """The newest run's worker."""

    def compose(self) -> ComposeResult:
        yield Static("Open a dataset to check it (key 1).", id="checklist-header")
        with Horizontal(id="checklist-progress-row"):
            yield ProgressBar(total=1.0, show_eta=False, id="checklist-progress")
            yield Static("", id="checklist-progress-label")
        with VerticalScroll(id="checklist-scroll"):
            yield Static("", id="checklist-results")

    def on_mount(self) -> None:
        self.query_one("#checklist-progress-row").display = False

    # ------------------------------------------------------------------ when to run
    def dataset_changed(self) -> None:
        if self._checked is not None and self._checked[0] is not self.handle:
            self.mode = None  # a new dataset is checked with its own transform first
        if self.handle is not None and self.is_shown and self._stale():
            self.run_checklist()

    def pane_activated(self) -> None:
        self.query_one("#checklist-scroll").focus()
        if self.handle is not None and self._stale():
            self.run_checklist()

    def _stale(self) -> bool:
        return self._checked != self._key()

    # ------------------------------------------------------------------ actions
    def action_rerun(self) -> None:
        if self.handle is not None:
            self.run_checklist()

    def action_transform(self) -> None:
        if self.handle is None:
            return
        # raw ↔ the dataset's own transform: what "scaled" checks, seen failing and then passing
        own = self.handle.pipeline.mode
        current = self.mode or own
        self.mode = "raw" if current != "raw" else (own if own != "raw" else "scaled")
        self.run_checklist()

    def action_cancel(self) -> None:
        stop_job(self._worker)  # it reports the stop even if it has not begun

    def action_deep(self) -> None:
        if self.handle is not None:
            self.run_checklist(deep=True)

    def action_findings(self) -> None:
        if self.deep is not None and self.handle is not None:
            from dataloupe.tui.screens.findings_screen import FindingsScreen

            self.app.push_screen(FindingsScreen(self.handle, self.deep, self.app.ascii))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action == "findings":
            return self.deep is not None and not self.running
        return True

    # ------------------------------------------------------------------ running
    def _key(self) -> tuple:
        """What a result depends on: the dataset, the transform and the imbalance threshold (the balance
        pane's + and - set it for both). Not the batches pane's loader: it previews batches and trains
        nothing, and a verdict that changed with the panes visited first would contradict itself; the
        training loader the "shuffled" check reads is the user's own DataLoader, when there is one."""
        return (self.handle, self.mode, self.app.imbalance_threshold)

    def run_checklist(self, deep: bool = False) -> None:
        """Run every check on the open dataset in a worker (a running one is cancelled); with ``deep``,
        on every sample and followed by the deep checks."""
        handle = self.handle
        assert handle is not None
        self._checked = self._key()
        self._run += 1
        self.deep = None
        self._set_running(True)
        self._draw_header()
        self.query_one("#checklist-progress-label", Static).update("starting…")
        self._worker = self._check_worker(self._run, handle, self.mode, self.app.imbalance_threshold, deep)

    @work(thread=True, exclusive=True, group="checklist", exit_on_error=False)
    def _check_worker(
        self,
        run: int,
        handle: DatasetHandle,
        mode: str | None,
        threshold: float,
        deep: bool = False,
    ) -> None:
        def job(cancel: threading.Event) -> ChecklistPane.Finished | ChecklistPane.DeepFinished:
            pipeline = handle.pipeline.with_(mode=mode) if mode else None
            progress = throttled(lambda p: self.post_message(self.Progressed(run, p.what, p.fraction)))
            options = dict(pipeline=pipeline, threshold=threshold)
            if deep:
                from dataloupe.core.audit import run_checklist_deep

                report, found = run_checklist_deep(handle, progress=progress, cancel=cancel, **options)
                return self.DeepFinished(run, handle, report, found)
            from dataloupe.core.checks import run_checklist

            return self.Finished(
                run, handle, run_checklist(handle, progress=progress, cancel=cancel, **options)
            )

        run_job(
            self,
            job,
            lambda text, error: self.Stopped(run, handle, text, error),
            what="The checklist",
            cancelled=CANCELLED,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and ended_unheard(event) and self.handle is not None:
            # cancelled before its thread began: no Stopped will come, so stop waiting here
            error = event.worker.error
            text = CANCELLED if error is None else f"The checklist failed: {type(error).__name__}: {error}"
            self.on_checklist_pane_stopped(self.Stopped(self._run, self.handle, text, error is not None))

    def on_checklist_pane_progressed(self, message: Progressed) -> None:
        if not self.running or message.run != self._run:
            return
        show_fraction(self.query_one("#checklist-progress", ProgressBar), message.fraction)
        self.query_one("#checklist-progress-label", Static).update(f"{message.what} · c cancels")

    def on_checklist_pane_finished(self, message: Finished) -> None:
        if message.run != self._run or message.handle is not self.handle:
            return  # an older run finishing after a newer one started
        self.report = message.report
        self._set_running(False)
        self._draw_header()
        self.query_one("#checklist-results", Static).update(results_table(message.report))

    def on_checklist_pane_deep_finished(self, message: DeepFinished) -> None:
        self.on_checklist_pane_finished(self.Finished(message.run, message.handle, message.report))
        if message.run == self._run and message.handle is self.handle:
            self.deep = message.deep
            self._draw_header()
            self.refresh_bindings()

    def on_checklist_pane_stopped(self, message: Stopped) -> None:
        if message.run != self._run or message.handle is not self.handle:
            return  # an earlier run, cancelled when this one started
        self._set_running(False)
        self._checked = None  # run again when next shown
        self.query_one("#checklist-results", Static).update(Text(message.text, style="italic"))
        if message.error:
            self.app.notify(message.text, title="Could not run the checklist", severity="error", timeout=12)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#checklist-progress-row").display = running
        self.refresh_bindings()

    # ------------------------------------------------------------------ drawing
    def _draw_header(self) -> None:
        handle = self.handle
        if handle is None:
            return
        pipeline = handle.pipeline.with_(mode=self.mode) if self.mode else handle.pipeline
        out = Text()
        out.append(handle.name, style="bold")
        out.append(" · transform ", style="dim")
        out.append(pipeline.describe())
        out.append(" (t changes it)", style="dim")
        report = self.report
        if self.running:
            out.append("\nchecking…", style="italic")
        elif report is not None:
            from dataloupe.core.checks.report import verdict_line

            # "verdict: fail (1 fail, 2 warn, 6 pass)", as ``dataloupe check`` ends
            head, _, tally = verdict_line(report).partition(" (")
            out.append("\n")
            out.append(head, style=VERDICT_STYLES[report.verdict])
            out.append(f" ({tally} · ")
            out.append(f"{report.seconds:.2f} s", style="dim")
            if self.deep is not None:
                out.append(f" · {len(self.deep.findings):,} samples named: f shows them", style="bold")
            else:
                out.append(" · d looks inside the data", style="dim")
        self.query_one("#checklist-header", Static).update(out)


def results_table(report: ChecklistReport) -> Table:
    """Every check as a row: its symbol, its name, the evidence and the fix under it."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(width=1)
    table.add_column(width=11, no_wrap=True)
    table.add_column(ratio=1)
    for r in report.results:
        body = Text(r.evidence)
        if r.fix:
            body.append("\nfix: ", style="bold")
            body.append(r.fix, style="italic")
        table.add_row(Text(r.symbol, style=VERDICT_STYLES[r.verdict]), Text(r.name, style="bold"), body)
    return table
