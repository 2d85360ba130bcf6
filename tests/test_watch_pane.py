"""The watch screen through Pilot: runs and charts from real logs, live growth, toggling runs and
tags, bad input beside good runs, and leaving the screen."""

from __future__ import annotations

import json
import math
import re

import pytest
from textual.widgets import SelectionList, Static

from dataloupe.core.runlogs.series import smooth
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.watch_pane import WatchPane
from dataloupe.tui.widgets.accuracy_chart import AccuracyChart
from dataloupe.tui.widgets.line_chart import MAX_POINTS_PER_CHART, LineChart
from dataloupe.tui.widgets.loss_chart import LossChart

from support.pilot import screen_text as svg_text
from support.pilot import wait_for
from support.runlogs import append_lines, jsonl_lines, lightning_rows, write_lightning_csv, write_tensorboard

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


async def test_two_runs_on_shared_charts(tmp_path, monkeypatch):
    from dataloupe.tui.panes import watch_lists

    monkeypatch.setattr(watch_lists, "LIST_LIMIT", 1)  # as 300 of 2,000 runs: the list is cut, not the charts
    write_tensorboard(tmp_path / "tb", range(100)).close()
    write_lightning_csv(tmp_path / "lightning" / "metrics.csv", range(60))
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        runs = app.screen.query_one("#watch-runs", SelectionList)
        assert runs.option_count == 1 and runs.border_title == "runs: 1 of 2 (f filters)"
        shown = charts(app)
        # train/loss, val/loss, train_loss and val_loss share the loss chart; val/acc and val_acc the acc one
        assert set(shown) == {"loss", "acc"}
        loss = shown["loss"]
        # a dense tag is drawn smoothed with its raw values faint behind, ten evaluations as markers
        assert loss.lines == 6
        assert set(loss.labels) == {
            "tb train/loss",
            "tb val/loss",
            "lightning train_loss",
            "lightning val_loss",
        }
        assert loss.data.title == "loss · in-sample: line, out-of-sample: markers"
        # each run keeps one colour and one marker on every chart
        styles = {
            (t.run, t.colour, t.marker) for c in shown.values() for t in c.data.traces if t.kind != "faint"
        }
        assert len(styles) == 2 and len({m for _, _, m in styles}) == 2
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
        assert not any(w.is_running for w in app.workers if w.group == "watch")  # paused while away


def write_decades(path, steps=400, zero_at=None, t0=1_700_000_000.0):
    """A loss from 2.3 down to 2.3e-8 (eight decades) and a constant learning rate of 0.01, with times."""
    rows = []
    for s in range(steps):
        loss = 0.0 if s == zero_at else 2.3 * 10 ** (-8 * s / (steps - 1))
        rows.append(json.dumps({"step": s, "loss": loss, "lr": 0.01, "time": t0 + s}))
    path.write_text("\n".join(rows) + "\n")
    return path


async def test_log_scale_smoothing_and_clean_ticks(tmp_path):
    path = write_decades(tmp_path / "run.jsonl", zero_at=5)
    (tmp_path / "one.jsonl").write_text(json.dumps({"step": 7, "score": 99.5}) + "\n")
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await opened(app, pilot)
        await wait_for(pilot, lambda: {"loss", "lr", "score"} <= set(charts(app)), what="three charts")
        loss, lr, score = (charts(app)[k] for k in ("loss", "lr", "score"))
        assert lr.y_labels == ("0.009", "0.01", "0.011")  # a constant: clean ticks around it
        assert score.y_labels == ("98.5", "99.5", "100.5") and score.x_labels == ("7",)
        assert loss.y_labels[0] == "0" and "[log]" not in loss.data.title  # linear: eight decades squashed
        before = loss.updates
        await pilot.press("y")
        await wait_for(pilot, lambda: loss.updates > before, what="the log chart")
        assert loss.data.title.startswith("loss [log]") and "1 value ≤ 0 not drawn" in loss.data.title
        low, high = loss.y_range
        assert low <= math.log10(2.3e-8) and high >= math.log10(2.3)
        decades = {"1e-9", "1e-8", "1e-7", "1e-6", "1e-5", "1e-4", "0.001", "0.01", "0.1", "1", "10"}
        assert set(loss.y_labels) <= decades and "1" in loss.y_labels and len(loss.y_labels) >= 3
        (front,) = [t for t in loss.data.traces if t.kind == "line"]
        assert 10 ** front.ys[-1] == pytest.approx(smooth(_losses(path), 0.9)[-1])
        assert "y log" in screen_text(app) and "smoothing 0.9" in screen_text(app)
        # s and S step the weight; the raw values stay faint behind a smoothed line; 0 draws them alone
        await pilot.press("s")
        await wait_for(pilot, lambda: "smoothing 0.95" in screen_text(app), what="0.95")
        assert pane.view.weight == 0.95
        await wait_for(
            pilot, lambda: any(t.kind == "faint" for t in loss.data.traces), what="the faint raw values"
        )
        await pilot.press("S", "S", "S", "S", "S")
        await wait_for(pilot, lambda: "smoothing off" in screen_text(app), what="no smoothing")
        await pilot.press("right_square_bracket")  # ] and [ do what s and S do
        await wait_for(pilot, lambda: "smoothing 0.6" in screen_text(app), what="] up to 0.6")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: "smoothing off" in screen_text(app), what="[ back to off")
        assert pane.view.weight == 0.0
        await wait_for(
            pilot, lambda: not any(t.kind == "faint" for t in loss.data.traces), what="no faint trace"
        )
        (raw,) = [t for t in loss.data.traces if t.kind == "line"]
        assert 10 ** raw.ys[-1] == pytest.approx(2.3e-8)


