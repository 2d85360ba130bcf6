"""A key makes training give way: the loops that train wait between steps until the key's answer is on screen.

Python runs one thread at a time; while a model trained in a worker, the UI thread got the GIL back
only when the training thread let it go, and a key took twice as long to reach the screen as on a
quiet process. How long it takes now is measured by ``tests/bench/bench_keys.py`` (a benchmark, not a
test); these tests check the mechanism: who raises it, who waits for it, and that nothing is held
up for longer than its limit.
"""

from __future__ import annotations

import threading
import time

import pytest
from textual import events
from textual.driver import Driver

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset
from dataloupe.core.settings import TrainConfig
from dataloupe.core.threads import GIVE_WAY, GiveWay, set_threads
from dataloupe.core.training.run import TrainingRun
from dataloupe.tui.app import DataloupeApp, _give_way_on_keys, build_app

from support.pilot import settle, wait_for

set_threads(1)


def until(condition, what: str, timeout: float = 60.0) -> None:
    """Wait (in this thread) until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.01)


def test_a_loop_waits_while_it_is_raised_and_goes_on_once_lowered():
    way = GiveWay(limit=60.0)
    passed = threading.Event()

    def loop() -> None:
        way.wait()
        passed.set()

    way.raise_()
    assert way.up
    worker = threading.Thread(target=loop)
    worker.start()
    until(lambda: way.waited == 1, "the loop to wait")
    assert not passed.wait(0.2)  # held while raised
    way.lower()
    assert passed.wait(10)
    worker.join(10)
    assert not way.up


def test_it_counts_as_lowered_after_its_limit_so_a_forgotten_raise_never_stops_a_loop():
    way = GiveWay(limit=0.05)
    way.raise_()
    until(lambda: not way.up, "the limit to pass")
    way.wait()  # returns at once: the limit has passed
    assert way.waited == 0
    way.raise_()  # raised again: it holds again, for its limit at most
    assert way.up
    way.wait()
    assert way.waited == 1 and not way.up


def test_a_loop_that_was_never_told_does_not_wait():
    way = GiveWay()
    for _ in range(1000):
        way.wait()
    assert way.waited == 0 and way.raised == 0


@pytest.fixture
def long_limit():
    """The process's GIVE_WAY with a limit no test reaches, restored (and lowered) afterwards."""
    limit = GIVE_WAY.limit
    GIVE_WAY.limit = 60.0
    yield GIVE_WAY
    GIVE_WAY.lower()
    GIVE_WAY.limit = limit


def test_training_steps_stop_while_it_is_raised_and_resume_when_lowered(long_limit):
    run = TrainingRun(open_dataset(DatasetSpec("digits")), TrainConfig(epochs=1000, batch_size=4))
    worker = threading.Thread(target=run.run)
    worker.start()
    try:
        until(lambda: run._step > 5, "the run to train")
        waited = long_limit.waited
        long_limit.raise_()
        until(lambda: long_limit.waited > waited, "the run to wait between two steps")
        step = run._step
        threading.Event().wait(0.3)
        assert run._step == step  # no step while the key is answered
        long_limit.lower()
        until(lambda: run._step > step, "the run to go on")
    finally:
        run.cancel.set()
        long_limit.lower()
        worker.join(60)
    assert not worker.is_alive()


def test_the_watch_reader_waits_between_two_runs_while_it_is_raised(long_limit, tmp_path):
    from dataloupe.core.runlogs import Watch

    from support.runlogs import write_lightning_csv

    for name in ("a", "b", "c"):
        write_lightning_csv(tmp_path / name / "metrics.csv", range(1, 20))
    watch = Watch(tmp_path)
    watch.rescan()
    assert len(watch.runs) == 3
    snapshots = []
    waited = long_limit.waited
    long_limit.raise_()
    reader = threading.Thread(target=lambda: snapshots.append(watch.poll()))
    reader.start()
    until(lambda: long_limit.waited > waited, "the reader to wait")
    assert not snapshots  # nothing read while a key is answered
    long_limit.lower()
    reader.join(60)
    assert [len(r.tags) > 0 for r in snapshots[0].runs] == [True, True, True]


class RecordingDriver(Driver):
    """A driver that records the messages it would send instead of sending them."""

    def __init__(self) -> None:  # no app, no terminal: only process_message is called
        self.sent: list = []

    def process_message(self, message) -> None:
        self.sent.append(message)

    def write(self, data: str) -> None: ...

    def start_application_mode(self) -> None: ...

    def disable_input(self) -> None: ...

    def stop_application_mode(self) -> None: ...


def test_the_driver_raises_it_for_a_key_on_the_thread_that_reads_keys(long_limit):
    long_limit.lower()
    driver = _give_way_on_keys(RecordingDriver)()
    driver.process_message(events.Resize.from_dimensions((80, 24), None))
    assert not long_limit.up  # not for a resize
    key = events.Key("v", "v")
    driver.process_message(key)
    assert long_limit.up and driver.sent[-1] is key  # raised, and the key sent on as before


def test_the_app_runs_on_textuals_own_driver_with_the_key_hook():
    from textual.app import App

    app = DataloupeApp()
    driver, base = app.get_driver_class(), App.get_driver_class(app)
    assert issubclass(driver, base) and driver is not base
    assert driver.__name__ == f"GiveWayOn{base.__name__}"


async def test_a_key_raises_it_and_the_screen_showing_the_answer_lowers_it(long_limit):
    long_limit.lower()
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        raised = long_limit.raised
        await pilot.press("3")
        assert long_limit.raised == raised + 1
        await wait_for(pilot, lambda: not long_limit.up, what="GIVE_WAY lowered once the pane is drawn")
        assert app.query_one("#tabs").active == "balance"
