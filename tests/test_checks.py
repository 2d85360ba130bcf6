"""The data checklist on small made-up datasets (each with one known fault) and on real data."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from dataloupe.core.checks import CHECKS, order_stats, read_stored, run_checklist, sample_hashes
from dataloupe.core.data.datasets import build_handle, from_datasets, in_memory_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import Cancelled


class Samples(Dataset):
    """Plain (tensor, label) pairs, with ``targets`` unless told otherwise."""

    def __init__(self, xs, ys, with_targets: bool = True) -> None:
        self.xs = list(xs)
        self.ys = [int(y) for y in ys]
        if with_targets:
            self.targets = list(self.ys)

    def __len__(self) -> int:
        return len(self.xs)

    def __getitem__(self, i):
        return self.xs[i], self.ys[i]


def image_handle(x_train, y_train, x_test=None, y_test=None, high=255.0):
    """A handle held in memory (``split.array`` set), like the IDX and digits readers make."""
    splits = {"train": in_memory_split(x_train, np.asarray(y_train))}
    if x_test is not None:
        splits["test"] = in_memory_split(x_test, np.asarray(y_test))
    c = x_train.shape[1]
    labels = np.concatenate([np.asarray(y_train)] + ([np.asarray(y_test)] if y_test is not None else []))
    pipeline = Pipeline("image", (0.0,) * c, (high,) * c, (0.0,) * c, (1.0,) * c, channels=c)
    classes = [str(k) for k in range(int(labels.max()) + 1)]
    return build_handle(name="made", reader="custom", classes=classes, splits=splits, pipeline=pipeline)


def random_images(n, seed=0, size=6):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, size, size), generator=g, dtype=torch.uint8)


def shuffled_labels(n, classes=4, seed=0):
    return np.random.default_rng(seed).permutation(np.arange(n) % classes)


def verdicts(report):
    return {r.name: r.verdict for r in report.results}


# ---------------------------------------------------------------------- whole reports
def test_every_check_reports_once_in_order(digits):
    report = run_checklist(digits)
    assert [r.name for r in report.results] == list(CHECKS)
    assert all(r.evidence for r in report.results)
    assert all(r.fix for r in report.results if r.verdict != "pass")


def test_digits_read_raw_fail_scaled_and_pass_after_scaling(digits):
    raw = run_checklist(digits, pipeline=digits.pipeline.with_(mode="raw"))
    scaled = run_checklist(digits, pipeline=digits.pipeline.with_(mode="scaled"))
    normalized = run_checklist(digits, pipeline=digits.pipeline.with_(mode="normalized"))
    assert raw.result("scaled").verdict == "fail"
    assert "0 .. 16" in raw.result("scaled").evidence
    assert "divide by the maximum (16)" in raw.result("scaled").fix
    assert scaled.result("scaled").verdict == "pass" and "within [0, 1]" in scaled.result("scaled").evidence
    assert (
        normalized.result("scaled").verdict == "pass"
        and "standardized" in normalized.result("scaled").evidence
    )
    assert raw.exit_code() == 2
    assert verdicts(scaled) == dict.fromkeys(CHECKS, "pass")
    assert scaled.exit_code() == 0 and scaled.exit_code(strict=True) == 0


def test_counts_per_split_and_in_total(digits):
    report = run_checklist(digits)
    for name in digits.split_names:
        expected = np.bincount(digits.split(name).targets, minlength=10)
        assert report.split(name).counts == tuple(expected.tolist())
    assert sum(report.total_counts) == 1797


def test_mnist_test_images_are_checked_whole(mnist_test):
    report = run_checklist(mnist_test)
    assert report.result("scaled").verdict == "pass"
    assert "read" not in report.result("scaled").evidence  # held in memory: every sample looked at
    assert report.result("shapes").evidence == "every sample has shape 1×28×28"
    assert report.result("split").verdict == "warn" and "no train split" in report.result("split").evidence
    raw = run_checklist(mnist_test, pipeline=mnist_test.pipeline.with_(mode="raw"))
    assert raw.result("scaled").verdict == "fail" and "ToTensor()" in raw.result("scaled").fix
    assert raw.result("numeric").verdict == "warn" and "uint8" in raw.result("numeric").evidence


def test_red_wine_duplicates_are_found_and_agree_with_numpy(red_wine):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset

    handle = open_dataset(DatasetSpec(str(red_wine), threshold=4.5))
    report = run_checklist(handle)
    assert report.result("balanced").verdict == "warn"
    assert report.total_counts == (63, 1536)
    # the same leak counted another way: exact row equality with numpy
    train = handle.splits["train"].array.numpy()
    test = handle.splits["test"].array.numpy()
    train_rows = {row.tobytes() for row in train}
    leaked = sum(row.tobytes() in train_rows for row in test)
    assert leaked > 0  # the Wine Quality table repeats rows
    assert report.result("split").verdict == "fail"
    assert report.result("split").evidence.startswith(f"{leaked:,} of {len(test):,} test samples")


# ---------------------------------------------------------------------- split: duplicates and leakage
def test_a_sample_copied_from_train_into_test_is_a_leak():
    x_train, x_test = random_images(200, seed=1), random_images(50, seed=2)
    x_test[7] = x_train[123]
    handle = image_handle(x_train, shuffled_labels(200), x_test, shuffled_labels(50))
    result = run_checklist(handle).result("split")
    assert result.verdict == "fail"
    assert result.evidence.startswith("1 of 50 test samples (2.0%) are exact copies of training samples")
    assert "remove the duplicates" in result.fix


def test_the_leak_is_found_when_samples_are_read_one_by_one():
    xs = list(random_images(60, seed=3))
    test_xs = list(random_images(20, seed=4))
    test_xs[0] = xs[10].clone()
    handle = from_datasets(
        "made",
        {"train": Samples(xs, np.arange(60) % 3), "test": Samples(test_xs, np.arange(20) % 3)},
        ["a", "b", "c"],
    )
    assert handle.splits["train"].array is None
    result = run_checklist(handle).result("split")
    assert result.verdict == "fail" and result.evidence.startswith("1 of 20 test samples")


def test_duplicates_inside_a_split_warn():
    x_train = random_images(100, seed=5)
    x_train[50] = x_train[3]
    x_train[60] = x_train[3]
    handle = image_handle(x_train, shuffled_labels(100), random_images(30, seed=6), shuffled_labels(30))
    result = run_checklist(handle).result("split")
    assert result.verdict == "warn"
    assert "2 of 100 train samples are exact copies of another train sample" in result.evidence


def test_no_test_split_warns():
    handle = image_handle(random_images(40), shuffled_labels(40))
    result = run_checklist(handle).result("split")
    assert result.verdict == "warn" and "no test split" in result.evidence
    assert "hold out a test split" in result.fix


def test_equal_bytes_hash_alike_and_others_do_not():
    x = random_images(5)
    x[4] = x[1]
    h = sample_hashes(read_stored(image_handle(x, [0, 1, 2, 3, 0]).split("train")))
    assert h.dtype == np.uint64 and len(h) == 5
    assert h[4] == h[1] and len(np.unique(h)) == 4


# ---------------------------------------------------------------------- shuffled
def test_sorted_labels_warn_shuffled():
    n = 400
    labels = np.sort(np.arange(n) % 4)
    handle = image_handle(random_images(n), labels, random_images(40, seed=9), shuffled_labels(40))
    result = run_checklist(handle).result("shuffled")
    assert result.verdict == "warn"
    assert "sorted by label" in result.evidence and "longest run 100" in result.evidence
    assert "shuffle=True" in result.fix
    assert run_checklist(handle, loader_shuffles=True).result("shuffled").verdict == "pass"
    assert run_checklist(handle, loader_shuffles=False).result("shuffled").verdict == "fail"


def test_labels_in_blocks_warn_and_a_random_order_passes():
    blocks = np.repeat(np.tile(np.arange(4), 10), 10)  # 0×10, 1×10, 2×10, 3×10, 0×10, …
    blocked = image_handle(random_images(400), blocks)
    result = run_checklist(blocked).result("shuffled")
    assert result.verdict == "warn" and "in blocks of one label" in result.evidence
    shuffled = image_handle(random_images(400), shuffled_labels(400))
    assert run_checklist(shuffled).result("shuffled").verdict == "pass"
    assert run_checklist(shuffled, loader_shuffles=False).result("shuffled").verdict == "warn"


def test_order_stats_measure_what_a_random_order_would_give():
    sorted_stats = order_stats(np.repeat([0, 1], 50))
    assert sorted_stats.sorted and sorted_stats.blocked
    assert sorted_stats.longest_run == 50 and sorted_stats.same_share == pytest.approx(98 / 99)
    # two classes of 50: neighbours share a label with chance 2·50·49 / (100·99)
    assert sorted_stats.random_share == pytest.approx(2 * 50 * 49 / (100 * 99))
    alternating = order_stats(np.tile([0, 1], 50))
    assert not alternating.blocked and alternating.same_share == 0.0 and alternating.longest_run == 1
    assert order_stats(np.zeros(10, dtype=int)) is None


# ---------------------------------------------------------------------- the other checks
def test_nan_and_inf_fail_finite():
    x = torch.rand(50, 4)
    x[7, 2] = float("nan")
    x[9, 0] = float("inf")
    handle = from_datasets("t", {"train": Samples(list(x), np.arange(50) % 2)}, ["a", "b"])
    result = run_checklist(handle).result("finite")
    assert result.verdict == "fail"
    assert "2 of 50 train samples hold NaN or Inf (samples 7, 9)" in result.evidence


def test_nan_is_counted_on_an_array_too():
    x = torch.rand(30, 1, 4, 4)
    x[12, 0, 1, 1] = float("nan")
    handle = image_handle(x, np.arange(30) % 3, high=1.0)
    result = run_checklist(handle).result("finite")
    assert result.verdict == "fail" and "1 of 30 train samples" in result.evidence
    assert run_checklist(handle).result("scaled").verdict == "pass"  # measured over the finite values


def test_differing_shapes_fail():
    xs = [torch.zeros(1, 8, 8)] * 6 + [torch.zeros(1, 10, 8)] * 3
    handle = from_datasets("t", {"train": Samples(xs, np.arange(9) % 3)}, ["a", "b", "c"])
    result = run_checklist(handle).result("shapes")
    assert result.verdict == "fail"
    assert (
        "2 shapes: 1×8×8 (6), 1×10×8 (3)" in result.evidence
        and "resize the images to one size: --resize 64" in result.fix
    )


def test_small_classes_warn_and_test_only_labels_fail():
    y_train = np.array([0] * 30 + [1] * 30 + [2] * 3)
    y_test = np.array([0, 1, 2, 3, 3])
    handle = image_handle(random_images(63), y_train, random_images(5, seed=3), y_test)
    report = run_checklist(handle, min_class_samples=10)
    sizes = report.result("class sizes")
    assert sizes.verdict == "warn" and "2 (3)" in sizes.evidence and "3 (0)" in sizes.evidence
    unseen = report.result("test labels")
    assert unseen.verdict == "fail"
    assert "test holds 1 class that train never has: 3 (2)" in unseen.evidence


def test_a_label_past_the_class_list_fails_numeric():
    x = random_images(10)
    splits = {"train": in_memory_split(x, np.arange(10) % 4)}
    pipeline = Pipeline("image", (0.0,), (255.0,), (0.0,), (1.0,))
    handle = build_handle(
        name="t", reader="custom", classes=["a", "b", "c"], splits=splits, pipeline=pipeline
    )
    report = run_checklist(handle)
    assert report.result("numeric").verdict == "fail"
    assert "label 3 appears in train, but there are 3 classes" in report.result("numeric").evidence
    assert report.classes == ("a", "b", "c", "#3")


def test_unbalanced_train_split_warns_with_remedies():
    y = np.array([0] * 90 + [1] * 10)
    report = run_checklist(image_handle(random_images(100), np.random.default_rng(0).permutation(y)))
    result = report.result("balanced")
    assert result.verdict == "warn" and "9.0× as many samples" in result.evidence
    assert "class-balanced sampler" in result.fix
    assert (
        run_checklist(image_handle(random_images(100), y), threshold=10).result("balanced").verdict == "pass"
    )


# ---------------------------------------------------------------------- large data, progress, cancel
class SlowSamples(Samples):
    """Samples that count their reads, with no ``targets``: everything is read one by one."""

    def __init__(self, xs, ys) -> None:
        super().__init__(xs, ys, with_targets=False)
        self.reads = 0

    def __getitem__(self, i):
        self.reads += 1
        return super().__getitem__(i)


def test_large_splits_are_sampled_and_say_so():
    xs = list(torch.rand(300, 1, 4, 4))
    data = SlowSamples(xs, np.arange(300) % 3)
    handle = from_datasets("t", {"train": data}, ["a", "b", "c"], targets_known=False)
    seen = []
    report = run_checklist(handle, sample_limit=100, progress=seen.append)
    assert "read 100 of 300 train samples" in report.result("scaled").evidence
    assert report.split("train").counts == (100, 100, 100)  # counts are exact: every label is read
    whats = {p.what for p in seen}
    assert {"reading train labels", "reading train samples"} <= whats


def test_a_set_cancel_event_stops_the_checklist(digits):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run_checklist(digits, cancel=cancel)


# ---------------------------------------------------------------------- faults (issue 10, items 2 and 3)
def test_a_split_too_small_to_train_or_test_fails():
    handle = image_handle(random_images(1), [0], random_images(0, seed=1), np.zeros(0, np.int64))
    result = run_checklist(handle).result("split")
    assert result.verdict == "fail"
    assert (
        "the train split has 1 sample" in result.evidence
        and "the test split has 0 samples" in result.evidence
    )


def test_a_single_class_fails_balanced():
    handle = image_handle(random_images(40), [0] * 40, random_images(10, seed=1), [0] * 10)
    result = run_checklist(handle).result("balanced")
    assert result.verdict == "fail" and "every sample is of class 0" in result.evidence


def test_an_inf_column_fails_scaled_as_well_as_finite(tmp_path):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset

    table = tmp_path / "inf.csv"
    rows = [f"{i},{'inf' if i == 7 else i % 5},{i % 2}" for i in range(60)]
    table.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    report = run_checklist(open_dataset(DatasetSpec(str(table))))
    assert report.result("finite").verdict == "fail" and " in b" in report.result("finite").evidence
    scaled = report.result("scaled")
    assert scaled.verdict == "fail" and "the scaling of b" in scaled.evidence


def test_a_nan_label_is_refused_with_its_line(tmp_path):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.errors import DatasetError
    from dataloupe.core.readers import open_dataset

    table = tmp_path / "nan-label.csv"
    rows = [f"{i},{i % 5},{'nan' if i == 3 else i % 2}" for i in range(40)]
    table.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(
        DatasetError, match=r"line 5: the label column 'label' holds 'nan', which is not a class"
    ):
        open_dataset(DatasetSpec(str(table)))
