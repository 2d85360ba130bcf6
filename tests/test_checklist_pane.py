"""The checklist pane through Pilot at 80×24: when it runs, the transform key, cancel and errors."""

from __future__ import annotations

import threading

import numpy as np
import torch
from textual.widgets import Static
from torch.utils.data import Dataset

from dataloupe.core.checks import CHECKS
from dataloupe.core.data.datasets import from_datasets
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.messages import DatasetOpened
from dataloupe.tui.panes.checklist_pane import ChecklistPane

from support.clock import FakeClock
from support.pilot import screen_text, settle, wait_for

SIZE = (80, 24)


def verdicts(pane) -> dict[str, str]:
    return {r.name: r.verdict for r in pane.report.results}


async def test_runs_when_shown_and_t_shows_scaled_fail_on_raw_digits():
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ChecklistPane)
        assert pane.report is None  # not run while another pane is shown
        await pilot.press("4")
        await settle(app, pilot)
        assert pane.report is not None and verdicts(pane) == dict.fromkeys(CHECKS, "pass")
        text = screen_text(app)
        assert "✓ numeric" in text and "✓ scaled" in text and "values 0 .. 1 after Scale(÷16 → 0..1)" in text
        assert "re-check" in text and "raw|scaled" in text  # the keys, in the footer

        await pilot.press("t")  # raw: 0..16
        await settle(app, pilot)
        assert pane.report.mode == "raw" and verdicts(pane)["scaled"] == "fail"
        text = screen_text(app)
        assert "✗ scaled" in text and "divide by the maximum (16)" in text
        assert "as stored (no scaling)" in str(app.query_one("#checklist-header", Static).render())

        await pilot.press("t")  # back to the dataset's own scaling
        await settle(app, pilot)
        assert pane.report.mode == "scaled" and verdicts(pane)["scaled"] == "pass"

        first = pane.report
        await pilot.press("r")
        await settle(app, pilot)
        assert pane.report is not first and verdicts(pane) == dict.fromkeys(CHECKS, "pass")


async def test_reruns_when_the_dataset_changes_while_shown(red_wine):
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        pane = app.query_one(ChecklistPane)
        assert pane.report.dataset == "digits"
        app.open_dataset(DatasetSpec(str(red_wine), threshold=4.5))
        await settle(app, pilot)
        assert pane.report.dataset == "winequality-red.csv"
        assert verdicts(pane)["balanced"] == "warn" and verdicts(pane)["split"] == "fail"
        assert "⚠ balanced" in screen_text(app)


class OrderedSamples(Dataset):
    """Labels sorted by class; after ``fail_from`` is set, reading there raises or waits for ``gate``."""

    def __init__(self, labels) -> None:
        self.labels = [int(v) for v in labels]
        self.targets = list(self.labels)
        self.hold_from: int | None = None
        self.fail_from: int | None = None
        self.gate = threading.Event()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        if self.fail_from is not None and i >= self.fail_from:
            raise OSError(f"disk read error at {i}")
        if self.hold_from is not None and i >= self.hold_from and not self.gate.wait(10):
            self.gate.set()  # never hold a worker for long, even when a test fails before it lets go
        return torch.full((1, 3, 3), float(i % 5) / 5), self.labels[i]


