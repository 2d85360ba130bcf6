"""dataloupe.core.batching: loader settings, the batch stepper, and batch summaries, on small tensors and real data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from dataloupe.core.batching import (
    SAMPLER_NAMES,
    WORKERS_REASON,
    BatchStepper,
    LoaderSettings,
    check_batch_count,
)
from dataloupe.core.batching.samplers import SAMPLERS, make_sampler
from dataloupe.core.data.datasets import from_datasets
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import parse_whole
from dataloupe.core.stats.classes import class_counts


class CountingDataset(Dataset):
    """Tiny images whose value is their index; counts how many samples were decoded."""

    def __init__(self, n: int = 53, classes: int = 3, nan_at: int | None = None) -> None:
        self.targets = [i % classes for i in range(n)]
        self.reads = 0
        self.nan_at = nan_at

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int):
        self.reads += 1
        x = torch.full((1, 2, 2), float(i) / len(self))
        if i == self.nan_at:
            x[0, 0, 0] = float("nan")
        return x, self.targets[i]


def counting_split(n: int = 53, classes: int = 3, targets_known: bool = True, **kw):
    ds = CountingDataset(n, classes, **kw)
    handle = from_datasets(
        "counting", {"train": ds}, [f"c{k}" for k in range(classes)], targets_known=targets_known
    )
    ds.reads = 0  # opening the handle reads samples for mean/std
    return handle.split("train"), ds


# ---------------------------------------------------------------------- settings
def test_defaults_are_the_tutorials_and_shuffle_makes_sequential_random():
    s = LoaderSettings()
    assert (s.batch_size, s.shuffle, s.seed, s.drop_last, s.sampler, s.num_workers) == (
        10,
        True,
        0,
        False,
        "sequential",
        0,
    )
    assert s.effective_sampler == "random"
    assert s.with_(shuffle=False).effective_sampler == "sequential"
    assert s.with_(sampler="balanced", shuffle=False).effective_sampler == "balanced"
    assert "num_workers 0" in s.describe()


def test_sampler_names_are_the_ones_core_samplers_builds():
    assert SAMPLER_NAMES == SAMPLERS


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "got 0"),
        (-3, "got -3"),
        ("abc", "got 'abc'"),
        ("", "got ''"),
        (2.5, "got '2.5'"),
        (True, "got True"),
    ],
)
def test_bad_batch_size_says_what_is_wrong(value, shown):
    with pytest.raises(SettingsError) as err:
        LoaderSettings(batch_size=value)
    assert "batch size must be a whole number ≥ 1" in str(err.value)
    assert shown in str(err.value)


def test_parse_names_the_option_and_reads_text():
    s = LoaderSettings.parse("1,000", " 7 ", names=("--batch-size", "--seed"))
    assert (s.batch_size, s.seed) == (1000, 7)
    with pytest.raises(SettingsError, match=r"--batch-size must be a whole number ≥ 1, got 0"):
        LoaderSettings.parse("0", "0", names=("--batch-size", "--seed"))
    with pytest.raises(SettingsError, match=r"--seed must be a whole number from 0"):
        LoaderSettings.parse("10", "-1", names=("--batch-size", "--seed"))
    assert parse_whole("12", "x") == 12


def test_other_bad_settings():
    with pytest.raises(SettingsError, match="unknown sampler 'weighted'"):
        LoaderSettings(sampler="weighted")
    with pytest.raises(SettingsError) as err:
        LoaderSettings(num_workers=2)
    assert WORKERS_REASON in str(err.value)


def test_more_batches_than_exist():
    s = LoaderSettings(batch_size=10)
    assert s.batches_per_epoch(1438) == 144
    assert s.with_(drop_last=True).batches_per_epoch(1438) == 143
    assert check_batch_count(144, 144) == 144
    with pytest.raises(
        SettingsError, match=r"--count 145 asks for more batches than an epoch has: there are 144"
    ):
        check_batch_count(145, 144)
    with pytest.raises(SettingsError, match=r"drop_last leaves no batch"):
        LoaderSettings(batch_size=100, drop_last=True).check(53)
    split, _ = counting_split()
    with pytest.raises(SettingsError, match=r"batch 6 does not exist: epoch 1 has 6 batches \(0..5\)"):
        BatchStepper(split, LoaderSettings(batch_size=10)).jump(6)


# ---------------------------------------------------------------------- order and epochs
def first_batch_labels(split, settings: LoaderSettings, epochs: int = 2) -> list[tuple[int, ...]]:
    stepper = BatchStepper(split, settings)
    out = []
    for e in range(epochs):
        if e:
            stepper.new_epoch()
        out.append(stepper.step().summary.labels)
    return out


def test_shuffled_epochs_differ_and_repeat_for_the_same_seed(digits):
    split = digits.split("train")
    settings = LoaderSettings(batch_size=10, shuffle=True, seed=11)
    epoch1, epoch2 = first_batch_labels(split, settings)
    assert epoch1 != epoch2
    assert first_batch_labels(split, settings) == [epoch1, epoch2]
    assert first_batch_labels(split, settings.with_(seed=12)) != [epoch1, epoch2]


def test_without_shuffle_every_epoch_is_the_same(digits):
    split = digits.split("train")
    stepper = BatchStepper(split, LoaderSettings(shuffle=False))
    first = stepper.step().summary
    stepper.new_epoch()
    second = stepper.step().summary
    assert second.epoch == 2
    assert first.indices == second.indices == tuple(range(10))
    assert first.labels == second.labels == tuple(int(t) for t in split.targets[:10])


@pytest.mark.parametrize("sampler", ["sequential", "random", "balanced"])
def test_stepper_gives_what_a_plain_dataloader_gives(digits, sampler):
    """The oracle: the same settings passed to torch's DataLoader directly, iterated for two epochs."""
    split = digits.split("train")
    settings = LoaderSettings(batch_size=64, seed=3, sampler=sampler, shuffle=sampler != "sequential")
    generator = torch.Generator().manual_seed(3)
    plain = DataLoader(
        split,
        batch_size=64,
        sampler=make_sampler(settings.effective_sampler, len(split), split.targets, generator=generator),
    )
    expected = [(x, y) for _ in range(2) for x, y in plain]
    stepper = BatchStepper(split, settings)
    got = [stepper.step() for _ in range(2 * stepper.batches_per_epoch)]
    assert len(got) == len(expected) == 2 * len(plain)
    for batch, (x, y) in zip(got, expected, strict=True):
        assert torch.equal(batch.x, x)
        assert torch.equal(batch.y, y)
    assert got[-1].summary.epoch == 2


