"""The learning-curve view through Pilot: curves, table and verdict fill in; a stop keeps the points.

The view runs alone in a small app here, on small sweeps of the digits (2 networks of 16 units,
3 sizes, 40-60 steps a point, one torch thread).
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from dataloupe.core.settings import TrainConfig
from dataloupe.core.threads import set_threads
from dataloupe.core.training.curve.points import CurvePlan
from dataloupe.tui.widgets.curve_chart import CurveChart, size_label
from dataloupe.tui.widgets.curve_view import LearningCurveView

from support.pilot import screen_text, wait_for

set_threads(1)

CONFIG = TrainConfig(batch_size=32, device="cpu", epochs=1)
PLAN = CurvePlan(units=16, depths=(1, 2), sizes=3, repeats=2, min_steps=40)
"""12 points: 1×16 and 2×8 on 70, 322 and 1,438 samples, seeds 0 and 1."""


class CurveApp(App):
    def compose(self) -> ComposeResult:
        yield LearningCurveView(id="curve")


async def test_the_curves_table_and_verdict_fill_in_until_the_sweep_ends(digits):
    app = CurveApp()
    async with app.run_test(size=(100, 32)) as pilot:
        view = app.query_one(LearningCurveView)
        view.plan = PLAN
        view.toggle(digits, CONFIG)
        assert view.running
        await wait_for(
            pilot, lambda: view.result is not None and view.result.ended, timeout=60, what="the sweep"
        )
        await wait_for(pilot, lambda: "finished: 12/12 points" in screen_text(app), what="the final status")
        text = screen_text(app)
        assert view.result.state == "finished" and not view.running
        chart = app.query_one(CurveChart)
        assert chart.lines == 2 and chart.labels == ("1×16", "2×8") and chart.points == 3
        assert "test accuracy % by training samples" in text
        for label in ("70", "322", "1.4k"):
            assert label in text  # the x ticks are the sizes
        assert "1,210" in text and "682" in text  # parameters
        assert "139-146" in text  # samples per class at the whole split
        assert any(v in text for v in ("more data still helps:", "plateau:", "too noisy to tell:"))
        assert "±" in text  # two seeds: the spread


async def test_stopping_keeps_the_points_measured_on_screen(digits):
    app = CurveApp()
    async with app.run_test(size=(100, 32)) as pilot:
        view = app.query_one(LearningCurveView)
        view.plan = CurvePlan(units=16, depths=(1, 2), sizes=3, repeats=2, min_steps=400)
        view.toggle(digits, CONFIG)
        await wait_for(
            pilot,
            lambda: view.result is not None and len(view.result.points) >= 2,
            timeout=60,
            what="2 points",
        )
        view.toggle(digits, CONFIG)  # the same key stops it
        await wait_for(pilot, lambda: not view.running, timeout=30, what="the stop")
        result = view.result
        assert result.state == "stopped" and 2 <= len(result.points) < result.total
        await wait_for(pilot, lambda: "stopped:" in screen_text(app), what="the stop on screen")
        text = screen_text(app)
        assert f"after {len(result.points)} of 12 points; those are kept" in text
        assert app.query_one(CurveChart).lines >= 1
        assert f"({len(result.points)} of 12 points)" in text  # the verdict says how much it had


def test_sizes_are_labelled_compactly():
    assert [size_label(n) for n in (70, 999, 1437, 9_999, 60_000)] == ["70", "999", "1.4k", "10k", "60k"]


async def test_c_in_the_training_pane_measures_curves_in_the_data_size_view_and_c_again_stops():
    from dataloupe.tui.app import AppOptions, build_app

    from support.pilot import open_training

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot, device="cpu")
        view = pane.query_one(LearningCurveView)
        view.plan = CurvePlan(units=16, depths=(1, 2), sizes=3, repeats=2, min_steps=200)
        assert "c curve" in screen_text(app).replace("  ", " ")  # the key is in the footer
        await pilot.press("c")
        await wait_for(pilot, lambda: view.result is not None and len(view.result.points) >= 1, timeout=60)
        assert view.display and "data size" in screen_text(app)
        await wait_for(pilot, lambda: "points of 200 steps" in screen_text(app), what="the progress line")
        await pilot.press("c")
        await wait_for(pilot, lambda: not view.running, timeout=30, what="the stop")
        assert view.result.state == "stopped" and view.result.points
        await wait_for(pilot, lambda: "stopped:" in screen_text(app), what="the stop on screen")
        assert not pane.running  # the pane's own training run was never started
