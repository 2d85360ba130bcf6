"""The training pane's charts and status lines at 80×24 and 60×20, in colour, without colour, and in ASCII.

Issue 9: item 10 (legend off the lines, no wasted rows, no toasts after a run, the summary and the
ETA whole), item 11 (a chart too small for its classes says so and names the size) and item 15
(train and test differ by marker without colour). Snapshots are made up, so no test waits on torch.
"""

from __future__ import annotations

import re

from textual.widgets._toast import Toast

from dataloupe.core.wording import pack_line
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.training_pane import TrainingPane
from dataloupe.tui.widgets.accuracy_chart import AccuracyChart
from dataloupe.tui.widgets.confusion_view import ConfusionView
from dataloupe.tui.widgets.line_chart import LineChart, thin
from dataloupe.tui.widgets.loss_chart import TRAINING_LINE_POINTS, LossChart
from dataloupe.tui.widgets.per_class_chart import PerClassChart

from support.makers import training_snapshot as snapshot
from support.pilot import open_training, screen_lines, wait_for

BRAILLE = re.compile("[\u2801-\u28ff]")
CLASSES = tuple(str(k) for k in range(10))


def lines(app) -> list[str]:
    return screen_lines(app)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


async def test_at_80x24_the_eta_and_the_summary_are_whole_and_no_toast_covers_the_charts():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        pane.running = True
        pane.show_view(1)
        pane.post_message(TrainingPane.Progress(snapshot()))
        await wait_for(pilot, lambda: app.query_one(AccuracyChart).points == 12, what="the charts")
        screen = flat(" ".join(lines(app)))
        assert "ETA 50 min 00 s" in screen and "GPU 123.4 MB" in screen  # the unit is on screen
        assert "1 min 15 s" in screen
        final = snapshot("stopped", eta=None)
        pane.post_message(TrainingPane.Finished(final, None))
        await wait_for(pilot, lambda: not pane.running)
        await pilot.pause(0.3)
        assert "weakest class 8 at 57.1%" in final.summary()
        assert flat(final.summary()) in flat(" ".join(lines(app)))  # not cut at "weakest class 8 at"
        assert not list(app.query(Toast))  # neither the summary nor an implementation note as a toast


async def test_the_key_is_in_the_title_and_no_row_is_spent_on_axis_labels():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        pane.show_view(1)
        pane.post_message(TrainingPane.Finished(snapshot("finished", eta=None), None))
        await wait_for(pilot, lambda: app.query_one(AccuracyChart).points == 12, what="the charts")
        await pilot.pause()
        chart = app.query_one(AccuracyChart)
        rows = chart.render().plain.splitlines()
        assert "train" in rows[0] and "test" in rows[0]
        for row in rows[1:]:  # the legend no longer sits on the lines
            assert "train" not in row and "test" not in row and "sample" not in row, row
        assert "epoch" in rows[0] and "epoch" not in " ".join(rows[1:])  # no x-label row under the ticks
        assert re.fullmatch(r"[\s\d.]+", rows[-1])  # the last row holds the tick labels
        low, high = chart.y_range
        values = [100 * a for a in (*snapshot().train_accuracy, *snapshot().test_accuracy)]
        assert min(values) - 10 < low <= min(values) and max(values) <= high < max(values) + 10
        loss_rows = app.query_one(LossChart).render().plain.splitlines()
        assert "step" in loss_rows[0] and "step" not in " ".join(loss_rows[1:])
        # steps 0 to 1,230 and epochs 1 to 12 ticked at round whole numbers (plotext's own said 307.5)
        for ticks in (loss_rows[-1].split(), rows[-1].split()):
            values = [int(t.replace(",", "")) for t in ticks]
            assert len(values) >= 3 and re.fullmatch(r"[\d,\s]+", " ".join(ticks)), ticks
            step = values[1] - values[0]
            assert all(b - a == step for a, b in zip(values, values[1:], strict=False))
            assert str(step)[0] in "125" and set(str(step)[1:]) <= {"0"}  # 1, 2, 5, 10, 20, 25, 50, …


async def test_at_60x20_the_class_view_names_the_size_it_needs_instead_of_dropping_classes():
    app = build_app(AppOptions())
    async with app.run_test(size=(60, 20)) as pilot:
        pane = await open_training(app, pilot)
        pane.show_view(2)
        pane.post_message(TrainingPane.Finished(snapshot("finished", eta=None), None))
        await wait_for(pilot, lambda: len(app.query_one(PerClassChart).bars) == 10, what="the bars")
        await pilot.pause(0.2)
        screen = flat(" ".join(lines(app)))
        chart, confusion = app.query_one(PerClassChart), app.query_one(ConfusionView)
        # either every class is on screen, or the chart says how big the terminal must be
        shown = chart.render().plain
        assert "Make the terminal at least" in shown and re.search(r"at least \d+×\d+", shown)
        assert not confusion.fits and re.search(r"at least \d+×\d+ to see it", screen)
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.3)
        assert confusion.fits and chart.too_small() is None
        rendered = chart.render().plain
        assert all(re.search(rf"^ *{k} █+ *\d+\.\d%$", rendered, re.M) for k in CLASSES)  # all ten bars