def test_jump_and_long_steps_decode_only_the_batch_shown():
    split, ds = counting_split(53)
    settings = LoaderSettings(batch_size=5, seed=4)
    walker = BatchStepper(split, settings)
    for _ in range(9):
        walked = walker.step()
    ds.reads = 0
    jumper = BatchStepper(split, settings)
    jumped = jumper.jump(8)
    assert ds.reads == 5
    assert jumped.summary.indices == walked.summary.indices
    assert torch.equal(jumped.x, walked.x)
    # a long step into the next epoch: epoch 2's order is drawn, only the last batch is read
    ds.reads = 0
    landed = jumper.step(11 - 8 + 2)  # batches 9, 10 of epoch 1, then 0, 1, 2 of epoch 2
    assert ds.reads == 5
    assert (landed.summary.epoch, landed.summary.index) == (2, 2)
    for _ in range(2 + 3):
        walked = walker.step()
    assert walked.summary.indices == landed.summary.indices


def test_next_epoch_order_does_not_depend_on_how_far_the_last_went(digits):
    split = digits.split("train")
    settings = LoaderSettings(seed=9)
    a, b = BatchStepper(split, settings), BatchStepper(split, settings)
    for _ in range(30):
        a.step()
    a.new_epoch()
    b.new_epoch()
    assert a.step().summary.indices == b.step().summary.indices


