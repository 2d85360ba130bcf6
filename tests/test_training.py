"""The trainer: it learns the digits, both data paths see the same samples, it stops, pauses and fails cleanly.

Runs use one torch thread, set once at import as the command line sets it at start-up: the test
machines are shared, and two threads fighting other processes for two cores run many times slower.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import dataloupe.core.training.run as training_module
from dataloupe.core.batching.samplers import make_sampler
from dataloupe.core.data.datasets import build_handle, from_datasets, in_memory_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import SettingsError
from dataloupe.core.history import DecimatedHistory
from dataloupe.core.settings import TrainConfig
from dataloupe.core.threads import set_threads
from dataloupe.core.training import device as device_module
from dataloupe.core.training.evaluation import evaluate_model, evaluate_on_test, train_test_splits
from dataloupe.core.training.run import DIVERGED_LOSS, TrainingRun

from support.clock import FakeClock

set_threads(1)

FAST = {"batch_size": 32, "device": "cpu"}
"""Settings every run here shares."""


def digits_run(digits, **changes) -> TrainingRun:
    return TrainingRun(digits, TrainConfig(**{**FAST, **changes}))


def unbalanced_handle(n_major: int = 300, n_minor: int = 30, features: int = 6, *, with_test: bool = True):
    """Two well-separated classes, one ten times rarer, as a table held in memory."""
    g = torch.Generator().manual_seed(0)
    y = np.array([0] * n_major + [1] * n_minor)
    x = torch.randn(len(y), features, generator=g) + 3.0 * torch.from_numpy(y)[:, None].float()
    splits = {"train": in_memory_split(x, y)}
    if with_test:
        splits["test"] = in_memory_split(x.clone(), y.copy())
    pipeline = Pipeline("table", (-5.0,) * features, (8.0,) * features, (0.0,) * features, (1.0,) * features)
    return build_handle(
        name="two-blobs", reader="custom", classes=["major", "minor"], splits=splits, pipeline=pipeline
    )


# ---------------------------------------------------------------------- learning
def test_digits_reach_over_90_percent_test_accuracy_on_the_cpu_in_five_epochs(digits):
    reports = []
    final = TrainingRun(digits, TrainConfig(epochs=5, **FAST), on_report=reports.append).run()
    assert final.state == "finished"
    assert final.latest is not None
    assert final.latest.test.accuracy > 0.90, final.summary()
    assert final.latest.test.samples == len(digits.split("test"))
    assert final.step == final.total_steps == 5 * math.ceil(len(digits.split("train")) / 32)
    assert final.test_accuracy[0] < final.test_accuracy[-1]
    assert final.train_accuracy[-1] > 0.9
    assert final.loss_values[-1] < final.loss_values[0]
    assert reports[-1] is final and reports[-1].ended


def test_evaluations_come_mid_epoch_and_at_each_epoch_end(digits):
    evaluations = []
    config = TrainConfig(epochs=2, eval_test_samples=100, eval_train_samples=500, eval_min_seconds=0, **FAST)
    run = TrainingRun(digits, config, on_evaluation=evaluations.append)
    run.run()
    per_epoch = math.ceil(len(digits.split("train")) / 32)
    steps = [e.step for e in evaluations]
    mid = math.ceil(per_epoch / 2)
    assert steps == [mid, per_epoch, per_epoch + mid, 2 * per_epoch]
    assert [e.epoch for e in evaluations][-1] == pytest.approx(2.0)
    # in-sample accuracy on a fixed training subset; test accuracy on a fixed subset mid-epoch, all of it at the end
    assert [e.train.samples for e in evaluations] == [500] * 4
    assert [e.test.samples for e in evaluations] == [100, 359, 100, 359]
    assert all(0 <= e.train.accuracy <= 1 and e.train.loss > 0 for e in evaluations)
    # epochs of a few milliseconds get no evaluation in between with the default minimum gap
    quick = []
    TrainingRun(digits, TrainConfig(epochs=2, **FAST), on_evaluation=quick.append).run()
    assert [e.step for e in quick] == [per_epoch, 2 * per_epoch]
    latest = evaluations[-1].test
    assert len(latest.per_class) == 10 and len(latest.confusion) == 10
    assert sum(map(sum, latest.confusion)) == latest.samples == len(digits.split("test"))


def test_the_memory_and_loader_paths_see_the_same_samples_and_learn_the_same_weights(digits):
    results = {}
    for path in ("memory", "loader"):
        run = digits_run(digits, epochs=2, data_path=path)
        final = run.run()
        results[path] = (run, final)
    memory, loader = results["memory"], results["loader"]
    assert memory[0].prepare().in_memory and not loader[0].prepare().in_memory
    assert memory[1].loss_values == pytest.approx(loader[1].loss_values, rel=1e-5)
    for a, b in zip(
        memory[0].model.state_dict().values(), loader[0].model.state_dict().values(), strict=True
    ):
        assert torch.allclose(a, b, atol=1e-6)


def test_balanced_sampler_draws_each_class_about_equally_on_both_paths():
    handle = unbalanced_handle()
    orders = {}
    for path in ("memory", "loader"):
        run = TrainingRun(handle, TrainConfig(sampler="balanced", data_path=path, **FAST))
        setup = run.prepare()
        orders[path] = run.epoch_order(torch.Generator().manual_seed(5), len(setup.train))
    assert torch.equal(orders["memory"], orders["loader"])
    labels = handle.splits["train"].targets[orders["memory"].numpy()]
    share_minor = (labels == 1).mean()
    assert 0.4 < share_minor < 0.6  # drawn with replacement: the rare class is no longer rare
    random_order = TrainingRun(handle, TrainConfig(sampler="random", **FAST))
    random_order.prepare()
    order = random_order.epoch_order(torch.Generator().manual_seed(5), 330)
    assert sorted(order.tolist()) == list(range(330))  # a permutation: every sample once


def test_epoch_orders_are_the_draws_of_the_one_sampler_factory():
    handle = unbalanced_handle()
    targets = handle.splits["train"].targets
    for name in ("random", "balanced"):
        run = TrainingRun(handle, TrainConfig(sampler=name, **FAST))
        run.prepare()
        order = run.epoch_order(torch.Generator().manual_seed(9), len(targets))
        sampler = make_sampler(name, len(targets), targets, generator=torch.Generator().manual_seed(9))
        assert order.tolist() == list(sampler), name


def test_the_same_seed_gives_the_same_run_and_another_seed_another(digits):
    a = digits_run(digits, epochs=1).run()
    b = digits_run(digits, epochs=1).run()
    c = digits_run(digits, epochs=1, seed=1).run()
    assert a.loss_values == b.loss_values
    assert a.loss_values != c.loss_values


def test_a_dataset_without_a_test_split_holds_out_a_stratified_fifth_and_says_so():
    handle = unbalanced_handle(with_test=False)
    train, test, note = train_test_splits(handle, handle.pipeline, seed=0)
    assert len(train) + len(test) == 330
    assert len(test) == 66
    assert np.bincount(test.targets).tolist() == [60, 6]  # each class keeps its share
    assert set(train.targets.tolist()) == {0, 1}
    assert "no test split" in note and "20%" in note
    final = TrainingRun(handle, TrainConfig(epochs=2, **FAST)).run()
    assert any("no test split" in n for n in final.notes)
    assert final.latest.test.samples == 66


def test_evaluating_a_trained_model_holds_out_the_test_split_its_run_held_out():
    """The one evaluation path (the app's and dataloupe eval's): the run's seed and test fraction, and a
    note when the model's class names are not the dataset's."""
    handle = unbalanced_handle(with_test=False)
    run = TrainingRun(handle, TrainConfig(epochs=1, seed=3, test_fraction=0.3, **FAST))
    final = run.run()
    result, notes = evaluate_on_test(replace(run.trained(), classes=("big", "small")), handle, "cpu")
    assert result.samples == final.latest.test.samples == 99  # 30% of 330, not the default 20%
    assert result.confusion == final.latest.test.confusion
    assert any("30% held out" in n and "seed 3" in n for n in notes)
    assert any("class names differ" in n for n in notes)
    _, same_names = evaluate_on_test(run.trained(), handle, "cpu")
    assert not any("class names differ" in n for n in same_names)


# ---------------------------------------------------------------------- stopping, pausing, sampling
def test_cancel_stops_mid_epoch_within_one_step(digits):
    cancel = threading.Event()
    seen: dict[str, int] = {}

    def on_report(s):
        if s.step >= 7 and "at" not in seen:
            seen["at"] = s.step
            cancel.set()

    run = TrainingRun(
        digits, TrainConfig(epochs=50, report_interval=0.0, **{**FAST, "batch_size": 8}), on_report, cancel
    )
    final = run.run()
    assert final.state == "stopped"
    assert final.step == seen["at"]  # not one step more
    assert 0 < final.epoch_step < final.steps_per_epoch
    assert "Stopped" in final.message
    assert next(run.model.parameters()).device.type == "cpu"


def test_pause_waits_between_steps_and_resumes(digits, monkeypatch):
    pause = threading.Event()
    states = []

    clock = FakeClock.install(monkeypatch, training_module)

    def on_report(s):
        states.append(s.state)
        if s.step >= 3 and not pause.is_set() and "paused" not in states:
            pause.set()
        elif s.state == "paused":
            clock.advance(1000.0)  # a pause of 1,000 s, as the run's clock sees it
            pause.clear()

    run = TrainingRun(digits, TrainConfig(epochs=1, report_interval=0.0, **FAST), on_report, pause=pause)
    final = run.run()
    assert final.state == "finished"
    assert "paused" in states and states.index("paused") < len(states) - 1
    assert final.elapsed < 1000.0  # the pause is not counted as training time


def test_reports_are_sampled_and_the_loss_history_stays_bounded(digits, monkeypatch):
    import dataloupe.core.progress

    FakeClock.install(monkeypatch, dataloupe.core.progress, frozen=True)  # no interval ever passes
    reports = []
    final = TrainingRun(
        digits,
        TrainConfig(epochs=6, report_interval=0.05, history_points=40, **{**FAST, "batch_size": 4}),
        reports.append,
    ).run()
    assert final.step == 6 * 360
    # a throttled trickle, not one per step: the first report, then only the forced ones (state
    # changes, evaluations: two an epoch at most)
    assert len(reports) <= 1 + 6 * 2 + 4
    assert len(final.loss_steps) <= 41
    steps = np.diff(final.loss_steps[:-1])
    assert len(set(steps.tolist())) == 1  # evenly spaced after decimation
    assert final.loss_steps[0] == 1 and final.loss_steps[-1] == final.step


def test_decimated_history_keeps_shape_with_few_points():
    history = DecimatedHistory(50)
    for i in range(1000):
        history.add(i, math.sin(i / 100), float(i))
    xs, ys, same = history.columns()
    assert len(xs) <= 51
    assert xs[0] == 0 and xs[-1] == 999
    assert all(y == pytest.approx(math.sin(x / 100)) for x, y in zip(xs, ys, strict=True))
    assert list(same) == list(xs)


# ---------------------------------------------------------------------- faults
def test_a_huge_learning_rate_stops_the_run_at_that_step_with_a_message(digits):
    run = digits_run(digits, epochs=3, lr=1e6)
    final = run.run()
    assert final.state == "diverged"
    assert "learning rate 1e+06" in final.message and "try 0.001" in final.message
    assert final.step < final.steps_per_epoch
    # checked before the update, so the model keeps its last usable weights
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


def test_a_nan_in_the_data_is_refused_before_training_naming_the_sample_and_column():
    """The checklist's "finite" check runs before training (issue 10, item 2): no NaN loss to puzzle over."""
    handle = unbalanced_handle()
    handle.splits["train"].array[5, 3] = float("nan")
    handle.feature_names = [f"f{k}" for k in range(6)]
    with pytest.raises(SettingsError) as info:
        TrainingRun(handle, TrainConfig(epochs=3, transform="raw", **FAST)).prepare()
    assert "1 of 330 train samples hold NaN or Inf (sample 5) in f3" in str(info.value)
    assert "NaN loss" in str(info.value)
    assert DIVERGED_LOSS > 100


