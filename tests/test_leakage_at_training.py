"""Training on a test split that copies the training split says so before it starts and beside the
test accuracy; ``--strict`` refuses to train."""

from __future__ import annotations

import shutil

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset
from dataloupe.core.settings import TrainConfig
from dataloupe.core.training.setup import prepare_run

from support.inprocess import run_main
from support.makers import write_image_folder


def leaky_folder(tmp_path):
    """train/ of 2 classes, and test/ whose 6 images are copies of 6 training images (renamed)."""
    root = tmp_path / "leaky"
    write_image_folder(root / "train", {"a": 10, "b": 10})
    for cls in ("a", "b"):
        (root / "test" / cls).mkdir(parents=True)
        for i in range(3):
            shutil.copy(root / "train" / cls / f"{i:03d}.png", root / "test" / cls / f"copy{i}.png")
    return root


def test_the_setup_names_the_leak(tmp_path):
    setup, _ = prepare_run(open_dataset(DatasetSpec(str(leaky_folder(tmp_path)))), TrainConfig(epochs=1))
    assert setup.leakage == "6 of 6 test samples (100.0%) are exact copies of training samples"
    assert any(note.startswith("the split check fails: 6 of 6 test samples") for note in setup.notes)


def test_train_says_so_before_it_starts_and_beside_the_accuracy(tmp_path):
    root = leaky_folder(tmp_path)
    done = run_main("train", str(root), "--epochs", "1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    warned = out.index("note: the split check fails: 6 of 6 test samples (100.0%)")
    assert warned < out.index("\nepoch ")  # before the first result
    assert "(inflated: 6 of 6 test samples (100.0%) are exact copies of training samples)" in out


def test_strict_refuses_to_train(tmp_path):
    done = run_main("train", str(leaky_folder(tmp_path)), "--epochs", "1", "--strict")
    assert done.returncode == 2
    assert "--strict refuses to train" in done.stderr and "6 of 6 test samples" in done.stderr
    assert "\nepoch " not in done.stdout