async def test_at_80x24_the_class_view_shows_a_bar_for_each_of_ten_classes():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        pane.show_view(2)
        final = snapshot("finished", eta=None)
        pane.post_message(TrainingPane.Finished(final, None))
        await wait_for(pilot, lambda: len(app.query_one(PerClassChart).bars) == 10, what="the bars")
        await pilot.pause()
        chart = app.query_one(PerClassChart)
        assert chart.too_small() is None and app.query_one(ConfusionView).fits
        screen = "\n".join(lines(app))
        for k, accuracy in zip(CLASSES, final.latest.test.per_class, strict=True):
            assert re.search(rf"^ *{k} █+ *{100 * accuracy:.1f}%", screen, re.M), (k, screen)


async def test_without_colour_train_and_test_differ_by_marker(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        pane = await open_training(app, pilot)
        pane.show_view(1)
        pane.post_message(TrainingPane.Finished(snapshot("finished", eta=None), None))
        await wait_for(pilot, lambda: app.query_one(AccuracyChart).points == 12, what="the charts")
        await pilot.pause()
        plot = "\n".join(app.query_one(AccuracyChart).render().plain.splitlines()[1:])
        assert BRAILLE.search(plot) and "•" in plot  # train in braille, test in dots


async def test_in_ascii_the_series_use_ascii_markers():
    app = build_app(AppOptions(ascii=True))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        pane.show_view(1)
        pane.post_message(TrainingPane.Finished(snapshot("finished", eta=None), None))
        await wait_for(pilot, lambda: app.query_one(AccuracyChart).points == 12, what="the charts")
        await pilot.pause()
        plot = "\n".join(app.query_one(AccuracyChart).render().plain.splitlines()[1:])
        assert "*" in plot and "o" in plot and not BRAILLE.search(plot)


async def test_the_training_charts_are_line_charts_that_thin_a_long_history():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        pane.show_view(1)
        loss, accuracy = app.query_one(LossChart), app.query_one(AccuracyChart)
        assert isinstance(loss, LineChart) and isinstance(accuracy, LineChart)  # the watch pane's widget
        steps = tuple(range(5_000))  # a history kept with history_points far above the default
        long = snapshot("finished", eta=None, loss_steps=steps, loss_values=tuple(1 / (1 + s) for s in steps))
        pane.post_message(TrainingPane.Finished(long, None))
        await wait_for(pilot, lambda: accuracy.points == 12, what="the charts")
        assert loss.points == loss.drawn == TRAINING_LINE_POINTS  # bounded, the default history drawn whole
        assert (accuracy.points, accuracy.drawn, accuracy.lines) == (12, 24, 2)
        assert accuracy.labels == ("train", "test")


def test_thin_keeps_evenly_spaced_points_and_the_last():
    assert thin(range(10), range(10), 4) == ([0, 3, 6, 9], [0, 3, 6, 9])
    assert thin([1, 2], [3, 4], 4) == ([1, 2], [3, 4])


def test_pack_line_breaks_between_parts_only():
    parts = ["epoch 12/100", "loss 0.2428", "ETA 20.2 s"]
    assert pack_line(parts, 80) == "epoch 12/100 · loss 0.2428 · ETA 20.2 s"
    assert pack_line(parts, 30) == "epoch 12/100 · loss 0.2428\nETA 20.2 s"


def test_round_ticks_are_round_and_whole_where_the_values_are():
    from dataloupe.tui.widgets.axes import round_ticks

    assert round_ticks(1, 20, 5, whole=True) == ([5, 10, 15, 20], ["5", "10", "15", "20"])
    assert round_ticks(1, 115, 5, whole=True)[1] == ["25", "50", "75", "100"]
    assert round_ticks(0, 4_600, 5, whole=True)[1] == ["0", "1,000", "2,000", "3,000", "4,000"]
    assert round_ticks(1, 2, 8, whole=True)[1] == ["1", "2"]  # no half steps between whole ones
    assert round_ticks(0.1, 1.0, 5)[1] == ["0.2", "0.4", "0.6", "0.8", "1.0"]
    assert round_ticks(3, 3, 5, whole=True)[1] == ["3"]
