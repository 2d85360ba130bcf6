"""The training pane through Pilot: charts fed by the worker, stop, divergence, quitting mid-run, checkpoints."""

from __future__ import annotations

import re
import sys
import threading
import time

from textual.widgets import Input, Select

from dataloupe.core.threads import set_threads
from dataloupe.core.training.run import TrainingRun
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.training_pane import TrainingPane
from dataloupe.tui.widgets.accuracy_chart import AccuracyChart
from dataloupe.tui.widgets.loss_chart import LossChart
from dataloupe.tui.widgets.per_class_chart import PerClassChart

from support.pilot import open_training, screen_lines, settle, wait_for

set_threads(1)  # once, as `dataloupe` does at start-up (one thread on these shared 2-core machines)


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))


async def start_long_run(app, pilot, steps: int) -> TrainingPane:
    """Start a run far longer than any test (1,000 epochs, batch 1) and wait until it is past ``steps``."""
    pane = await open_training(app, pilot, epochs="1000", batch="1")
    await pilot.press("r")
    await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.step > steps)
    return pane


async def stop_run(pilot, pane: TrainingPane) -> None:
    """Press x and wait for the run to end (how soon it ends is measured by tests/bench/bench_stops.py;
    what the run did before it stopped is what the tests check)."""
    await pilot.press("x")
    await wait_for(pilot, lambda: not pane.running, timeout=60, what="the run to stop")


async def test_the_charts_update_from_the_worker_while_it_trains():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="1000", batch="4", device="cpu")
        assert "13,130 params" in screen_text(app)
        loss_chart, accuracy_chart = app.query_one(LossChart), app.query_one(AccuracyChart)
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.running)
        seen: list[tuple[int, int, int]] = []
        deadline = time.monotonic() + 60  # a loaded machine evaluates later: wait for it, not for a time
        # four different redraws while it runs, and a second evaluation (which comes ≥ 1 s after the first)
        while len({updates for updates, _, _ in seen}) < 4 or seen[-1][2] < 2:
            assert pane.running
            assert time.monotonic() < deadline, f"no second evaluation within 60 s: {seen[-1]}"
            seen.append((loss_chart.updates, loss_chart.points, accuracy_chart.points))
            await pilot.pause(0.05)
        assert seen[-1][1] > seen[0][1] > 0 or seen[-1][1] >= 200  # the loss line grows (until decimated)
        assert seen[-1][2] >= 2  # the baseline evaluation and at least one more
        assert 0 < loss_chart.points <= 401
        assert re.search(r"epoch \d+/1000 · loss \d\.\d{4} · test \d+\.\d%", screen_text(app))
        assert re.search(r"running on cpu .* step [\d,]+/360,000 · [\d,]+ samples/s", screen_text(app))
        await pilot.press("v")  # the classes view: per-class bars and the confusion matrix
        await wait_for(pilot, lambda: len(app.query_one(PerClassChart).bars) == 10)
        # the confusion matrix beside the bars may be drawn a frame later (CI once caught it between)
        await wait_for(pilot, lambda: "true ↓ / predicted →" in screen_text(app), what="the confusion matrix")
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running)


async def test_pause_then_stop_ends_the_run_mid_epoch_without_another_step():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await start_long_run(app, pilot, steps=20)
        await pilot.press("p")
        await wait_for(pilot, lambda: pane.snapshot.state == "paused")
        paused = pane.snapshot
        assert 0 < paused.epoch_step < paused.steps_per_epoch  # mid-epoch (1,438 steps each)
        await wait_for(pilot, lambda: "paused" in screen_text(app), what="paused on screen")
        await pilot.pause(0.3)
        assert pane.snapshot.step == paused.step  # nothing moves while paused
        await stop_run(pilot, pane)
        final = pane.snapshot
        assert final.state == "stopped"
        assert final.step == paused.step and final.epoch_step == paused.epoch_step
        assert "Stopped by request" in final.message
        await wait_for(pilot, lambda: "stopped at step" in screen_text(app), what="the stop on screen")


async def test_after_the_first_run_begins_its_modules_are_out_of_garbage_collection():
    """A torch optimizer imports torch._dynamo (900 modules); full collections that walked them took
    130-330 ms each, holding every key back. Once the first run has begun they are frozen (tui/heap.py):
    in no generation that a collection walks."""
    import gc

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await start_long_run(app, pilot, steps=5)
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running)
        loaded = vars(sys.modules["torch._dynamo"])  # a dict the collector tracks
        walked = {id(o) for generation in (0, 1, 2) for o in gc.get_objects(generation=generation)}
        assert id(loaded) not in walked


