"""The checks that read labels and sample identity: numeric, split, shuffled, balanced, class sizes, test labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dataloupe.core.checks.facts import Facts, with_note
from dataloupe.core.checks.results import CheckResult
from dataloupe.core.checks.samples import SAMPLE_LIMIT, read_stored, sample_hashes
from dataloupe.core.stats.classes import balance_summary, class_name
from dataloupe.core.wording import plural

BLOCKED_RATIO = 0.5
"""Label changes between neighbours below this share of a random order's count mean "blocked by label"."""


MIN_SPLIT_SAMPLES = {"train": 2, "test": 1}
"""Fewer samples than this in a split leave nothing to train on or to measure."""


def check_numeric(f: Facts) -> CheckResult:
    """Samples are numeric tensors a model can take; labels are int64 class indices 0..C-1."""
    import torch

    dtypes = set()
    for s in f.stored.values():
        if s.array is not None:
            dtypes.add(s.array.dtype)
        if s.digest is not None:
            dtypes.update(s.digest.dtypes)
    bad = sorted(str(d).replace("torch.", "") for d in dtypes if d == torch.bool or d.is_complex)
    if bad:
        return CheckResult(
            "numeric",
            "fail",
            f"samples are stored as {', '.join(bad)}, which a model cannot learn from",
            "convert the samples to float32 numbers in the transform",
        )
    n_classes = len(f.handle.classes)
    high = max((int(y.max()) for y in f.labels.values() if y.size), default=-1)
    if high >= n_classes:
        where = next(name for name, y in f.labels.items() if y.size and int(y.max()) == high)
        return CheckResult(
            "numeric",
            "fail",
            f"label {high} appears in {where}, but there are {plural(n_classes, 'class', 'classes')} "
            f"(labels 0..{n_classes - 1}); CrossEntropyLoss will fail on it",
            "make the class list complete, or map the labels to 0..C-1 (1-based labels: subtract 1)",
        )
    stored_names = sorted({str(d).replace("torch.", "") for d in dtypes})
    out = sorted({str(f.pipeline.output_dtype(d)).replace("torch.", "") for d in dtypes})
    label_text = f"labels int64 in 0..{max(high, 0)} for {plural(n_classes, 'class', 'classes')}"
    ints = [d for d in dtypes if not f.pipeline.output_dtype(d).is_floating_point]
    stored_text = "/".join(stored_names)
    if ints:
        return CheckResult(
            "numeric",
            "warn",
            f"samples reach the model as {'/'.join(out)} (as stored); {label_text}",
            "convert them to float32 in the transform (ToTensor() does, scaling 0..255 to 0..1); "
            "nn layers refuse integer tensors",
        )
    stored_note = "" if out == stored_names else f" (stored {stored_text})"
    return CheckResult("numeric", "pass", f"samples are {'/'.join(out)} tensors{stored_note}; {label_text}")


def _readable(f: Facts, name: str, hashes: np.ndarray) -> np.ndarray:
    """``hashes`` without the samples of unreadable image files: the image that stands in for such a
    file (the next readable one of its class) is no copy in the folder, and the "readable" item
    already reports the file."""
    files = f.handle.splits[name].files
    if files is None or not files.bad:
        return hashes
    return hashes[~np.isin(f.stored[name].indices, np.fromiter(files.bad, np.int64))]


def split_leakage(handle, limit: int = SAMPLE_LIMIT, cancel=None) -> str:
    """The split check's leakage finding, for whoever is about to train: "49 of 61 test samples (80.3%)
    are exact copies of training samples", or "" when none are (or the dataset has no test split).

    The same samples are hashed as the checklist's (the stored ones, up to ``limit`` per split not
    held in memory), so training and the checklist never disagree.
    """
    if "train" not in handle.splits or "test" not in handle.splits:
        return ""
    hashes = {
        name: sample_hashes(read_stored(handle.split(name), limit, None, cancel))
        for name in ("train", "test")
    }
    leaked = int(np.isin(hashes["test"], hashes["train"]).sum())
    if not leaked:
        return ""
    n_test = len(hashes["test"])
    return (
        f"{leaked:,} of {n_test:,} test samples ({leaked / n_test:.1%}) are exact copies of training samples"
    )