def test_a_nan_read_through_a_dataloader_is_a_non_finite_loss():
    """Data not held in memory is not scanned first; its first NaN still stops the run with a message."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=g)
    x[5, 0] = float("nan")
    ds = TensorDataset(x, torch.arange(40) % 2)
    handle = from_datasets("streamed", {"train": ds, "test": ds}, ["a", "b"], targets_known=False)
    final = TrainingRun(handle, TrainConfig(epochs=3, transform="raw", **FAST)).run()
    assert final.state == "diverged"
    assert "not a number" in final.message


class Faulty(nn.Module):
    """Wraps a model and raises ``error`` on its ``at``-th training forward pass."""

    def __init__(self, inner: nn.Module, at: int, error: Exception) -> None:
        super().__init__()
        self.inner = inner
        self.at = at
        self.error = error
        self.calls = 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                raise self.error
        return self.inner(x)


def test_any_exception_in_the_loop_becomes_a_message(digits):
    run = digits_run(digits, epochs=1)
    run.prepare()
    run.model = Faulty(run.model, 4, ValueError("bad batch"))
    final = run.run()
    assert final.state == "failed"
    assert final.step == 3
    assert "ValueError: bad batch" in final.message


def test_gpu_out_of_memory_stops_the_run_and_frees_memory(digits, monkeypatch):
    freed = []
    monkeypatch.setattr(training_module, "free_memory", lambda device: freed.append(device))
    run = digits_run(digits, epochs=1)
    run.prepare()
    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    run.model = Faulty(run.model, 2, oom)
    final = run.run()
    assert final.state == "failed"
    assert "ran out of memory" in final.message and "smaller batch size" in final.message
    assert freed and run._prepared.batches.held is None  # the held data is released


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"lr": -1.0}, "learning rate"),
        ({"lr": float("nan")}, "learning rate"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch size"),
        ({"optimizer": "rmsprop"}, "adam or sgd"),
        ({"sampler": "sequential"}, "random or balanced"),
        ({"device": "tpu"}, "auto, cpu or cuda"),
        ({"model": "cnn"}, "needs images"),
    ],
)
def test_bad_settings_raise_before_training(change, match):
    with pytest.raises(SettingsError, match=match):
        TrainingRun(unbalanced_handle(), TrainConfig(**{**FAST, **change})).run()


def test_balanced_sampler_without_labels_is_refused_with_a_message():
    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(40, 3, generator=g), torch.arange(40) % 2)
    handle = from_datasets("unlabelled", {"train": ds, "test": ds}, ["a", "b"], targets_known=False)
    with pytest.raises(SettingsError, match="random sampler"):
        TrainingRun(handle, TrainConfig(sampler="balanced", **FAST)).prepare()
    final = TrainingRun(handle, TrainConfig(epochs=1, **FAST)).run()  # the random sampler needs no labels
    assert final.state == "finished"
    assert any("DataLoader" in n for n in final.notes)


# ---------------------------------------------------------------------- evaluation
class Recorder(nn.Module):
    """Predicts class ``x[0] > 0`` and records the grad mode and train flag it ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.seen.append((torch.is_grad_enabled(), self.training))
        positive = (x[:, 0] > 0).float()
        return torch.stack([1 - positive, positive], dim=1) * self.w