async def test_sorted_labels_warn_shuffled_in_the_pane():
    app = build_app(AppOptions(open_on_start=False, start_pane="checklist"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.first_paint is not None, what="the first screen")
        await pilot.pause()
        train = OrderedSamples(np.sort(np.arange(300) % 3))
        test = OrderedSamples(np.arange(60) % 3)
        handle = from_datasets("sorted", {"train": train, "test": test}, ["a", "b", "c"])
        app.post_message(DatasetOpened(handle, DatasetSpec("sorted"), "train", 0.0))
        pane = app.query_one(ChecklistPane)
        await wait_for(pilot, lambda: pane.report is not None, what="the checklist")
        await settle(app, pilot)
        assert verdicts(pane)["shuffled"] == "warn"
        assert "⚠ shuffled" in screen_text(app) and "sorted by label" in screen_text(app)


async def test_c_cancels_a_running_checklist_and_errors_become_messages():
    app = build_app(AppOptions(open_on_start=False, start_pane="checklist"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.first_paint is not None, what="the first screen")
        await pilot.pause()
        train = OrderedSamples(np.arange(3000) % 3)
        handle = from_datasets("slow", {"train": train}, ["a", "b", "c"])
        train.hold_from = 1000  # reading samples for the checks waits here until the test lets go
        app.post_message(DatasetOpened(handle, DatasetSpec("slow"), "train", 0.0))
        pane = app.query_one(ChecklistPane)
        try:
            await wait_for(pilot, lambda: pane.running, what="the checklist to start")
            await wait_for(
                pilot,
                lambda: app.focused is not None and pane in app.focused.ancestors_with_self,
                what="focus",
            )
            assert app.query_one("#checklist-progress-row").display
            # the footer is redrawn after the switch to the pane: wait for it, not for time
            await wait_for(pilot, lambda: "cancel" in screen_text(app), what="the footer's cancel key")
            await pilot.press("c")
            await wait_for(
                pilot,
                lambda: all(w.is_cancelled for w in app.workers if w.group == "checklist"),
                what="the worker to be told to stop",
            )
        finally:
            train.gate.set()
        await wait_for(pilot, lambda: not pane.running, what="the cancel")
        await settle(app, pilot)
        assert pane.report is None
        assert "cancelled" in str(app.query_one("#checklist-results", Static).render())

        train.hold_from, train.fail_from = None, 2500  # now a sample cannot be read
        await pilot.press("r")
        await settle(app, pilot)
        assert pane.report is None and not pane.running
        results = str(app.query_one("#checklist-results", Static).render())
        assert "train sample 2,5" in results and "OSError: disk read error" in results
        assert any("disk read error" in n.message for n in app._notifications)
        assert app.is_running  # a message, not a crash


# ---------------------------------------------------------------------- issue 9
async def test_r_then_c_at_once_ends_the_run_and_r_runs_again():
    """Issue 9, item 2: c right after r (the worker stopped before its thread began) ends the run."""
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        pane = app.query_one(ChecklistPane)
        await wait_for(pilot, lambda: pane.report is not None and not pane.running, what="the first run")
        # r then c before the worker's thread has begun (keys are handed on one at a time, each after
        # the one before has had its effect, so two keys no longer make that moment reliably)
        pane.action_rerun()
        pane.action_cancel()
        await wait_for(pilot, lambda: not pane.running, what="the cancelled run to end")
        await settle(app, pilot)
        assert not app.query_one("#checklist-progress-row").display
        assert "cancelled" in str(app.query_one("#checklist-results", Static).render())
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.report is not None and not pane.running, what="the new run")


async def test_the_balance_threshold_is_the_checklists_and_the_verdict_reads_like_the_cli():
    """Issue 9, items 8 and 14: - in the balance pane moves the checklist's threshold too."""
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "minus")  # 1.5 → 1.0: digits' largest ÷ smallest (1.06) is past it
        await pilot.pause()
        assert app.imbalance_threshold == 1.0
        await pilot.press("4")
        pane = app.query_one(ChecklistPane)
        await wait_for(pilot, lambda: pane.report is not None and not pane.running, what="the checklist")
        balanced = pane.report.result("balanced")
        assert balanced.verdict != "pass" and "1" in balanced.evidence
        header = str(app.query_one("#checklist-header", Static).render())
        assert f"verdict: {pane.report.verdict} (" in header
        assert f"{pane.report.verdict}: 1 {pane.report.verdict}" not in header  # not "warn: 1 warn"
        await pilot.press("3", "plus")  # back to 1.5: the checklist runs again when shown
        await pilot.press("4")
        await wait_for(
            pilot,
            lambda: pane.report is not None and not pane.running and pane.report.threshold == 1.5,
            what="the re-check",
        )
        assert pane.report.result("balanced").verdict == "pass"


async def test_a_stage_reported_done_while_the_checks_go_on_shows_no_full_bar(monkeypatch):
    """Issue 9, item 12: "reading test samples" at 100% while the checks still run: no full bar."""
    from textual.widgets import ProgressBar

    import dataloupe.core.checks
    import dataloupe.core.progress
    from dataloupe.core.progress import PROGRESS_INTERVAL, Progress

    real_checklist = dataloupe.core.checks.run_checklist
    gate = threading.Event()
    clock = FakeClock.install(monkeypatch, dataloupe.core.progress)

    def held_checklist(handle, *, progress=None, cancel=None, **options):
        progress(Progress("reading test samples", 359, 359))  # one stage done; the checks go on
        gate.wait(10)
        clock.advance(PROGRESS_INTERVAL)  # reports closer than this are thinned out (the app may see the
        progress(Progress("checking values", 1, 2))  # first one within that time now)
        gate.clear()
        gate.wait(10)
        return real_checklist(handle, progress=progress, cancel=cancel, **options)

    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        monkeypatch.setattr(dataloupe.core.checks, "run_checklist", held_checklist)
        pane = app.query_one(ChecklistPane)
        bar = app.query_one("#checklist-progress", ProgressBar)

        def label() -> str:
            return str(app.query_one("#checklist-progress-label", Static).render())

        try:
            await pilot.press("4")
            await wait_for(pilot, lambda: "reading test samples" in label(), what="the first report")
            assert pane.running and bar.total is None  # indeterminate: it moves, never says 100%
            gate.set()
            await wait_for(pilot, lambda: "checking values" in label(), what="the next report")
            assert bar.total == 1.0 and bar.progress == 0.5  # a true fraction when there is one
        finally:
            gate.set()
        await wait_for(pilot, lambda: pane.report is not None and not pane.running, what="the end")