def check_split(f: Facts) -> CheckResult:
    """A test split exists; no exact duplicates inside a split or shared between train and test."""
    sizes = {name: len(y) for name, y in f.labels.items()}
    too_small = [
        f"the {name} split has {plural(n, 'sample')}"
        for name, n in sizes.items()
        if n < MIN_SPLIT_SAMPLES.get(name, 1)
    ]
    if too_small:
        return CheckResult(
            "split",
            "fail",
            f"{'; '.join(too_small)}: too few to train on or to measure anything with "
            f"(at least {MIN_SPLIT_SAMPLES['train']} train and {MIN_SPLIT_SAMPLES['test']} test samples)",
            "add samples, or hold out a test split from a larger training split",
        )
    hashes = {
        name: _readable(f, name, sample_hashes(s, f.progress, f.cancel)) for name, s in f.stored.items()
    }
    dup_parts = []
    for name, h in hashes.items():
        ordered = np.sort(h)
        dups = int(np.count_nonzero(ordered[1:] == ordered[:-1]))
        if dups:
            dup_parts.append(
                f"{dups:,} of {len(h):,} {name} samples are exact copies of another {name} sample"
            )
    stored = tuple(f.stored.values())
    if "train" in hashes and "test" in hashes:
        leaked = int(np.isin(hashes["test"], hashes["train"]).sum())
        if leaked:
            n_test = len(hashes["test"])
            extra = f"; also {'; '.join(dup_parts)}" if dup_parts else ""
            return CheckResult(
                "split",
                "fail",
                with_note(
                    f"{leaked:,} of {n_test:,} test samples ({leaked / n_test:.1%}) are exact copies of training "
                    f"samples: the test score rewards memorizing them{extra}",
                    *stored,
                ),
                "remove the duplicates before splitting (or drop those test samples), so that test measures "
                "samples the model has not seen",
            )
    missing = [s for s in ("train", "test") if s not in f.labels]
    if missing:
        have = next(iter(f.labels))
        fix = (
            "hold out a test split before training (for example 20% of each class, stratified, fixed seed)"
            if missing == ["test"]
            else "add the training split (for IDX data: train-images-idx3-ubyte and train-labels-idx1-ubyte)"
        )
        dup_text = f"; {'; '.join(dup_parts)}" if dup_parts else ""
        return CheckResult(
            "split",
            "warn",
            with_note(
                f"only a {have} split ({len(f.labels[have]):,} samples): no {missing[0]} split{dup_text}",
                *stored,
            ),
            fix,
        )
    sizes = " and ".join(f"{name} {len(y):,}" for name, y in f.labels.items())
    if dup_parts:
        return CheckResult(
            "split",
            "warn",
            with_note(f"{sizes} samples; no test sample is in train, but {'; '.join(dup_parts)}", *stored),
            "drop the duplicates: they weigh those samples double in training",
        )
    return CheckResult(
        "split",
        "pass",
        with_note(f"{sizes} samples; no exact duplicates within a split or between train and test", *stored),
    )


@dataclass(frozen=True)
class OrderStats:
    """How the labels follow each other in the stored order."""

    same_share: float
    """Share of neighbouring samples with the same label."""
    random_share: float
    """The same share expected of a random order with these counts."""
    change_ratio: float
    """Label changes between neighbours ÷ those a random order would give (1 ≈ random, 0 = sorted)."""
    longest_run: int
    """Longest stretch of one label."""
    longest_label: int
    """The label of that stretch."""
    sorted: bool
    """Labels never decrease (or never increase) along the order."""

    @property
    def blocked(self) -> bool:
        """Sorted or in blocks of one label: a loader without shuffle feeds one class at a time."""
        return self.change_ratio < BLOCKED_RATIO


def order_stats(labels: np.ndarray) -> OrderStats | None:
    """How ordered ``labels`` are; None for fewer than 3 samples or a single class."""
    y = np.asarray(labels, dtype=np.int64)
    n = len(y)
    if n < 3:
        return None
    counts = np.bincount(y).astype(np.float64)
    # neighbours share a label, drawing without replacement: Σ n_k(n_k-1) / n(n-1)
    random_share = float((counts * (counts - 1)).sum() / (n * (n - 1)))
    if random_share >= 1.0:
        return None
    changes = np.flatnonzero(y[1:] != y[:-1])
    same_share = 1.0 - len(changes) / (n - 1)
    change_ratio = len(changes) / ((n - 1) * (1.0 - random_share))
    bounds = np.concatenate([[0], changes + 1, [n]])
    runs = np.diff(bounds)
    k = int(np.argmax(runs))
    diffs = np.diff(y)
    return OrderStats(
        same_share=same_share,
        random_share=random_share,
        change_ratio=change_ratio,
        longest_run=int(runs[k]),
        longest_label=int(y[bounds[k]]),
        sorted=bool((diffs >= 0).all() or (diffs <= 0).all()),
    )


