"""Normalize's mean and std: measured after the resize, over the whole split or a random sample of it.

A folder lists its images class by class; when the classes differ in brightness, a mean taken
from the first images read is the first class's. And a resize smooths pixels, so a std measured
before it is too large for what training sees.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dataloupe.core.data.datasets import SplitData
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset
from dataloupe.core.stats.moments import estimate_moments, scaled_moments


def write_brightness_folder(root, per_class: int, size: int, seed: int = 0):
    """Class folders "a_dark" and "b_light" of noisy RGB images, whose brightness differs by class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls, level in (("a_dark", 50), ("b_light", 190)):
        folder = root / "train" / cls
        folder.mkdir(parents=True)
        for i in range(per_class):
            tint = rng.normal(level, 20, size=(1, 1, 3))  # each image its own shade
            noise = rng.normal(0, 45, size=(size, size, 3))  # pixel noise, which a resize smooths
            pixels = np.clip(tint + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels, mode="RGB").save(folder / f"{i:03d}.png")
    return root


def test_after_normalize_the_resized_split_has_mean_0_and_std_1_per_channel(tmp_path):
    root = write_brightness_folder(tmp_path / "shades", per_class=60, size=32)
    handle = open_dataset(DatasetSpec(str(root), resize="16"))
    split = handle.splits["train"]
    pipeline = handle.pipeline.with_(mode="normalized")
    x = torch.stack([pipeline(split.read(i)[0]) for i in range(split.length)]).to(torch.float64)
    assert x.shape[1:] == (3, 16, 16)
    mean, std = x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3))
    assert mean.abs().max() <= 0.02, mean
    assert (std - 1).abs().max() <= 0.02, std
    assert not any("estimated" in note for note in handle.notes)  # 120 small images: every one was read


def class_sorted_split(n: int, classes: int = 4) -> SplitData:
    """``n`` 3×8×8 uint8 samples in class order, class k about 60k bright, made when read."""

    def read(i: int) -> tuple[torch.Tensor, int]:
        label = i * classes // n
        g = torch.Generator().manual_seed(i)
        x = torch.randint(0, 60, (3, 8, 8), generator=g) + 60 * label
        return x.to(torch.uint8), label

    return SplitData(length=n, read=read, targets=None)


def test_a_budget_spent_early_still_samples_every_class_and_reports_its_standard_error():
    data = class_sorted_split(2_000)
    pipeline = Pipeline.for_images(3)
    every = torch.stack([pipeline(data.read(i)[0]) for i in range(data.length)]).to(torch.float64)
    true_mean, true_std = every.mean(dim=(0, 2, 3)), every.std(dim=(0, 2, 3))
    budget = 150 * 3 * 8 * 8  # values of 150 samples: a read in index order would see class 0 only
    estimate = estimate_moments(data, pipeline, value_budget=budget)
    assert 64 <= estimate.read <= 151 and not estimate.whole
    for c in range(3):
        error, std_error = estimate.mean_error[c], estimate.std_error[c]
        assert 0 < error < 0.05 and 0 < std_error < 0.05
        assert abs(estimate.mean[c] - true_mean[c]) < 4 * error
        assert abs(estimate.std[c] - true_std[c]) < 4 * std_error
    _, _, note = scaled_moments(data, pipeline, value_budget=budget)
    assert f"of {data.length:,} training samples, drawn at random" in note and "standard error" in note


def test_a_split_read_whole_is_exact():
    data = class_sorted_split(100)
    pipeline = Pipeline.for_images(3)
    estimate = estimate_moments(data, pipeline)
    every = torch.stack([pipeline(data.read(i)[0]) for i in range(100)]).to(torch.float64)
    assert estimate.whole and estimate.note() == ""
    assert estimate.mean == pytest.approx(tuple(every.mean(dim=(0, 2, 3)).tolist()), abs=1e-9)
    assert estimate.std == pytest.approx(tuple(every.std(dim=(0, 2, 3)).tolist()), abs=1e-9)
    assert estimate.mean_error == (0.0, 0.0, 0.0) and not any(math.isinf(e) for e in estimate.std_error)