def test_evaluate_model_counts_like_numpy_under_no_grad_in_eval_mode():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(500, 3, generator=g)
    y = (torch.rand(500, generator=g) > 0.3).long()
    model = Recorder()
    model.train()
    result = evaluate_model(model, (x, y), 2, batch_size=128)
    pred = (x[:, 0] > 0).long().numpy()
    truth = y.numpy()
    expected = np.zeros((2, 2), dtype=int)
    np.add.at(expected, (truth, pred), 1)
    assert [list(r) for r in result.confusion] == expected.tolist()
    assert result.accuracy == pytest.approx((pred == truth).mean())
    assert result.per_class[1] == pytest.approx(expected[1, 1] / expected[1].sum())
    assert set(model.seen) == {(False, False)}  # no grad, eval mode
    assert model.training  # put back as it was
    assert len(model.seen) == 4  # 500 samples in batches of 128


# ---------------------------------------------------------------------- devices
def test_auto_takes_cuda_when_it_is_there(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=None: "Fake GPU")
    choice = device_module.choose_device("auto")
    assert choice.device.type == "cuda" and choice.notice == ""
    assert choice.name == "cuda:0 (Fake GPU)"
    assert device_module.choose_device("cpu").device.type == "cpu"


def test_cuda_asked_for_but_absent_falls_back_to_the_cpu_with_a_notice(monkeypatch, digits):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    choice = device_module.choose_device("cuda")
    assert choice.device.type == "cpu"
    assert "not available" in choice.notice
    assert device_module.choose_device("auto").notice == ""  # auto asked for nothing in particular
    final = digits_run(digits, epochs=1, device="cuda").run()
    assert final.state == "finished"
    assert any("CUDA was asked for" in n for n in final.notes)
    assert final.gpu_memory is None


def test_gpu_memory_is_read_only_on_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 123_456)
    assert device_module.memory_in_use(torch.device("cuda")) == 123_456
    assert device_module.memory_in_use(torch.device("cpu")) is None
    emptied = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    device_module.free_memory(torch.device("cpu"))
    assert not emptied
    device_module.free_memory(torch.device("cuda"))
    assert emptied


def test_out_of_memory_is_recognised():
    assert device_module.is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert device_module.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert not device_module.is_out_of_memory(RuntimeError("shape mismatch"))