def _losses(path):
    return [json.loads(line)["loss"] for line in path.read_text().splitlines()]


async def test_x_axis_cycles_and_zoom_keys(tmp_path):
    write_decades(tmp_path / "run.jsonl")
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        loss = charts(app)["loss"]
        assert loss.x_labels[0] == "0" and loss.x_labels[-1] in ("300", "350", "400")
        await pilot.press("x")
        await wait_for(pilot, lambda: "x time since start" in screen_text(app), what="relative time")
        # the toolbar changes first; the charts redraw on their next tick
        await wait_for(
            pilot,
            lambda: loss.x_labels[0] == "0s" and loss.x_labels[-1].endswith("m"),
            what=lambda: str(loss.x_labels),
        )
        await pilot.press("x")
        await wait_for(pilot, lambda: "x wall clock" in screen_text(app), what="the wall clock")
        await wait_for(
            pilot,
            lambda: all(re.fullmatch(r"\d\d:\d\d(:\d\d)?", label) for label in loss.x_labels),
            what=lambda: str(loss.x_labels),
        )
        await pilot.press("x", "z")
        await wait_for(pilot, lambda: "zoom: last 200 steps, following" in screen_text(app), what="zoom")
        await wait_for(pilot, lambda: loss.data.x_range == (199.5, 399), what=lambda: str(loss.data.x_range))
        assert min(t.xs[0] for t in loss.data.traces) == 200
        await pilot.press("left")
        await wait_for(pilot, lambda: "zoom: 200 steps window" in screen_text(app), what="moved")
        await wait_for(
            pilot, lambda: loss.data.x_range == (99.75, 299.25), what=lambda: str(loss.data.x_range)
        )
        assert max(t.xs[-1] for t in loss.data.traces) == 299
        await pilot.press("right")
        await wait_for(pilot, lambda: "following" in screen_text(app), what="following again")
        await pilot.press("0")
        await wait_for(pilot, lambda: "zoom: all" in screen_text(app), what="all steps")
        await wait_for(pilot, lambda: loss.data.x_range is None, what=lambda: str(loss.data.x_range))


async def test_filters_and_pins_keep_each_runs_colour_and_marker(tmp_path):
    for name in ("alpha", "beta", "gamma"):
        write_tensorboard(tmp_path / name, range(60)).close()
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await opened(app, pilot)
        await wait_for(pilot, lambda: len(charts(app)["loss"].labels) == 6, what="three runs drawn")

        def styles():
            return {t.run: (t.colour, t.marker) for t in charts(app)["loss"].data.traces if t.label}

        before = styles()
        assert len(set(before.values())) == 3 and len({m for _, m in before.values()}) == 3
        await pilot.press("f", *"gam")
        await wait_for(pilot, lambda: set(styles()) == {"gamma"}, what="the run filter")
        assert styles()["gamma"] == before["gamma"]
        assert "runs ~gam~" in screen_text(app)
        await pilot.press("escape")  # clears the filter, stays on the watch screen
        await wait_for(pilot, lambda: set(styles()) == {"alpha", "beta", "gamma"}, what="filter cleared")
        assert styles() == before and app.screen.query(WatchPane)
        await pilot.press("slash", *"^val", "enter")
        await wait_for(pilot, lambda: "tags /^val/" in screen_text(app), what="the tag filter")
        assert all(t.label.endswith("val/loss") for t in charts(app)["loss"].data.traces if t.label)
        tags = app.screen.query_one("#watch-tags", SelectionList)
        assert [tags.get_option_at_index(i).value for i in range(tags.option_count)] == [
            "val/loss",
            "val/acc",
        ]
        assert app.focused is tags
        await pilot.press("space")  # val/loss off: it reads "(off)", not only a paler box
        await wait_for(pilot, lambda: "val/loss (off)" in screen_text(app), what="the tag off")
        assert "val/loss" in pane.view.tags_off
        runs = app.screen.query_one("#watch-runs", SelectionList)
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.focused is runs, what="the run list")
        assert runs.highlighted_run() == "gamma"  # kept through the run filter and its clearing
        await pilot.press("up")
        await wait_for(
            pilot,
            lambda: runs.highlighted_run() == "beta",
            what=lambda: f"beta highlighted, not {runs.highlighted_run()}",
        )
        await pilot.press("p")  # pin beta: listed first, drawn on top (last)
        await wait_for(pilot, lambda: "beta (pinned)" in screen_text(app), what="the pin")
        assert runs.get_option_at_index(0).value == "beta"
        acc = charts(app)["val/acc"]
        assert acc.data.traces[-1].run == "beta"
        assert {t.run: (t.colour, t.marker) for t in acc.data.traces} == before


