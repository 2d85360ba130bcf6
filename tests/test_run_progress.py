"""The training pane after a run: the bar shows the work done, and a held-out test split is named
beside the accuracy measured on it. Snapshots are made up, so no test waits on torch's training."""

from __future__ import annotations

import pytest
from textual.widgets import ProgressBar

from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.training_pane import TrainingPane

from support.makers import training_snapshot as snapshot
from support.pilot import screen_text, settle, wait_for

HELD = "49 of 244 samples held out for testing"


async def shown_after(final) -> tuple[float | None, str]:
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await wait_for(pilot, lambda: app.query("#train-epochs"), what="the training pane")
        pane = app.query_one(TrainingPane)
        pane.running = True
        pane.post_message(TrainingPane.Progress(snapshot(held_out=HELD)))
        pane.post_message(TrainingPane.Finished(final, None))
        await wait_for(pilot, lambda: not pane.running, what="the end of the run")
        await pilot.pause()
        return app.query_one("#epoch-progress", ProgressBar).percentage, screen_text(app)


@pytest.mark.parametrize(
    ("state", "epoch_step", "shown"),
    [("finished", 360, 1.0), ("stopped", 100, 100 / 360), ("failed", 0, 0.0), ("diverged", 359, 0.99)],
)
async def test_the_bar_shows_the_work_done_when_a_run_ends(state, epoch_step, shown):
    percentage, _ = await shown_after(snapshot(state, eta=None, epoch_step=epoch_step))
    assert percentage == pytest.approx(shown)


async def test_a_held_out_test_split_is_named_beside_its_accuracy():
    final = snapshot("finished", eta=None, held_out=HELD)
    _, screen = await shown_after(final)
    assert f"test 89.4% ({HELD})" in " ".join(screen.split())
    assert f"test accuracy 89.4% on {HELD}" in final.summary()


async def test_a_leaking_split_is_flagged_beside_the_test_accuracy():
    leak = "6 of 6 test samples (100.0%) are exact copies of training samples"
    final = snapshot("finished", eta=None, leakage=leak)
    _, screen = await shown_after(final)
    assert "test 89.4% ⚠ test samples copy training ones" in " ".join(screen.split())
    assert f"(inflated: {leak})" in final.summary()