async def test_stop_while_running_ends_the_worker_promptly():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await start_long_run(app, pilot, steps=20)
        await stop_run(pilot, pane)
        final = pane.snapshot
        assert final.state == "stopped" and final.step < final.total_steps
        assert 0 < final.epoch_step < final.steps_per_epoch  # stopped mid-epoch, not at the epoch's end


async def test_a_huge_learning_rate_stops_with_a_message_and_the_app_keeps_running():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, lr="1e6")
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.ended)
        await settle(app, pilot)
        assert pane.snapshot.state == "diverged"
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "loss blew up" in (errors[-1].title or "")
        assert "learning rate 1e+06 is probably too high" in errors[-1].message
        await pilot.press("v")  # still answering keys
        await pilot.pause()
        assert pane.view == 2
        pane.query_one("#train-lr", Input).value = "fast"
        await pilot.press("r")
        await pilot.pause()
        assert not pane.running
        assert "Learning rate 'fast' is not a number" in list(app._notifications)[-1].message


async def test_quitting_mid_run_ends_the_worker(monkeypatch):
    returned = threading.Event()
    original = TrainingRun.run

    def run_and_record(self):
        try:
            return original(self)
        finally:
            returned.set()

    monkeypatch.setattr(TrainingRun, "run", run_and_record)
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await start_long_run(app, pilot, steps=5)
        await pilot.press("q")
    assert returned.wait(5.0), "the training thread kept running after the app quit"
    assert app.return_code in (0, None)


async def test_save_load_and_refusals_leave_the_current_model_alone(tmp_path):
    app = build_app(AppOptions())
    saved = tmp_path / "digits.pt"
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="4", batch="32", checkpoint=str(saved))
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.current is not None and not pane.running)
        trained = pane.current
        accuracy = pane.snapshot.latest.test.accuracy
        await pilot.press("s")
        await settle(app, pilot)
        assert saved.is_file()

        zero = tmp_path / "zero.pt"
        zero.write_bytes(b"")
        pane.query_one("#train-checkpoint", Input).value = str(zero)
        await pilot.press("l")
        await settle(app, pilot)
        assert pane.current is trained
        assert "empty (0 bytes)" in list(app._notifications)[-1].message

        pane.query_one("#train-checkpoint", Input).value = str(saved)
        pane.query_one("#train-model", Select).value = "cnn"
        await pilot.pause()
        await pilot.press("l")
        await settle(app, pilot)
        assert pane.current is trained
        assert "architecture mlp, not cnn" in list(app._notifications)[-1].message

        pane.query_one("#train-model", Select).value = "mlp"
        pane.query_one("#train-hidden", Input).value = "64,64,64"
        await pilot.pause()
        await pilot.press("l")
        await settle(app, pilot)
        assert pane.current is not trained and pane.current.source == str(saved)
        await pilot.press("e")
        await settle(app, pilot)
        shown = f"test accuracy {accuracy:.1%}"
        await wait_for(pilot, lambda: shown in screen_text(app), what=f"{shown} on screen")
        assert pane.view == 2


async def test_saving_over_a_file_from_before_asks_first(tmp_path):
    app = build_app(AppOptions())
    earlier = tmp_path / "earlier.pt"
    earlier.write_bytes(b"a checkpoint the user made yesterday")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="1", batch="64", checkpoint=str(earlier))
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.current is not None and not pane.running)
        await pilot.press("s")
        await settle(app, pilot)
        assert earlier.read_bytes() == b"a checkpoint the user made yesterday"
        assert "already exists. Press s again to replace it" in list(app._notifications)[-1].message
        await pilot.press("s")  # the second press replaces it
        await settle(app, pilot)
        await wait_for(pilot, lambda: earlier.stat().st_size > 1000, what="the new checkpoint")
        await pilot.press("s")  # a file this session wrote is replaced without asking
        await settle(app, pilot)
        assert "already exists" not in list(app._notifications)[-1].message


# ---------------------------------------------------------------------- issue 9: workers that end, one model job
async def test_r_then_x_at_once_ends_the_run_and_x_without_a_run_says_so():
    """Issue 9, items 2 and 14: r and x in one burst (the worker stopped before its thread began)."""
    from textual import events

    def state() -> str:
        return str(app.query_one("#run-state").render())

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="1000")
        app.post_message(events.Key("r", "r"))  # as a terminal delivers a quick r x: both at once
        app.post_message(events.Key("x", "x"))
        await wait_for(pilot, lambda: "stopping" in state() or pane.snapshot is not None, what="r and x")
        # the first run in a process imports torch.optim (seconds on a busy machine) before it sees the stop
        await wait_for(pilot, lambda: not pane.running and "stopping" not in state(), 60, "the run's end")
        await pilot.press("r")  # and a new run starts, instead of "a run is in progress"
        await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.step > 0)
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running)
        await pilot.press("x")  # nothing runs: a word, not silence
        await wait_for(pilot, lambda: any("No run to stop" in n.message for n in app._notifications))