async def test_w_comes_back_to_the_watch_screen_as_it_was_left(tmp_path):
    write_decades(tmp_path / "run.jsonl")
    app = watch_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await opened(app, pilot)
        await pilot.press("y", "z")
        await wait_for(pilot, lambda: pane.view.log_y and pane.view.zoom == 1, what="the view changed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.query(WatchPane), what="the dataset panes")
        await wait_for(pilot, lambda: " w watch " in f" {screen_text(app)} ", what="w in the footer")
        polls = pane.polls
        await pilot.press("w")
        await wait_for(pilot, lambda: app.screen.query(WatchPane), what="the watch screen again")
        assert app.screen.query_one(WatchPane) is pane and pane.view.log_y and pane.view.zoom == 1
        await wait_for(pilot, lambda: pane.polls > polls, what="polling again")
        assert pane.snapshot.runs[0].points == 800  # read on, not read twice
        assert "w watch" not in screen_text(app)


async def test_at_80_by_24_a_chart_keeps_40_by_10_cells_of_plot_and_a_stopped_writer_has_no_eta(tmp_path):
    write_decades(tmp_path / "a.jsonl")
    write_lightning_csv(tmp_path / "b" / "metrics.csv", range(50))
    stopped = tmp_path / "c.jsonl"  # its last point is years old, the stall threshold further still
    stopped.write_text(json.dumps({"total_steps": 500}) + "\n" + "\n".join(jsonl_lines(range(100))) + "\n")
    app = watch_app(tmp_path, stall_after=1e12)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(app, pilot)
        runinfo = app.screen.query_one("#watch-runinfo", Static)
        await wait_for(pilot, lambda: "stopped at step 99 of 500" in str(runinfo.content), what="stopped")
        line = next(
            li for li in str(runinfo.content).splitlines() if li.startswith("c.jsonl") or "c.jsonl" in li
        )
        assert "ETA" not in line and "steps/s" not in line
        await wait_for(pilot, lambda: charts(app)["loss"].y_labels, what="the loss chart")

        def plot() -> tuple[int, int, int]:
            """(plot columns, plot rows, the chart's bottom row) of the loss chart as laid out now."""
            chart = charts(app)["loss"]
            region = chart.region
            label = max(len(t) for t in chart.y_labels)
            # tick labels, the tick mark, the frame's two sides; title, frame, tick labels, x label
            return region.width - label - 3, region.height - 5, region.bottom

        def laid_out() -> str:
            parts = [f"{w.id} {w.region}" for w in app.screen.query("#watch-pane > *, #watch-main > *")]
            return f"plot (columns, rows, bottom) {plot()}; pane classes {pane.classes}; " + "; ".join(parts)

        # once laid out for 80×24 (the narrow layout): 40×10 cells of plot, wholly above the footer
        pane = app.screen.query_one(WatchPane)
        await wait_for(pilot, lambda: (p := plot())[0] >= 40 and p[1] >= 10 and p[2] <= 23, what=laid_out)


def test_the_lists_silence_a_selectionlist_method_that_still_exists():
    # watch_lists.ToggleList overrides SelectionList._message_changed so that listing 2,000 runs
    # posts no 2,000 messages; if Textual renames it, the override silently stops working.
    from dataloupe.tui.panes.watch_lists import ToggleList

    assert callable(getattr(SelectionList, "_message_changed", None))
    assert ToggleList._message_changed is not SelectionList._message_changed
