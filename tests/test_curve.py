"""Learning curves: they rise with data, repeat for a seed, keep every class, judge plainly, and survive a stop.

Sweeps here are small (one or two networks, a few sizes, 100-200 steps a point) and use one torch
thread, as the command line sets it at start-up on these shared machines.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import TrainConfig
from dataloupe.core.threads import set_threads
from dataloupe.core.training.curve.points import (
    CurveNetwork,
    CurvePlan,
    CurvePoint,
    CurveResult,
    CurveSize,
    parse_depths,
)
from dataloupe.core.training.curve.sweep import CurveSweep, class_counts_at, run_curve, stratified_subsets
from dataloupe.core.training.curve.verdict import best_by_size, judge

set_threads(1)

CONFIG = TrainConfig(epochs=1, batch_size=32, device="cpu")
"""Settings every sweep here shares."""
SMALL = CurvePlan(units=32, depths=(1,), sizes=3, smallest=0.02, repeats=1, min_steps=150)
"""One network, 2% / 14% / 100% of the digits (3 samples a class, then 20, then all), one seed: 3 points."""


def _without_time(points):
    return [replace(p, seconds=0.0) for p in points]


# ---------------------------------------------------------------------- the plan
def test_the_default_plan_shares_96_units_wide_or_deep_over_5_geometric_sizes():
    plan = CurvePlan()
    assert plan.hidden_sizes() == ((96,), (48, 48), (24, 24, 24, 24))
    assert [round(s, 4) for s in plan.shares()] == [0.05, 0.1057, 0.2236, 0.4729, 1.0]
    assert CurvePlan(units=100, depths=(3,)).hidden_sizes() == ((34, 33, 33),)
    assert plan.steps_per_point(1437, epochs=5, batch_size=64) == 500  # 115 steps lifted to the floor
    assert plan.steps_per_point(60_000, epochs=1, batch_size=64) == 938


@pytest.mark.parametrize(
    ("plan", "says"),
    [
        (CurvePlan(units=3, depths=(4,)), "3 units cannot make 4 layers"),
        (CurvePlan(sizes=1), "at least 2 training sizes"),
        (CurvePlan(smallest=1.5), "between 0 and 1"),
        (CurvePlan(repeats=0), "at least once"),
        (CurvePlan(depths=(2, 2)), "each depth once"),
    ],
)
def test_a_plan_that_cannot_work_is_refused_with_what_to_do(plan, says):
    with pytest.raises(SettingsError, match=says):
        plan.validate()


def test_depths_are_read_as_typed_and_garbage_is_refused():
    assert parse_depths("1, 2,4") == (1, 2, 4)
    with pytest.raises(SettingsError, match="positive whole numbers"):
        parse_depths("1,two")


# ---------------------------------------------------------------------- subsets
def test_stratified_subsets_hold_every_class_in_its_share_and_nest():
    targets = np.array([0] * 200 + [1] * 50 + [2] * 3 + [3] * 20)  # class 2 has 3 samples: 5% would be 0
    shares = (0.05, 0.3, 1.0)
    per_class = [class_counts_at(targets, s, 4) for s in shares]
    assert per_class == [(10, 2, 1, 1), (60, 15, 1, 6), (200, 50, 3, 20)]
    subsets = stratified_subsets(targets, per_class, seed=3)
    for counts, subset in zip(per_class, subsets, strict=True):
        assert tuple(np.bincount(targets[subset], minlength=4)) == counts
        assert len(np.unique(subset)) == len(subset)
    assert set(subsets[0]) <= set(subsets[1]) <= set(subsets[2])
    assert np.array_equal(subsets[0], stratified_subsets(targets, per_class, seed=3)[0])
    assert not np.array_equal(subsets[0], stratified_subsets(targets, per_class, seed=4)[0])


def test_every_size_of_the_digits_holds_every_class(digits):
    result = CurveSweep(digits, CONFIG, CurvePlan(sizes=5, smallest=0.01)).prepare()
    assert result.train_samples == 1438 and result.test_samples == 359
    smallest = result.sizes[0]
    assert smallest.per_class == (1,) * 10 and smallest.samples == 10
    assert result.sizes[-1].samples == result.train_samples
    assert [s.samples for s in result.sizes] == sorted(s.samples for s in result.sizes)


# ---------------------------------------------------------------------- measuring
def test_test_accuracy_rises_with_data_on_the_digits(digits):
    result = run_curve(digits, CONFIG, SMALL)
    assert result.state == "finished" and len(result.points) == result.total == 3
    sizes, accuracy = result.series("1×32")
    assert sizes == [30, 205, 1438]
    assert accuracy[0] + 0.05 < accuracy[1] < accuracy[2]  # 3 samples a class are clearly worse
    assert accuracy[2] > 0.85
    assert {p.seed for p in result.points} == {0}
    assert all(p.params == 64 * 32 + 32 + 33 * 10 for p in result.points)


def test_a_point_is_the_same_for_its_seed_and_differs_for_another(digits):
    sweep = CurveSweep(digits, CONFIG, replace(SMALL, min_steps=60))
    sweep.prepare()
    import torch

    index = torch.arange(0, 1438, 5)
    first = sweep.measure((32,), index, seed=7)
    assert sweep.measure((32,), index, seed=7) == first
    assert sweep.measure((32,), index, seed=8) != first


def test_stopping_mid_sweep_keeps_the_points_already_measured(digits):
    plan = replace(SMALL, depths=(1, 2), repeats=2, min_steps=60)
    whole = run_curve(digits, CONFIG, plan)
    assert whole.state == "finished" and len(whole.points) == 12
    cancel = threading.Event()
    seen: list[CurveResult] = []

    def on_progress(r: CurveResult) -> None:
        seen.append(r)
        if len(r.points) == 4:
            cancel.set()

    stopped = run_curve(digits, CONFIG, plan, cancel=cancel, on_progress=on_progress)
    assert stopped.state == "stopped"
    assert _without_time(stopped.points) == _without_time(whole.points[:4])
    assert "after 4 of 12 points" in stopped.message
    assert seen[-1] == stopped and seen[-1].ended
    assert judge(stopped).text.startswith("so far, ")


def test_the_balanced_sampler_is_refused_before_anything_trains(digits):
    with pytest.raises(SettingsError, match="random sampler"):
        CurveSweep(digits, replace(CONFIG, sampler="balanced"), SMALL)


# ---------------------------------------------------------------------- the verdict
def _curve(accuracies: dict[str, list[list[float]]], state="finished") -> CurveResult:
    """A made-up sweep: per network, per size, one test accuracy per seed."""
    shares = (0.05, 0.1057, 0.2236, 0.4729, 1.0)
    sizes = tuple(CurveSize(s, round(1000 * s), (round(100 * s),) * 10) for s in shares)
    networks = tuple(CurveNetwork(name, (1,), 100, "MLP") for name in accuracies)
    points = tuple(
        CurvePoint(name, 100, sizes[i].samples, sizes[i].share, seed, 1.0, acc, 0.1)
        for name, per_size in accuracies.items()
        for i, seeds in enumerate(per_size)
        for seed, acc in enumerate(seeds)
    )
    return CurveResult("made-up", networks, sizes, (0, 1), points, state)


def test_a_rising_curve_says_more_data_still_helps_with_the_spread():
    result = _curve({"1×96": [[0.70, 0.71], [0.78, 0.79], [0.84, 0.85], [0.88, 0.886], [0.913, 0.915]]})
    verdict = judge(result)
    assert verdict.kind == "helps"
    assert (
        verdict.text
        == "more data still helps: +3.1 points from 47% to 100% (the spread between seeds is 0.6)"
    )


def test_a_flat_curve_says_plateau_over_the_last_doubling():
    result = _curve({"1×96": [[0.80, 0.81], [0.90, 0.90], [0.95, 0.951], [0.960, 0.962], [0.962, 0.964]]})
    verdict = judge(result)
    assert verdict.kind == "plateau"
    assert verdict.text == "plateau: +0.2 points over the last doubling (the spread between seeds is 0.2)"


def test_a_gain_no_larger_than_the_seeds_disagree_is_too_noisy_to_tell():
    result = _curve({"1×96": [[0.7, 0.7], [0.8, 0.8], [0.85, 0.85], [0.88, 0.91], [0.91, 0.90]]})
    verdict = judge(result)
    assert verdict.kind == "noisy"
    assert verdict.text.startswith("too noisy to tell: +1.0 points from 47% to 100%, no more than the spread")


def test_the_best_shape_is_named_per_size_and_close_ones_tie():
    result = _curve(
        {
            "1×96": [[0.80, 0.80], [0.86, 0.86], [0.90, 0.90], [0.92, 0.92], [0.93, 0.93]],
            "4×24": [[0.70, 0.70], [0.80, 0.80], [0.90, 0.91], [0.95, 0.95], [0.97, 0.97]],
        }
    )
    assert (
        best_by_size(result)
        == "best: 1×96 at 50-106 samples; 1×96 and 4×24 tie at 224 samples; 4×24 at 473-1,000 samples"
    )
    verdict = judge(result)
    assert verdict.network == "4×24"
    assert (
        verdict.text
        == "more data still helps: +2.0 points from 47% to 100% (4×24; the spread between seeds is 0.0)"
    )


def test_with_no_points_or_one_size_the_verdict_says_it_is_too_early():
    empty = _curve({"1×96": []}, state="running")
    assert judge(empty).kind == "early" and "0 of 10 points" in judge(empty).text
    one = _curve({"1×96": [[0.5, 0.6]]}, state="stopped")
    assert judge(one).text == "too early to judge: one training size measured (2 of 10 points)"


def test_a_dataset_read_sample_by_sample_is_refused_with_what_to_try():
    import torch

    from dataloupe.core.data.datasets import SplitData, build_handle
    from dataloupe.core.data.pipeline import Pipeline

    x = torch.rand(40, 3)
    y = np.arange(40) % 2

    def read(i: int):
        return x[i], int(y[i])

    splits = {name: SplitData(length=40, read=read, targets=y, array=None) for name in ("train", "test")}
    handle = build_handle(
        name="streamed",
        reader="custom",
        classes=["a", "b"],
        splits=splits,
        pipeline=Pipeline("table", (0.0,) * 3, (1.0,) * 3, (0.0,) * 3, (1.0,) * 3),
    )
    with pytest.raises(SettingsError, match="needs streamed held in memory"):
        CurveSweep(handle, CONFIG, SMALL).prepare()


def test_a_failed_graph_capture_trains_eagerly_from_the_same_start(digits, monkeypatch):
    import torch

    from dataloupe.core.training.curve import sweep as sweep_module

    sweep = CurveSweep(digits, CONFIG, replace(SMALL, min_steps=40))
    sweep.prepare()
    index = torch.arange(0, 1438, 3)
    eager = sweep.measure((32,), index, seed=5)

    def capture_fails(model, optimizer, loss_fn, held, batch_size):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)  # what the warm-up steps before a capture leave behind
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(sweep_module, "graph_plan", lambda *args, **kw: (True, ""))
    monkeypatch.setattr(sweep_module, "GraphedStep", capture_fails)
    assert sweep.measure((32,), index, seed=5) == eager
