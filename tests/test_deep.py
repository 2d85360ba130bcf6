"""The deep checks in core: confident learning, K-fold cross-fitting, near copies, quality, and
``run_deep`` on a small dataset with defects planted where it must find them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from dataloupe.core.audit import run_deep
from dataloupe.core.checks.gather import DeepSamples, SplitSamples
from dataloupe.core.checks.label_issues import find_label_issues
from dataloupe.core.checks.phash import close_pairs, hamming
from dataloupe.core.checks.quality import check_table_quality
from dataloupe.core.data.datasets import build_handle, from_datasets, in_memory_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.training.crossfit import cross_fit, fold_ids

from support.planted import BLANKS, COPIES, FLIPS, one_thread, planted

one_thread = pytest.fixture(autouse=True)(one_thread)


def test_confident_learning_names_the_confidently_wrong_labels_most_suspicious_first():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    probs = np.full((60, 3), 0.05)
    probs[np.arange(60), labels] = 0.9
    probs += rng.uniform(0, 0.02, probs.shape)
    # sample 4 (given 0) looks like 2, sample 30 (given 1) like 0, less surely
    probs[4] = [0.02, 0.03, 0.95]
    probs[30] = [0.85, 0.1, 0.05]
    probs /= probs.sum(1, keepdims=True)
    issues = find_label_issues(labels, probs)
    assert issues.indices.tolist() == [4, 30]  # self-confidence 0.02 before 0.1
    assert issues.given.tolist() == [0, 1] and issues.predicted.tolist() == [2, 0]
    assert issues.confusions() == [(0, 2, 1), (1, 0, 1)]
    assert issues.noise_share[0] == pytest.approx(1 / 20) and issues.noise_share[2] == 0


def test_fold_ids_are_stratified_and_kfold_never_scores_a_sample_with_a_model_that_saw_it():
    labels = np.repeat(np.arange(3), [30, 25, 45])
    folds = fold_ids(labels, 5)
    for c in range(3):  # each class spread evenly over the folds
        assert np.ptp(np.bincount(folds[labels == c], minlength=5)) <= 1
    x = torch.arange(100, dtype=torch.float32)[:, None]  # each sample carries its own id
    seen_by_model: list[set[int]] = []
    scored = np.zeros(100, np.int64)

    def fit(xs, ys, num_classes, tick):
        tick()
        seen = {int(v) for v in xs[:, 0]}
        seen_by_model.append(seen)

        def predict(samples):
            ids = {int(v) for v in samples[:, 0]}
            assert not ids & seen, "a sample was scored by a model trained on it"
            for i in ids:
                scored[i] += 1
            return torch.full((len(samples), num_classes), 1.0 / num_classes)

        return predict

    probs = cross_fit(x, labels, 3, folds=5, fit=fit)
    assert probs.shape == (100, 3) and len(seen_by_model) == 5
    assert scored.tolist() == [1] * 100  # every sample scored once, by the one model that never saw it
    assert all(len(s) == 80 for s in seen_by_model)


def test_close_pairs_finds_every_pair_within_the_distance_as_brute_force_does():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**63, 40, dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, (40, 3)).astype(np.uint64)
    near = base ^ flips[:, 0] ^ flips[:, 1]  # 0 or 2 bits away from its base
    h = np.concatenate([base, near, rng.integers(0, 2**63, 200, dtype=np.uint64)])
    d = hamming(h[:, None], h[None, :])
    want = {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(d <= 4, 1)), strict=True)}
    i, j, dist = close_pairs(h, None, 4)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == want and len(want) >= 40
    assert (dist == d[i, j]).all()
    a, b = h[:40], h[40:80]  # across two sets
    i, j, _ = close_pairs(a, b, 4)
    want = {(int(p), int(q)) for p, q in zip(*np.nonzero(hamming(a[:, None], b[None, :]) <= 4), strict=True)}
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == want


def _planted_handle(in_memory: bool):
    data = planted()
    if in_memory:
        splits = {s: in_memory_split(torch.from_numpy(data.x[s][:, None]), data.y[s]) for s in data.x}
        return build_handle(
            name="planted",
            reader="custom",
            classes=["h", "v", "o"],
            splits=splits,
            pipeline=Pipeline.for_images(1),
        )
    sets = {
        s: TensorDataset(torch.from_numpy(data.x[s][:, None]), torch.from_numpy(data.y[s])) for s in data.x
    }
    return from_datasets("planted", sets, ["h", "v", "o"], targets_known=False)


@pytest.mark.parametrize("in_memory", [True, False], ids=["in memory", "read one by one"])
def test_run_deep_finds_exactly_the_planted_flips_copies_and_blanks(in_memory):
    report = run_deep(_planted_handle(in_memory))
    verdicts = {r.name: r.verdict for r in report.results}
    assert verdicts == {"label noise": "warn", "near copies": "fail", "quality": "warn"}
    label = {(f.split, f.index) for f in report.of("label noise")}
    assert label - {("train", i) for i in BLANKS} == {("train", i) for i in FLIPS}
    flip = next(f for f in report.of("label noise") if f.index == FLIPS[0])
    data = planted()
    assert flip.predicted == ["h", "v", "o"][(data.y["train"][FLIPS[0]] - 1) % 3]
    assert flip.headline().startswith(f"given {flip.label} · predicted {flip.predicted} (")
    pairs = {(f.split, f.index, f.other_split, f.other_index) for f in report.of("near copies")}
    assert pairs == {("test", t, "train", s) for t, s in COPIES.items()}
    blank = {(f.split, f.index) for f in report.of("quality") if f.found.startswith("blank")}
    assert blank == {("train", i) for i in BLANKS}
    assert {(f.split, f.index) for f in report.of("quality")} == blank  # nothing else stands out
    assert "2 of 90 test images are near copies of train images" in report.results[1].evidence


def test_label_noise_says_why_it_did_not_run_with_too_few_samples_per_class():
    x = torch.rand(40, 1, 8, 8)
    y = torch.tensor([0] * 30 + [1] * 10)
    handle = from_datasets("tiny", {"train": TensorDataset(x, y)}, ["a", "b"])
    result = run_deep(handle).results[0]
    assert result.verdict == "warn"
    assert result.evidence.startswith(
        "did not run: it needs at least 5 samples of each class per fold (25 with 5 folds)"
    )
    assert "b (10)" in result.evidence


def test_table_quality_names_constant_columns_and_rows_equal_after_rounding():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    x[:, 2] = 7.0
    x[31] = x[12]
    x[31, 0] += 1e-6  # the same row, but for the last digits
    x[40] = x[12]  # an exact copy: the split check's, not this one's
    samples = DeepSamples(
        "table",
        {"train": SplitSamples("train", torch.from_numpy(x), np.zeros(50, np.int64), rows=np.arange(50))},
        ("a",),
        1.0,
        False,
    )
    result, findings = check_table_quality(samples)
    assert result.verdict == "warn" and "1 column never changes (feature 2)" in result.evidence
    assert [(f.index, f.other_index, f.where) for f in findings] == [(31, 12, "row 32")]


def test_image_quality_judges_each_property_against_the_datasets_own_median():
    rng = np.random.default_rng(0)
    n = 120
    x = torch.from_numpy(rng.integers(0, 256, (n, 3, 12, 12), dtype=np.uint8))
    x[:, :, :4] = 0  # a dark band in every image: normal for this set, never "dark"
    x[7] = x[7] // 3  # very dark
    x[9] = x[9, :1].expand(3, -1, -1)  # grey: three equal channels in a colour set
    shapes = np.tile([3, 12, 12], (n, 1))
    shapes[11] = [3, 12, 40]  # stored wide, resized for the checks
    samples = DeepSamples(
        "image", {"train": SplitSamples("train", x, np.zeros(n, np.int64), shapes)}, ("a",), 255.0, True
    )
    from dataloupe.core.checks.quality import check_image_quality

    result, findings = check_image_quality(samples)
    found = {f.index: f.found.split(" (")[0] for f in findings}
    assert found == {7: "very dark", 9: "grey in a colour set", 11: "odd aspect ratio"}
    assert result.verdict == "warn" and "3 images of 120 stand out" in result.evidence
