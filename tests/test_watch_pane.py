"""The watch screen through Pilot: runs and charts from real logs, live growth, toggling runs and
tags, bad input beside good runs, and leaving the screen."""

from __future__ import annotations

import re

from textual.widgets import SelectionList

from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.watch_pane import WatchPane
from dataloupe.tui.widgets.accuracy_chart import AccuracyChart
from dataloupe.tui.widgets.line_chart import MAX_POINTS_PER_CHART, LineChart
from dataloupe.tui.widgets.loss_chart import LossChart

from support.pilot import screen_text as svg_text
from support.pilot import wait_for
from support.runlogs import append_lines, lightning_rows, write_lightning_csv, write_tensorboard

SIZE = (140, 44)


def screen_text(app) -> str:
    """The screen's characters with runs of spaces made one (the SVG export splits styled spans)."""
    return re.sub(r"\s+", " ", svg_text(app))


def watch_app(path, **kw):
    return build_app(AppOptions(open_on_start=False, watch=str(path), **kw))


def charts(app) -> dict[str, LineChart]:
    return {c.title: c for c in app.screen.query(LineChart) if c.display}


async def opened(app, pilot) -> WatchPane:
    await wait_for(pilot, lambda: app.screen.query(WatchPane), what="the watch screen")
    pane = app.screen.query_one(WatchPane)
    await wait_for(pilot, lambda: pane.snapshot is not None and charts(app), what="the first charts")
    return pane


async def test_two_runs_on_shared_charts(tmp_path):
    write_tensorboard(tmp_path / "tb", range(100)).close()
    write_lightning_csv(tmp_path / "lightning" / "metrics.csv", range(60))
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        shown = charts(app)
        # train/loss, val/loss, train_loss and val_loss share the loss chart; val/acc and val_acc the acc one
        assert set(shown) == {"loss", "acc"}
        loss = shown["loss"]
        # a dense tag is drawn raw and smoothed, ten evaluations as they are; with six lines the
        # key names the smoothed and evaluation lines only
        assert loss.lines == 6
        assert set(loss.labels) == {
            "tb train/loss (in-sample) smoothed",
            "tb val/loss (out-of-sample)",
            "lightning train_loss (in-sample) smoothed",
            "lightning val_loss (out-of-sample)",
        }
        assert 0 < loss.points <= MAX_POINTS_PER_CHART  # bounded however long and many the runs are
        assert 0 < loss.drawn <= MAX_POINTS_PER_CHART and loss.points < loss.drawn  # all lines together
        # the training pane's line chart, not one beside it: the same widget as its loss and accuracy charts
        assert all(type(chart) is LineChart for chart in shown.values())
        assert issubclass(LossChart, LineChart) and issubclass(AccuracyChart, LineChart)
        await wait_for(  # on screen by the next frame (an export taken mid-refresh can come out empty)
            pilot,
            lambda: "2 runs (2 shown)" in screen_text(app) and "tb: 120 points · step 99" in screen_text(app),
            what="the run list",
        )


async def test_new_points_show_while_watching(tmp_path):
    path = write_lightning_csv(tmp_path / "metrics.csv", range(10))
    app = watch_app(path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await opened(app, pilot)
        chart = charts(app)["loss"]
        before = chart.updates
        append_lines(path, lightning_rows(range(10, 30)))
        await wait_for(
            pilot,
            lambda: chart.updates > before and "step 29" in screen_text(app),
            timeout=5,
            what="new rows",
        )
        assert pane.snapshot.runs[0].points == 36


async def test_switching_a_run_off_and_a_tag_off(tmp_path):
    write_tensorboard(tmp_path / "a", range(30)).close()
    write_tensorboard(tmp_path / "b", range(30)).close()
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        await wait_for(pilot, lambda: len(charts(app)["loss"].labels) == 4, what="both runs drawn")
        assert charts(app)["loss"].lines == 4
        runs = app.screen.query_one("#watch-runs", SelectionList)
        assert app.focused is runs
        await pilot.press("space")  # the highlighted run, "a", off
        await wait_for(pilot, lambda: len(charts(app)["loss"].labels) == 2, what="run a hidden")
        assert all(
            label.startswith("train/") or label.startswith("val/") for label in charts(app)["loss"].labels
        )
        await wait_for(pilot, lambda: "2 runs (1 shown)" in screen_text(app), what="the run count")
        await pilot.press("tab")  # the tag list
        tags = app.screen.query_one("#watch-tags", SelectionList)
        assert app.focused is tags
        await pilot.press("down", "down", "space")  # val/acc off: its chart goes
        await wait_for(pilot, lambda: "acc" not in charts(app), what="the acc chart hidden")
        assert "loss" in charts(app)


async def test_bad_input_is_reported_and_good_runs_still_show(tmp_path):
    write_tensorboard(tmp_path / "good", range(20)).close()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "events.out.tfevents.1.host").write_bytes(b"\x00garbage" * 40)
    (tmp_path / "notes.jsonl").write_text('{"step": 1, "loss": 1}\n"just a string"\n')
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "metrics.csv").write_text("epoch,loss\n0,1\n")
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        await wait_for(
            pilot, lambda: "expected a TensorBoard event record" in screen_text(app), what="problems"
        )
        text = screen_text(app)
        assert "events.out.tfevents.1.host" in text
        assert "notes.jsonl: line 2 is a JSON str, not an object" in text
        assert "'step' column" in text
        assert "good: 24 points" in text and charts(app)


async def test_a_path_without_logs_says_so_and_escape_goes_to_the_datasets(tmp_path):
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.query(WatchPane), what="the watch screen")
        await wait_for(pilot, lambda: "no logs found" in screen_text(app), what="the message")
        assert str(tmp_path) in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.query(WatchPane), what="the dataset panes")
        assert not any(w.is_running for w in app.workers if w.group == "watch")
