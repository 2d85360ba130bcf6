"""tui/workers.py: the one way a worker runs its job, reports, is stopped and throttles progress."""

from __future__ import annotations

import threading

from textual.app import App
from textual.message import Message

from dataloupe.core.errors import Cancelled, DatasetError
from dataloupe.core.progress import Progress
from dataloupe.tui.workers import run_job, stop_job, throttled

from support.clock import FakeClock
from support.pilot import wait_for


class Said(Message):
    """What a job or its failure reported."""

    def __init__(self, text: str, error: bool | None = None) -> None:
        super().__init__()
        self.text = text
        self.error = error


class Owner(App):
    """Collects what the workers post."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[tuple[str, bool | None]] = []

    def on_said(self, message: Said) -> None:
        self.said.append((message.text, message.error))


def failed(text: str, error: bool) -> Said:
    return Said(text, error)


async def test_every_outcome_becomes_the_workers_own_message():
    def boom(cancel):
        raise ZeroDivisionError("x")

    def refused(cancel):
        raise DatasetError("No such file: a.csv. Check the path.")

    def cancelled(cancel):
        raise Cancelled()

    app = Owner()
    async with app.run_test() as pilot:
        for job in (lambda cancel: Said("done"), boom, refused, cancelled):
            app.run_worker(lambda job=job: run_job(app, job, failed, what="Reading"), thread=True)
        await wait_for(pilot, lambda: len(app.said) == 4)
    assert sorted(app.said, key=str) == sorted(
        [
            ("done", None),
            ("Reading failed: ZeroDivisionError: x", True),
            ("No such file: a.csv. Check the path.", True),
            ("Reading was cancelled.", False),
        ],
        key=str,
    )


async def test_a_stop_before_the_body_begins_is_still_reported():
    """Textual gives no word for a task cancelled before its thread starts; stop_job keeps the body."""
    ran = threading.Event()

    def job(cancel):
        ran.set()
        return Said("done")

    app = Owner()
    async with app.run_test() as pilot:
        worker = app.run_worker(
            lambda: run_job(app, job, failed, what="Counting", cancelled="counting stopped"), thread=True
        )
        stop_job(worker)  # at once: the worker's thread has not begun
        await wait_for(pilot, lambda: app.said, what="a word from the stopped worker")
    assert app.said == [("counting stopped", False)] and not ran.is_set()


async def test_a_result_that_comes_after_a_stop_is_replaced_by_the_stop():
    started, finish = threading.Event(), threading.Event()

    def job(cancel):
        started.set()
        finish.wait(5)
        return Said("cut-short result")

    app = Owner()
    async with app.run_test() as pilot:
        worker = app.run_worker(lambda: run_job(app, job, failed, what="Evaluation"), thread=True)
        await wait_for(pilot, started.is_set)
        stop_job(worker)
        finish.set()
        await wait_for(pilot, lambda: app.said)
    assert app.said == [("Evaluation was cancelled.", False)]


def test_throttled_lets_one_report_through_per_interval_and_always_the_last(monkeypatch):
    import dataloupe.core.progress

    clock = FakeClock.install(monkeypatch, dataloupe.core.progress)
    sent: list[float | None] = []
    report = throttled(lambda p: sent.append(p.fraction))
    for done in range(1, 10):
        report(Progress("reading", done, 10))
    report(Progress("reading", 10, 10))
    assert sent[0] == 0.1 and sent[-1] == 1.0 and len(sent) == 2
    clock.advance(0.12)
    report(Progress("reading", 5, 10))
    assert sent[-1] == 0.5