def test_step_past_the_last_batch_starts_a_new_epoch():
    split, _ = counting_split(53)
    stepper = BatchStepper(split, LoaderSettings(batch_size=10))
    last = stepper.jump(5)
    assert last.summary.is_last and last.summary.is_last_smaller and last.summary.size == 3
    nxt = stepper.step()
    assert (nxt.summary.epoch, nxt.summary.index) == (2, 0)


# ---------------------------------------------------------------------- what a batch shows
def test_image_batch_shapes_and_dtypes_digits(digits):
    stepper = BatchStepper(digits.split("train"), LoaderSettings(batch_size=10))
    batch = stepper.step()
    s = batch.summary
    assert s.x_shape_text == "torch.Size([10, 1, 8, 8])"
    assert (s.x_dtype, s.y_dtype, s.y_shape) == ("torch.float32", "torch.int64", (10,))
    assert batch.x.dtype == torch.float32 and batch.y.dtype == torch.int64
    assert s.batches == 144
    last = stepper.jump(143).summary
    assert last.is_last_smaller and last.size == 1438 % 10 and last.x_shape[0] == 8
    dropped = BatchStepper(digits.split("train"), LoaderSettings(batch_size=10, drop_last=True))
    assert dropped.batches_per_epoch == 143
    assert not dropped.jump(142).summary.is_last_smaller


def test_real_mnist_batches(mnist_test):
    split = mnist_test.split("test")
    stepper = BatchStepper(split, LoaderSettings(batch_size=64, seed=1))
    batch = stepper.step(3)
    s = batch.summary
    assert s.x_shape_text == "torch.Size([64, 1, 28, 28])"
    assert (s.x_dtype, s.y_dtype) == ("torch.float32", "torch.int64")
    assert s.batches == 157  # 10,000 / 64, the last batch holds 16
    assert list(s.labels) == [int(split.targets[i]) for i in s.indices]
    x = batch.x.double()
    assert (s.x_min, s.x_max) == (float(x.min()), float(x.max()))
    assert s.x_mean == pytest.approx(float(x.mean())) and s.x_std == pytest.approx(float(x.std()))
    assert s.x_min >= 0.0 and s.x_max <= 1.0
    assert stepper.jump(156).summary.size == 10_000 - 156 * 64
    assert s.dataset_counts == tuple(int(c) for c in class_counts(split, 10))


def test_table_batches_red_wine(red_wine):
    from dataloupe.core.readers import open_dataset

    handle = open_dataset(DatasetSpec(str(red_wine), threshold=4.5))
    s = BatchStepper(handle.split("train"), LoaderSettings()).step().summary
    assert s.x_shape_text == "torch.Size([10, 11])"
    assert (s.x_dtype, s.y_dtype, s.y_shape) == ("torch.float32", "torch.int64", (10,))
    assert len(s.histogram) == 2 and sum(s.histogram) == 10


def test_balanced_sampler_evens_out_red_wine(red_wine):
    from dataloupe.core.readers import open_dataset

    handle = open_dataset(DatasetSpec(str(red_wine), threshold=4.5))
    split = handle.split("train")
    stepper = BatchStepper(split, LoaderSettings(batch_size=50, sampler="balanced", seed=0, drop_last=True))
    labels = np.concatenate([stepper.step().summary.labels for _ in range(40)])
    assert len(labels) == 2_000
    minority = int(np.argmin(stepper.dataset_counts))
    data_share = stepper.dataset_counts[minority] / sum(stepper.dataset_counts)
    drawn_share = float(np.mean(labels == minority))
    assert data_share < 0.1  # 63 low against 1,536 high in the whole table
    assert 0.4 <= drawn_share <= 0.6