def check_shuffled(f: Facts) -> CheckResult:
    """Whether the stored order is sorted or blocked by label, and whether the training loader shuffles."""
    name = f.train_name
    stats = order_stats(f.labels[name])
    if stats is None:
        return CheckResult(
            "shuffled", "pass", f"the {name} split is too small or has one class: order cannot matter"
        )
    label = class_name(f.classes, stats.longest_label)
    how = "sorted by label" if stats.sorted else "in blocks of one label"
    measured = (
        f"neighbours share a label {stats.same_share:.1%} of the time (a random order: {stats.random_share:.1%}); "
        f"longest run {stats.longest_run:,} × {label}"
    )
    fix = "pass shuffle=True to the training DataLoader (or a RandomSampler)"
    if stats.blocked:
        if f.loader_shuffles:
            return CheckResult(
                "shuffled",
                "pass",
                f"the {name} order is {how} ({measured}), but the training loader shuffles",
            )
        if f.loader_shuffles is False:
            return CheckResult(
                "shuffled",
                "fail",
                f"the {name} order is {how} ({measured}) and the training loader does not shuffle: "
                "every batch holds one class and the model forgets the others",
                fix,
            )
        return CheckResult(
            "shuffled",
            "warn",
            f"the {name} order is {how} ({measured}): a loader without shuffle feeds one class at a time",
            fix,
        )
    if f.loader_shuffles is False:
        return CheckResult(
            "shuffled",
            "warn",
            f"the {name} order looks random ({measured}), but the training loader does not shuffle: "
            "every epoch sees the same order",
            fix,
        )
    loader = "; the training loader shuffles" if f.loader_shuffles else ""
    return CheckResult("shuffled", "pass", f"the {name} order looks random: {measured}{loader}")


def check_balanced(f: Facts) -> CheckResult:
    """The training split's largest ÷ smallest class stays under the threshold."""
    name = f.train_name
    present = np.flatnonzero(f.counts[name])
    if len(present) < 2:
        only = f"every sample is of class {f.classes[present[0]]}" if len(present) else "there are no samples"
        return CheckResult(
            "balanced",
            "fail",
            f"{name}: {only}: a classifier needs at least two classes to learn anything",
            "add samples of the other classes, or check that the label column is the right one",
        )
    summary = balance_summary(f.counts[name], f.classes, f.threshold)
    others = [
        f"{other} {balance_summary(c, f.classes, f.threshold).ratio_text}"
        for other, c in f.counts.items()
        if other != name
    ]
    if summary.unbalanced:
        also = f" Largest ÷ smallest in {', '.join(others)}." if others else ""
        return CheckResult(
            "balanced", "warn", f"{name}: {summary.danger()}{also}", summary.remedies(sentence=False)
        )
    also = f" (largest ÷ smallest in {', '.join(others)})" if others else ""
    return CheckResult(
        "balanced",
        "pass",
        f"{name}: largest ÷ smallest {summary.ratio_text} ≤ {f.threshold:g}; {summary.majority_sentence()}; "
        f"entropy {summary.entropy:.3f}{also}",
    )


def check_class_sizes(f: Facts) -> CheckResult:
    """Every class has at least ``min_class_samples`` training samples."""
    name = f.train_name
    counts = f.counts[name]
    small = [k for k in range(len(counts)) if counts[k] < f.min_class_samples]
    if small:
        listed = ", ".join(f"{f.classes[k]} ({int(counts[k]):,})" for k in small[:6])
        more = f" and {len(small) - 6} more" if len(small) > 6 else ""
        return CheckResult(
            "class sizes",
            "warn",
            f"{plural(len(small), 'class', 'classes')} with fewer than {f.min_class_samples} {name} samples: "
            f"{listed}{more}; too few to learn them or to judge them",
            "collect more samples of those classes, merge them with a neighbour, or drop them",
        )
    return CheckResult(
        "class sizes",
        "pass",
        f"the smallest class has {int(counts.min()) if len(counts) else 0:,} {name} samples "
        f"(at least {f.min_class_samples} wanted)",
    )


def check_test_labels(f: Facts) -> CheckResult:
    """Every class in test also appears in train."""
    if "train" not in f.counts or "test" not in f.counts:
        return CheckResult("test labels", "pass", "only one split: nothing to compare")
    train, test = f.counts["train"], f.counts["test"]
    unseen = [k for k in range(len(test)) if test[k] and (k >= len(train) or train[k] == 0)]
    if unseen:
        n = int(sum(test[k] for k in unseen))
        listed = ", ".join(f"{f.classes[k]} ({int(test[k]):,})" for k in unseen[:6])
        return CheckResult(
            "test labels",
            "fail",
            f"test holds {plural(len(unseen), 'class', 'classes')} that train never has: {listed}; "
            f"the model cannot get those {n:,} test samples right",
            "split again, stratified by class, so that every class is in both splits",
        )
    return CheckResult("test labels", "pass", "every class in test also appears in train")
