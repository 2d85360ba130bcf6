"""The training pane after a run: the bar shows the work done, and a held-out test split is named
beside the accuracy measured on it. Snapshots are made up, so no test waits on torch's training."""

from __future__ import annotations

import pytest
from textual.widgets import ProgressBar

from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.training_pane import TrainingPane

from support.makers import training_snapshot as snapshot
from support.pilot import open_training, screen_text, wait_for

HELD = "49 of 244 samples held out for testing"


async def shown_after(*finals) -> list[tuple[float | None, str]]:
    """(bar percentage, screen) after each of ``finals`` ends a run, one run after the other in one app."""
    app = build_app(AppOptions())
    seen = []
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        for final in finals:
            pane.running = True
            pane.post_message(TrainingPane.Progress(snapshot(held_out=HELD)))
            pane.post_message(TrainingPane.Finished(final, None))
            await wait_for(pilot, lambda: not pane.running, what="the end of the run")
            await pilot.pause()
            seen.append((app.query_one("#epoch-progress", ProgressBar).percentage, screen_text(app)))
    return seen


async def test_the_bar_shows_the_work_done_when_a_run_ends():
    ends = [("finished", 360, 1.0), ("stopped", 100, 100 / 360), ("failed", 0, 0.0), ("diverged", 359, 0.99)]
    seen = await shown_after(*(snapshot(state, eta=None, epoch_step=step) for state, step, _ in ends))
    assert [p for p, _ in seen] == pytest.approx([shown for _, _, shown in ends])


async def test_a_held_out_or_leaking_test_split_is_named_beside_its_accuracy():
    leak = "6 of 6 test samples (100.0%) are exact copies of training samples"
    held, leaking = (
        snapshot("finished", eta=None, held_out=HELD),
        snapshot("finished", eta=None, leakage=leak),
    )
    (_, held_screen), (_, leak_screen) = await shown_after(held, leaking)
    assert f"test 89.4% ({HELD})" in " ".join(held_screen.split())
    assert f"test accuracy 89.4% on {HELD}" in held.summary()
    assert "test 89.4% ⚠ test samples copy training ones" in " ".join(leak_screen.split())
    assert f"(inflated: {leak})" in leaking.summary()