def test_running_counts_cover_this_epoch_so_far(digits):
    split = digits.split("train")
    stepper = BatchStepper(split, LoaderSettings(batch_size=32, seed=2))
    labels = []
    for _ in range(5):
        s = stepper.step().summary
        labels.extend(s.labels)
    assert s.epoch_counts == tuple(int(c) for c in np.bincount(labels, minlength=10))
    assert s.epoch_batches == 5
    assert s.histogram == tuple(int(c) for c in np.bincount(s.labels, minlength=10))
    assert s.dataset_counts == tuple(int(c) for c in class_counts(split, 10))
    jumped = stepper.jump(9).summary  # batches 0..9 drawn this epoch, counted from the targets
    picked = [i for b in stepper.plan[:10] for i in b]
    assert jumped.epoch_counts == tuple(int(c) for c in np.bincount(split.targets[picked], minlength=10))
    stepper.new_epoch()
    fresh = stepper.step().summary
    assert sum(fresh.epoch_counts) == 32 and fresh.epoch_batches == 1
    assert "class counts over 1 batch of epoch 2" in fresh.counts_text()


def test_unknown_targets_count_the_batches_seen_and_refuse_balancing():
    split, _ = counting_split(53, targets_known=False)
    assert split.targets is None
    stepper = BatchStepper(split, LoaderSettings(batch_size=10))
    a = stepper.step().summary
    b = stepper.step().summary
    assert a.dataset_counts is None
    assert b.epoch_counts == tuple(int(c) for c in np.bincount(a.labels + b.labels, minlength=3))
    assert "?" in b.counts_text()
    with pytest.raises(SettingsError, match="needs every sample's label"):
        BatchStepper(split, LoaderSettings(sampler="balanced"))


def test_normalize_and_augment_change_the_samples_not_the_order(digits):
    split = digits.split("train")
    stepper = BatchStepper(split, LoaderSettings(seed=5))
    plain = stepper.step(4)
    stepper.set_pipeline(digits.pipeline.with_(mode="normalized"))
    normalized = stepper.build()
    assert normalized.summary.indices == plain.summary.indices
    mean, std = digits.pipeline.mean[0], digits.pipeline.std[0]
    assert torch.allclose(normalized.x, (plain.x - mean) / std, atol=1e-5)
    assert "Normalize(mean=" in normalized.summary.pipeline
    stepper.set_pipeline(digits.pipeline.with_(augment=True))
    augmented = stepper.build()
    assert augmented.summary.labels == plain.summary.labels
    assert "RandomAffine" in augmented.summary.pipeline
    assert not torch.equal(augmented.x, plain.x)
    assert stepper.build() is augmented  # built once per position: a redraw does not re-augment


def test_nonfinite_values_are_counted_not_averaged():
    split, _ = counting_split(20, nan_at=0)
    s = BatchStepper(split, LoaderSettings(batch_size=4, shuffle=False)).step().summary
    assert s.nonfinite == 1
    assert np.isfinite([s.x_min, s.x_max, s.x_mean, s.x_std]).all()
    assert "NaN" in s.stats_text()


def test_summary_text_and_json(digits):
    s = BatchStepper(digits.split("train"), LoaderSettings()).step().summary
    record = json.loads(json.dumps(s.to_json()))
    assert record["X"]["shape"] == [10, 1, 8, 8] and record["X"]["dtype"] == "torch.float32"
    assert record["y"] == {"shape": [10], "dtype": "torch.int64"}
    assert record["labels"] == list(s.labels) and sum(record["histogram"]) == 10
    text = s.text()
    assert "torch.Size([10, 1, 8, 8])" in text and "epoch 1 · batch 0 of 144" in text
    assert "\x1b" not in text


def test_the_loader_and_training_defaults_come_from_one_place():
    """The batches pane's batch size differs from training's on purpose, and both are named in core.settings."""
    from dataloupe.core.settings import PREVIEW_BATCH_SIZE, TRAIN_BATCH_SIZE, TrainConfig

    assert LoaderSettings().batch_size == PREVIEW_BATCH_SIZE == 10
    assert TrainConfig().batch_size == TRAIN_BATCH_SIZE == 64
    assert LoaderSettings.parse().batch_size == PREVIEW_BATCH_SIZE
