"""--resize: a folder of photos of mixed sizes batches and trains at 64×64, and a checkpoint keeps the resize."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dataloupe.core.data.sources import DatasetSpec, parse_resize
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers import open_dataset

from support.inprocess import run_main
from support.makers import write_photo_folder

SIZES = [(80, 60), (120, 90), (64, 100), (150, 100), (97, 71)]
"""(width, height) of the photos: five sizes, none of them 64×64."""


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    write_photo_folder(root / "train", {"ant": 15, "bee": 15}, SIZES, seed=1)
    write_photo_folder(root / "val", {"ant": 5, "bee": 5}, SIZES, seed=2)
    return root


def test_resize_is_parsed_or_refused_with_what_to_type():
    assert parse_resize("64") == "64" and parse_resize(" 64×48 ") == "64x48" and parse_resize(32) == "32"
    with pytest.raises(DatasetError, match="--resize 'big'.*64x48"):
        DatasetSpec("digits", resize="big")


def test_mixed_sizes_come_out_at_the_resize_and_the_preview_says_from_what(photos):
    handle = open_dataset(DatasetSpec(str(photos), resize="64"))
    split = handle.split("train")
    shapes = {tuple(split[i][0].shape) for i in range(len(SIZES))}
    assert shapes == {(3, 64, 64)}
    assert handle.sample_shape == (3, 64, 64)
    info = split.info(1)
    assert info.shape_text == "3×64×64 (resized from 3×90×120)"
    assert "Resize(64) → CenterCrop(64)" in handle.pipeline.describe()
    exact = open_dataset(DatasetSpec(str(photos), resize="64x48")).split("train")
    assert tuple(exact[3][0].shape) == (3, 48, 64)


def test_resize_matches_torchvision(photos):
    from torchvision.transforms import v2

    handle = open_dataset(DatasetSpec(str(photos), resize="64"))
    split = handle.split("train", handle.pipeline.with_(mode="raw"))
    raw, _ = split.raw(2)
    expected = v2.CenterCrop(64)(v2.Resize(64, antialias=True)(raw))
    assert torch.equal(split[2][0], expected)


def test_without_resize_the_checklist_and_the_batches_name_the_option(photos):
    from dataloupe.core.batching import BatchStepper, LoaderSettings
    from dataloupe.core.checks import run_checklist

    handle = open_dataset(DatasetSpec(str(photos)))
    shapes = run_checklist(handle).result("shapes")
    assert shapes.verdict == "fail" and "5 shapes" in shapes.evidence and "--resize 64" in shapes.fix
    with pytest.raises(DatasetError, match="--resize 64"):
        BatchStepper(handle.split("train"), LoaderSettings(batch_size=10)).step()
    resized = open_dataset(DatasetSpec(str(photos), resize="64"))
    assert run_checklist(resized).result("shapes").verdict == "pass"
    batch = BatchStepper(resized.split("train"), LoaderSettings(batch_size=10)).step()
    assert tuple(batch.x.shape) == (10, 3, 64, 64)


def test_a_table_refuses_resize(red_wine):
    with pytest.raises(DatasetError, match="--resize applies to images"):
        open_dataset(DatasetSpec(str(red_wine), resize="64"))


def test_train_with_resize_and_evaluate_reuses_it_from_the_checkpoint(photos, tmp_path):
    ckpt = tmp_path / "photos.pt"
    train = run_main(
        "train",
        str(photos),
        "--resize",
        "64",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--save",
        str(ckpt),
    )
    assert train.returncode == 0, train.stderr
    from dataloupe.core.training.checkpoint import load_checkpoint

    assert load_checkpoint(ckpt).pipeline.resize == "64"
    assert load_checkpoint(ckpt).spec.input_shape == (3, 64, 64)
    evaluate = run_main("eval", str(ckpt), str(photos), "--json")  # no --resize: the checkpoint brings it
    assert evaluate.returncode == 0, evaluate.stderr
    doc = json.loads(evaluate.stdout)
    assert doc["samples"] == 10 and 0.0 <= doc["test_accuracy"] <= 1.0 and np.isfinite(doc["test_loss"])
