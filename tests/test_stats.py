"""Class counts and the balance summary, on small tensors and on the real MNIST and wine data."""

from __future__ import annotations

import math
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from dataloupe.core.errors import Cancelled, DatasetError
from dataloupe.core.stats.classes import balance_summary, class_counts, split_labels

# The oracle: the class counts printed in ../shared/data/README.md for train-labels-idx1-ubyte.gz.
MNIST_TRAIN_README_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


class LabelsOnly(Dataset):
    """A dataset of (dummy sample, label) with no ``targets``: labels must be decoded one by one."""

    def __init__(self, labels) -> None:
        self.labels = [int(v) for v in labels]
        self.reads = 0

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        self.reads += 1
        return torch.zeros(1), self.labels[i]


def test_mnist_training_label_counts_match_the_readme(mnist_dir):
    from dataloupe.core.readers.idx import LABELS_MAGIC, read_idx

    labels = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz", LABELS_MAGIC)
    assert len(labels) == 60_000
    known = class_counts(SimpleNamespace(targets=labels, classes=[str(d) for d in range(10)]))
    assert known.tolist() == MNIST_TRAIN_README_COUNTS
    # the decoding path (targets unknown) gives the same counts, chunk by chunk
    decoded = class_counts(LabelsOnly(labels), num_classes=10, chunk=4096)
    assert decoded.tolist() == MNIST_TRAIN_README_COUNTS


def test_mnist_test_split_counts_through_the_handle(mnist_test):
    split = mnist_test.split("test")
    counts = class_counts(split)
    assert counts.sum() == 10_000
    assert counts.tolist() == np.bincount(split.targets, minlength=10).tolist()


def test_unknown_targets_report_partial_counts_that_grow_to_the_total():
    labels = np.arange(1000) % 3
    seen = []
    counts = class_counts(LabelsOnly(labels), num_classes=3, on_partial=seen.append, chunk=256)
    assert counts.tolist() == [334, 333, 333]
    assert [p.done for p in seen] == [256, 512, 768, 1000]
    assert all(p.total == 1000 for p in seen)
    assert all(sum(p.counts) == p.done for p in seen)
    assert seen[-1].counts == (334, 333, 333) and seen[-1].fraction == 1.0


def test_counting_stops_when_cancelled():
    cancel = threading.Event()
    data = LabelsOnly(np.zeros(2000, dtype=int))

    def stop_after_first(_partial) -> None:
        cancel.set()

    with pytest.raises(Cancelled):
        class_counts(data, num_classes=1, on_partial=stop_after_first, cancel=cancel, chunk=100)
    assert data.reads == 100


def test_known_targets_are_counted_without_reading_a_sample():
    data = LabelsOnly([0, 1, 1])
    data.targets = np.array([2, 2, 0])
    assert class_counts(data, num_classes=3).tolist() == [1, 0, 2]
    assert data.reads == 0


def test_a_label_past_the_class_list_shows_instead_of_vanishing():
    assert class_counts(LabelsOnly([0, 1, 4]), num_classes=2).tolist() == [1, 1, 0, 0, 1]


@pytest.mark.parametrize("targets_known", [True, False])
def test_a_negative_label_is_refused_with_a_message(targets_known):
    data = LabelsOnly([0, 1, -1, 2])
    if targets_known:
        data.targets = np.array(data.labels)
    with pytest.raises(DatasetError, match=r"sample 2 has label -1; labels must be class indices 0..C-1"):
        class_counts(data, num_classes=3)


def test_split_labels_keeps_the_order():
    labels = [2, 0, 1, 1, 0]
    assert split_labels(LabelsOnly(labels), 3, chunk=2).tolist() == labels


def test_balance_summary_figures():
    s = balance_summary([30, 10], ["cat", "dog"], threshold=1.5)
    assert s.total == 40 and s.largest == 0 and s.smallest == 1
    assert s.ratio == pytest.approx(3.0)
    assert s.majority_accuracy == pytest.approx(0.75)
    expected_entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    assert s.entropy == pytest.approx(expected_entropy)
    assert s.majority_sentence() == "always answering cat scores 75.0%"
    assert s.unbalanced
    warning = s.warning()
    assert warning is not None
    assert "3.0× as many samples as dog" in warning
    for remedy in ("class-balanced sampler", "oversample", "weight the classes", "per-class accuracy"):
        assert remedy in warning
    assert "largest ÷ smallest 3.00" in s.describe()


def test_an_even_split_has_entropy_one_and_no_warning():
    s = balance_summary([5, 5, 5, 5], list("abcd"))
    assert s.entropy == pytest.approx(1.0)
    assert s.ratio == 1.0 and not s.unbalanced and s.warning() is None


def test_a_class_without_samples_makes_the_ratio_infinite():
    s = balance_summary([4, 0], ["a", "b"])
    assert math.isinf(s.ratio) and s.unbalanced
    assert "∞×" in (s.warning() or "")
    short = balance_summary([4], ["a", "b"])  # counts shorter than the class list: padded with zeros
    assert short.counts == (4, 0) and math.isinf(short.ratio)


def _wine_counts(path, threshold):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset

    handle = open_dataset(DatasetSpec(str(path), threshold=threshold))
    per_split = {name: class_counts(handle.split(name)) for name in handle.split_names}
    return handle, per_split


def test_red_wine_at_4_5_is_63_low_against_1536_high_and_unbalanced(red_wine):
    handle, per_split = _wine_counts(red_wine, 4.5)
    total = per_split["train"] + per_split["test"]
    assert total.tolist() == [63, 1536]
    # dataloupe holds out 20% of each class as test: both splits keep the imbalance
    assert per_split["test"].sum() == 320
    for counts in per_split.values():
        assert balance_summary(counts, handle.classes).warning() is not None
    assert balance_summary(total, handle.classes).ratio == pytest.approx(1536 / 63)


def test_red_wine_at_5_5_is_balanced_enough(red_wine):
    handle, per_split = _wine_counts(red_wine, 5.5)
    total = per_split["train"] + per_split["test"]
    assert total.sum() == 1599
    for counts in [*per_split.values(), total]:
        assert balance_summary(counts, handle.classes).warning() is None