async def test_one_model_job_at_a_time_and_a_stopped_evaluation_shows_nothing(monkeypatch, tmp_path):
    """Issue 9, item 3: s during an evaluation waits; x stops it and no cut-short accuracy is shown."""
    import dataloupe.core.training.evaluation

    real_evaluate = dataloupe.core.training.evaluation.evaluate_on_test
    gate = threading.Event()

    def slow_evaluate(*args, **kwargs):
        cancel = args[3]  # evaluate_on_test(trained, handle, device, cancel)
        while not (gate.wait(0.01) or cancel.is_set()):
            pass
        return real_evaluate(*args, **kwargs)  # a cancel set: cut short after the first batch

    app = build_app(AppOptions())
    saved = tmp_path / "digits.pt"
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="1", batch="64", checkpoint=str(saved))
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.current is not None and not pane.running, what="the run")
        monkeypatch.setattr(dataloupe.core.training.evaluation, "evaluate_on_test", slow_evaluate)
        try:
            await pilot.press("e")
            await wait_for(pilot, lambda: pane.job == "evaluating")
            await pilot.press("s")  # would move the model while the evaluation uses it
            await pilot.pause()
            assert "Wait until the evaluation ends" in list(app._notifications)[-1].message
            assert pane.job == "evaluating" and not saved.exists()
            await pilot.press("x")
            await wait_for(pilot, lambda: pane.job is None, what="the evaluation to stop")
        finally:
            gate.set()
        await settle(app, pilot)
        state = str(app.query_one("#run-state").render())
        assert "no result" in state and "test accuracy" not in state
        await pilot.press("s")  # now it saves
        await wait_for(pilot, lambda: saved.is_file() and pane.job is None, what="the save")
        await pilot.press("e")
        await wait_for(pilot, lambda: "test accuracy" in str(app.query_one("#run-state").render()))


async def test_a_run_belongs_to_its_dataset(red_wine):
    """Issue 9, item 7: after another dataset opens, the earlier run is not shown under its name."""
    from dataloupe.tui.messages import DatasetFacts, DatasetOpened

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="1", batch="64")
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.current is not None and not pane.running, what="the run")
        await settle(app, pilot)
        assert "epoch 1/1" in str(app.query_one("#run-stats").render())
        from dataloupe.core.data.sources import DatasetSpec
        from dataloupe.core.readers import open_dataset

        wine = open_dataset(DatasetSpec(str(red_wine)))
        app.post_message(
            DatasetOpened(wine, DatasetSpec(str(red_wine)), "train", 0.0, DatasetFacts.read(wine))
        )
        await wait_for(pilot, lambda: app.handle is wine)
        await settle(app, pilot)
        stats, state = str(app.query_one("#run-stats").render()), str(app.query_one("#run-state").render())
        assert "epoch 1/1" not in stats and "no run yet" in stats
        assert "winequality-red.csv" in state and "trained on digits" in state
        assert app.query_one(LossChart).points == 0 and app.query_one(AccuracyChart).points == 0


async def test_a_save_that_fails_keeps_the_model_and_asks_for_another_path(tmp_path):
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, epochs="1", batch="64", checkpoint="/proc/x.pt", device="cpu")
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.current is not None and not pane.running, timeout=60)
        trained = pane.current
        assert "data held on cpu, float32 " in screen_text(app)  # the data path and its memory
        await pilot.press("s")
        await settle(app, pilot)
        message = list(app._notifications)[-1].message
        assert "cannot save to /proc/x.pt" in message and "Type another path" in message
        assert app.focused is pane.query_one("#train-checkpoint", Input) and pane.current is trained
        app.focused.value = str(tmp_path / "m.pt")
        await pilot.press("escape", "s")
        await settle(app, pilot)
        assert (tmp_path / "m.pt").is_file()


async def test_a_diverged_run_names_one_step():
    """Issue 9, item 14: not "diverged after 1 step" beside "at step 2": the message names the step."""
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, lr="1e6")
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.ended, 60, "the run")
        summary = pane.snapshot.summary()
        assert pane.snapshot.state == "diverged" and summary.startswith("diverged in ")
        assert len(re.findall(r"\bstep\b", summary.split(". The loss", 1)[0])) == 0, summary
        assert re.search(r"The loss became .* at step [\d,]+", summary)
