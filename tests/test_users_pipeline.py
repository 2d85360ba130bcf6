"""Training on the user's own pipeline: its samples as they come, its DataLoader's batch size, and the
screen saying which settings came from the user's code."""

from __future__ import annotations

import math

import torch

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset
from dataloupe.core.settings import TrainConfig
from dataloupe.core.training.setup import prepare_run

CODE = """
import torch
from torch.utils.data import DataLoader, Dataset


class Normalised(Dataset):
    '''Samples already normalised by the user's own transform (mean about 0, std about 1).'''

    classes = ["low", "high"]

    def __len__(self):
        return 60

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return torch.randn(3, 8, 8, generator=g) + (0.5 if i % 2 else -0.5), i % 2


loader = DataLoader(Normalised(), batch_size=4, shuffle=True)
"""


def open_users_loader(tmp_path):
    path = tmp_path / "normalised.py"
    path.write_text(CODE)
    return open_dataset(DatasetSpec(f"{path}:loader"))


def test_training_takes_the_users_samples_as_they_come_and_its_loaders_batch_size(tmp_path):
    handle = open_users_loader(tmp_path)
    setup, _ = prepare_run(handle, TrainConfig(epochs=1))
    assert setup.config.batch_size == 4 and setup.config.transform == "raw"
    assert "Normalize" not in setup.pipeline.describe()  # no second Normalize over the user's own
    raw, _ = handle.splits["train"].read(3)
    assert torch.equal(setup.pipeline(raw), raw)  # the values as the Dataset gives them
    assert setup.batches.steps_per_epoch == math.ceil(len(setup.train) / 4)
    said = " ".join(setup.notes)
    assert "from your code: batch size 4, your DataLoader's" in said
    assert "from your code: samples as your Dataset returns them" in said


def test_a_batch_size_asked_for_overrides_the_loaders(tmp_path):
    handle = open_users_loader(tmp_path)
    setup, _ = prepare_run(handle, TrainConfig(epochs=1, batch_size=8))
    assert setup.config.batch_size == 8
    assert not any("batch size 4" in note for note in setup.notes)


def test_a_dataset_without_a_test_split_says_what_was_held_out(tmp_path):
    handle = open_users_loader(tmp_path)
    assert "test" not in handle.splits
    setup, _ = prepare_run(handle, TrainConfig(epochs=1))
    assert setup.held_out == f"{len(setup.test)} of 60 samples held out for testing" and len(setup.test) == 12
