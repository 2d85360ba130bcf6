"""The data checklist: the questions every dataset must answer before training.

:func:`run_checklist` reads a :class:`~core.datasets.DatasetHandle` once and answers
each question with a :class:`CheckResult`: pass, warn or fail, the evidence, and what
to do. Splits held in memory (``split.array``, ``split.targets``) are checked whole and
vectorized; the others are read sample by sample, up to ``sample_limit`` of each
split, and the evidence says so ("read 2,000 of 60,000 train samples"). The app's
checklist pane and ``dataloupe check`` both call it.

    python -c "from core.checks import run_checklist; from core.readers import open_dataset; \\
from core.sources import DatasetSpec; from core.report import checklist_text; \\
print(checklist_text(run_checklist(open_dataset(DatasetSpec('digits')))))"
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from core.errors import Cancelled, DataloupeError, DatasetError
from core.progress import ProgressCallback, check_cancel, report
from core.stats import IMBALANCE_THRESHOLD, BalanceSummary, balance_summary, counts_of, split_labels
from core.wording import plural

if TYPE_CHECKING:  # torch is imported where it is used: `dataloupe check --help` stays quick
    import torch

    from core.datasets import DatasetHandle, Split
    from core.pipeline import Pipeline

Verdict = Literal["pass", "warn", "fail"]
VERDICTS: tuple[Verdict, ...] = ("pass", "warn", "fail")
"""Verdicts from best to worst."""
SYMBOLS: dict[str, str] = {"pass": "✓", "warn": "⚠", "fail": "✗"}
"""How each verdict is drawn."""

CHECKS = (
    "numeric",
    "split",
    "shuffled",
    "scaled",
    "balanced",
    "finite",
    "shapes",
    "class sizes",
    "test labels",
)
"""Every check, in the order it is reported."""
SAMPLE_LIMIT = 2_000
"""Samples read from a split that is not held in memory."""
MIN_CLASS_SAMPLES = 10
"""A class with fewer training samples than this is too small to learn or to judge."""
CHUNK = 4_096
"""Samples transformed at once when a whole split is scanned; bounds memory, lets cancel in."""
BLOCKED_RATIO = 0.5
"""Label changes between neighbours below this share of a random order's count mean "blocked by label"."""
STANDARD_MEAN, STANDARD_STD = 0.2, (0.7, 1.4)
"""How close to mean 0, std 1 counts as standardized."""
RAW_MAGNITUDE = 10.0
"""Values past this size are unscaled (pixels 0..255, digits 0..16, raw table columns): a fail."""


@dataclass(frozen=True)
class CheckResult:
    """One answered question."""

    name: str
    """Which check: one of :data:`CHECKS`."""
    verdict: Verdict
    """pass, warn or fail."""
    evidence: str
    """What was measured, in a sentence."""
    fix: str | None = None
    """What to do about a warning or a failure; None when nothing needs doing."""

    @property
    def symbol(self) -> str:
        """✓, ⚠ or ✗."""
        return SYMBOLS[self.verdict]


@dataclass(frozen=True)
class SplitCounts:
    """The class counts of one split and what they say about balance."""

    name: str
    """"train" or "test"."""
    counts: tuple[int, ...]
    """Samples per class."""
    summary: BalanceSummary
    """Ratio, majority accuracy, entropy."""

    @property
    def total(self) -> int:
        """Samples in the split."""
        return sum(self.counts)


@dataclass(frozen=True)
class ChecklistReport:
    """Everything :func:`run_checklist` found: counts per split and every check's result."""

    dataset: str
    """The dataset's display name."""
    classes: tuple[str, ...]
    """Class names (extended with "#k" for labels past the class list)."""
    transform: str
    """The transform the checks saw, as the tutorials would write it."""
    mode: str
    """raw, scaled or normalized."""
    splits: tuple[SplitCounts, ...]
    """Class counts of each split, train first."""
    results: tuple[CheckResult, ...]
    """One result per check, in :data:`CHECKS` order."""
    threshold: float
    """Largest ÷ smallest above which a split is unbalanced."""
    seconds: float
    """How long the checklist took."""

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of any check."""
        return max((r.verdict for r in self.results), key=VERDICTS.index, default="pass")

    def result(self, name: str) -> CheckResult:
        """The result of check ``name``."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def split(self, name: str) -> SplitCounts:
        """The counts of split ``name``."""
        for s in self.splits:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def total_counts(self) -> tuple[int, ...]:
        """Samples per class over every split."""
        width = max((len(s.counts) for s in self.splits), default=0)
        return tuple(sum(s.counts[k] for s in self.splits if k < len(s.counts)) for k in range(width))

    def exit_code(self, strict: bool = False) -> int:
        """0 when nothing fails; 1 with ``strict`` when something warns; 2 when a check fails."""
        if self.verdict == "fail":
            return 2
        if strict and self.verdict == "warn":
            return 1
        return 0


# ---------------------------------------------------------------------- reading
@dataclass(frozen=True)
class StoredSamples:
    """The stored samples of one split that the checks look at: all of them, or an even sample."""

    split: str
    """Split name."""
    total: int
    """Samples in the split."""
    indices: np.ndarray
    """Which samples were read (every index when the split is held in memory)."""
    array: torch.Tensor | None
    """All stored samples as one tensor, when the split is held in memory."""
    items: tuple[torch.Tensor, ...]
    """The samples read one by one, when it is not."""

    @property
    def whole(self) -> bool:
        """True when every sample is looked at."""
        return len(self.indices) == self.total

    @property
    def count(self) -> int:
        """Samples looked at."""
        return len(self.indices)

    def note(self) -> str:
        """ "read 2,000 of 60,000 train samples", or "" when every sample was looked at."""
        return "" if self.whole else f"read {self.count:,} of {self.total:,} {self.split} samples"

    def chunks(self, size: int = CHUNK) -> Iterator[torch.Tensor | list[torch.Tensor]]:
        """The samples in pieces: slices of the array, or lists of items."""
        if self.array is not None:
            for start in range(0, self.total, size):
                yield self.array[start : start + size]
        else:
            for start in range(0, len(self.items), size):
                yield list(self.items[start : start + size])


def read_stored(
    split: Split,
    limit: int = SAMPLE_LIMIT,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> StoredSamples:
    """The split's stored samples: the whole array when it has one, else up to ``limit`` read evenly."""
    import torch

    n = len(split)
    if split.array is not None:
        return StoredSamples(split.name, n, np.arange(n), split.array, ())
    take = np.unique(np.linspace(0, n - 1, min(n, limit)).astype(np.int64)) if n else np.zeros(0, np.int64)
    items = []
    what = f"reading {split.name} samples"
    for k, i in enumerate(take):
        if k % 64 == 0:
            check_cancel(cancel)
            report(progress, what, k, len(take))
        try:
            items.append(torch.as_tensor(split.raw(int(i))[0]))
        except DataloupeError:
            raise
        except Exception as e:  # noqa: BLE001 - a sample that cannot be read is bad input, not a crash
            raise DatasetError(
                f"{split.name} sample {int(i):,} cannot be read as a tensor: {type(e).__name__}: {e}"
            ) from e
    report(progress, what, len(take), len(take))
    return StoredSamples(split.name, n, take, None, tuple(items))


def sample_hashes(stored: StoredSamples) -> np.ndarray:
    """A 64-bit blake2b digest of each sample's stored bytes (uint64, one per sample looked at).

    Two samples hash alike when their bytes are equal; by chance, with odds near n²/2⁶⁵
    (about 10⁻¹⁰ for 70,000 samples), which is why 64 bits are enough.
    """
    if stored.array is not None:
        a = np.ascontiguousarray(stored.array.detach().cpu().numpy())
        rows = a.reshape(len(a), -1).view(np.uint8) if len(a) else a.reshape(0, 0)
        digests = [hashlib.blake2b(row, digest_size=8).digest() for row in rows]
    else:
        digests = []
        for x in stored.items:
            # the shape goes into the digest too: equal bytes in another shape are another sample
            h = hashlib.blake2b(repr(tuple(x.shape)).encode(), digest_size=8)
            h.update(np.ascontiguousarray(x.detach().cpu().numpy()).tobytes())
            digests.append(h.digest())
    return np.frombuffer(b"".join(digests), dtype="<u8").copy()


# ---------------------------------------------------------------------- the checklist
@dataclass(frozen=True)
class _Facts:
    """What every check may look at, gathered once."""

    handle: DatasetHandle
    """The dataset checked."""
    pipeline: Pipeline
    """The transform the checks see (augmentation off)."""
    classes: tuple[str, ...]
    """Class names, extended with "#k" for labels past the class list."""
    labels: dict[str, np.ndarray]
    """Every label of each split, in stored order."""
    counts: dict[str, np.ndarray]
    """Samples per class of each split, all as long as ``classes``."""
    stored: dict[str, StoredSamples]
    """The stored samples looked at, per split."""
    loader_shuffles: bool | None
    """Whether the training loader shuffles; None when unknown."""
    threshold: float
    """Largest ÷ smallest above which a split is unbalanced."""
    min_class_samples: int
    """Fewer training samples than this make a class too small."""
    progress: ProgressCallback | None
    """Where long checks report."""
    cancel: threading.Event | None
    """Set to stop."""

    @property
    def train_name(self) -> str:
        """The split a model learns from: train, or the only split there is."""
        return "train" if "train" in self.labels else next(iter(self.labels))


def run_checklist(
    handle: DatasetHandle,
    *,
    loader_shuffles: bool | None = None,
    pipeline: Pipeline | None = None,
    sample_limit: int = SAMPLE_LIMIT,
    threshold: float = IMBALANCE_THRESHOLD,
    min_class_samples: int = MIN_CLASS_SAMPLES,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ChecklistReport:
    """Run every check on ``handle`` as ``pipeline`` (default: the handle's own) shows it.

    ``loader_shuffles`` says whether the training DataLoader shuffles, when the caller knows.
    Raises :class:`~core.errors.Cancelled` when ``cancel`` is set, and
    :class:`~core.errors.DataloupeError` when the labels cannot be read at all.
    """
    t0 = time.perf_counter()
    pipeline = (pipeline or handle.pipeline).with_(augment=False)
    n_classes = len(handle.classes)
    labels: dict[str, np.ndarray] = {}
    stored: dict[str, StoredSamples] = {}
    for name in handle.split_names:
        split = handle.split(name, pipeline)
        what = f"reading {name} labels"

        def partial(p, what=what) -> None:
            report(progress, what, p.done, p.total)

        try:
            labels[name] = split_labels(split, n_classes, on_partial=partial, cancel=cancel)
        except (Cancelled, DataloupeError):
            raise
        except Exception as e:  # noqa: BLE001 - a dataset that cannot be read is bad input, not a crash
            raise DatasetError(
                f"{handle.name}: cannot read the {name} labels: {type(e).__name__}: {e}"
            ) from e
    width = max([n_classes] + [int(y.max()) + 1 for y in labels.values() if y.size])
    counts = {name: counts_of(y, width) for name, y in labels.items()}
    classes = tuple(handle.classes) + tuple(f"#{k}" for k in range(n_classes, width))
    for name in handle.split_names:
        stored[name] = read_stored(handle.split(name, pipeline), sample_limit, progress, cancel)
    facts = _Facts(
        handle=handle,
        pipeline=pipeline,
        classes=classes,
        labels=labels,
        counts=counts,
        stored=stored,
        loader_shuffles=loader_shuffles,
        threshold=threshold,
        min_class_samples=min_class_samples,
        progress=progress,
        cancel=cancel,
    )
    results = []
    for name, check in _CHECKS.items():
        check_cancel(cancel)
        try:
            results.append(check(facts))
        except Cancelled:
            raise
        except DataloupeError as e:
            results.append(CheckResult(name, "fail", str(e)))
        except Exception as e:  # noqa: BLE001 - a sample the check cannot handle is a finding, not a crash
            results.append(CheckResult(name, "fail", f"the check could not run: {type(e).__name__}: {e}"))
    splits = tuple(
        SplitCounts(
            name, tuple(int(c) for c in counts[name]), balance_summary(counts[name], classes, threshold)
        )
        for name in handle.split_names
    )
    return ChecklistReport(
        dataset=handle.name,
        classes=classes,
        transform=pipeline.describe(),
        mode=pipeline.mode,
        splits=splits,
        results=tuple(results),
        threshold=threshold,
        seconds=time.perf_counter() - t0,
    )


def _with_note(text: str, *stored: StoredSamples) -> str:
    notes = [s.note() for s in stored if s.note()]
    return f"{text} ({'; '.join(notes)})" if notes else text


# ---------------------------------------------------------------------- the checks
def check_numeric(f: _Facts) -> CheckResult:
    """Samples are numeric tensors a model can take; labels are int64 class indices 0..C-1."""
    import torch

    dtypes = set()
    for s in f.stored.values():
        if s.array is not None:
            dtypes.add(s.array.dtype)
        dtypes.update(x.dtype for x in s.items)
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


def check_split(f: _Facts) -> CheckResult:
    """A test split exists; no exact duplicates inside a split or shared between train and test."""
    hashes = {name: sample_hashes(s) for name, s in f.stored.items()}
    dup_parts = []
    for name, h in hashes.items():
        dups = len(h) - len(np.unique(h))
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
                _with_note(
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
            _with_note(
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
            _with_note(f"{sizes} samples; no test sample is in train, but {'; '.join(dup_parts)}", *stored),
            "drop the duplicates: they weigh those samples double in training",
        )
    return CheckResult(
        "split",
        "pass",
        _with_note(f"{sizes} samples; no exact duplicates within a split or between train and test", *stored),
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


def check_shuffled(f: _Facts) -> CheckResult:
    """Whether the stored order is sorted or blocked by label, and whether the training loader shuffles."""
    name = f.train_name
    stats = order_stats(f.labels[name])
    if stats is None:
        return CheckResult(
            "shuffled", "pass", f"the {name} split is too small or has one class: order cannot matter"
        )
    label = (
        f.classes[stats.longest_label] if stats.longest_label < len(f.classes) else str(stats.longest_label)
    )
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


@dataclass(frozen=True)
class ValueStats:
    """The range of the values a model sees, over the finite values looked at."""

    low: float
    """Smallest value."""
    high: float
    """Largest value."""
    mean: float
    """Mean of the values."""
    std: float
    """Standard deviation of the values."""
    count: int
    """Finite values looked at."""


def value_stats(
    stored: StoredSamples, pipeline: Pipeline, cancel: threading.Event | None = None
) -> ValueStats | None:
    """Min, max, mean and std of ``stored`` after ``pipeline``, in chunks; None when there are no values."""
    import torch

    low, high, total, total_sq, count = math.inf, -math.inf, 0.0, 0.0, 0
    for part in stored.chunks():
        check_cancel(cancel)
        if isinstance(part, list):
            if not part:
                continue
            x = torch.cat([pipeline(item).reshape(-1).to(torch.float64) for item in part])
        else:
            x = pipeline.batch(part).reshape(-1).to(torch.float64)
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            x = x[finite]
        if not x.numel():
            continue
        low, high = min(low, float(x.min())), max(high, float(x.max()))
        total += float(x.sum())
        total_sq += float((x * x).sum())
        count += x.numel()
    if not count:
        return None
    mean = total / count
    std = math.sqrt(max(total_sq / count - mean * mean, 0.0))
    return ValueStats(low, high, mean, std, count)


def check_scaled(f: _Facts) -> CheckResult:
    """The values after the transform are in [0, 1] or [-1, 1], or standardized."""
    import torch

    stored = f.stored[f.train_name]
    stats = value_stats(stored, f.pipeline, f.cancel)
    if stats is None:
        return CheckResult("scaled", "warn", "no finite values to measure", "look at the finite check")
    after = "as stored" if f.pipeline.mode == "raw" else f"after {f.pipeline.describe()}"
    seen = f"values {_num(stats.low)} .. {_num(stats.high)} {after} (mean {_num(stats.mean)}, std {_num(stats.std)})"
    eps = 1e-6
    if stats.low >= -eps and stats.high <= 1 + eps:
        return CheckResult("scaled", "pass", _with_note(f"{seen}: within [0, 1]", stored))
    if stats.low >= -1 - eps and stats.high <= 1 + eps:
        return CheckResult("scaled", "pass", _with_note(f"{seen}: within [-1, 1]", stored))
    lo_std, hi_std = STANDARD_STD
    if abs(stats.mean) <= STANDARD_MEAN and lo_std <= stats.std <= hi_std:
        return CheckResult("scaled", "pass", _with_note(f"{seen}: standardized", stored))
    if f.pipeline.sample_type == "table":
        fix = "scale each column: min-max to 0..1, or standardize with the training split's mean and std"
    elif f.handle.stored_dtype == torch.uint8:
        fix = "scale the pixels to 0..1: ToTensor() divides uint8 pixels by 255 (then Normalize if you like)"
    else:
        fix = f"divide by the maximum ({stats.high:g}) to get 0..1, then Normalize(mean, std) if you like"
    big = max(abs(stats.low), abs(stats.high)) > RAW_MAGNITUDE
    what = "unscaled: large inputs saturate activations and make training slow or unstable"
    if not big:
        what = "neither in [0, 1], nor [-1, 1], nor standardized (mean ≈ 0, std ≈ 1)"
    return CheckResult("scaled", "fail" if big else "warn", _with_note(f"{seen}: {what}", stored), fix)


def _num(x: float) -> str:
    """A measured value in three digits, with float noise around zero written 0."""
    return "0" if abs(x) < 5e-4 else f"{x:.3g}"


def check_finite(f: _Facts) -> CheckResult:
    """No NaN or Inf in the stored samples."""
    import torch

    found = []
    integer = []
    for name, s in f.stored.items():
        bad = 0
        first = None
        offset = 0
        for part in s.chunks():
            check_cancel(f.cancel)
            flags = [
                x.is_floating_point() and not bool(torch.isfinite(x).all())
                for x in (part if isinstance(part, list) else [part])
            ]
            if isinstance(part, list):
                hits = np.flatnonzero(flags)
            elif flags[0]:
                hits = np.flatnonzero((~torch.isfinite(part).reshape(len(part), -1).all(dim=1)).numpy())
            else:
                hits = np.zeros(0, np.int64)
            if len(hits) and first is None:
                first = int(s.indices[offset + int(hits[0])])
            bad += len(hits)
            offset += len(part)
        if bad:
            found.append(f"{bad:,} of {s.count:,} {name} samples hold NaN or Inf (first: sample {first:,})")
        if s.array is not None and not s.array.is_floating_point():
            integer.append(name)
    stored = tuple(f.stored.values())
    if found:
        return CheckResult(
            "finite",
            "fail",
            _with_note("; ".join(found), *stored),
            "fill the missing values (for example with the training mean of that feature) or drop those samples; "
            "one NaN turns the loss into NaN",
        )
    if integer and len(integer) == len(f.stored):
        return CheckResult("finite", "pass", "samples are stored as integers, which cannot be NaN or Inf")
    return CheckResult("finite", "pass", _with_note("no NaN or Inf in the samples", *stored))


def check_shapes(f: _Facts) -> CheckResult:
    """Every sample has the same shape, so a batch can stack them."""
    shapes: Counter[tuple[int, ...]] = Counter()
    for s in f.stored.values():
        if s.array is not None:
            shapes[tuple(s.array.shape[1:])] += s.total
        else:
            shapes.update(tuple(x.shape) for x in s.items)
    stored = tuple(f.stored.values())
    written = ", ".join(
        f"{'×'.join(map(str, shape)) or 'scalar'} ({n:,})" for shape, n in shapes.most_common(4)
    )
    if len(shapes) > 1:
        more = f" and {len(shapes) - 4} more" if len(shapes) > 4 else ""
        return CheckResult(
            "shapes",
            "fail",
            _with_note(
                f"samples come in {len(shapes)} shapes: {written}{more}; a batch cannot stack them", *stored
            ),
            "resize every sample to one shape in the transform (for images: Resize((H, W)))",
        )
    if not shapes:
        return CheckResult("shapes", "warn", "no samples to look at", "check that the dataset is not empty")
    (shape,) = shapes
    return CheckResult(
        "shapes",
        "pass",
        _with_note(f"every sample has shape {'×'.join(map(str, shape)) or '() (a scalar)'}", *stored),
    )


def check_balanced(f: _Facts) -> CheckResult:
    """The training split's largest ÷ smallest class stays under the threshold."""
    name = f.train_name
    summary = balance_summary(f.counts[name], f.classes, f.threshold)
    others = [
        f"{other} {balance_summary(c, f.classes, f.threshold).ratio_text}"
        for other, c in f.counts.items()
        if other != name
    ]
    if summary.unbalanced:
        also = f" Largest ÷ smallest in {', '.join(others)}." if others else ""
        return CheckResult("balanced", "warn", f"{name}: {summary.danger()}{also}", summary.remedies())
    also = f" (largest ÷ smallest in {', '.join(others)})" if others else ""
    return CheckResult(
        "balanced",
        "pass",
        f"{name}: largest ÷ smallest {summary.ratio_text} ≤ {f.threshold:g}; {summary.majority_sentence()}; "
        f"entropy {summary.entropy:.3f}{also}",
    )


def check_class_sizes(f: _Facts) -> CheckResult:
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


def check_test_labels(f: _Facts) -> CheckResult:
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


_CHECKS: dict[str, Callable[[_Facts], CheckResult]] = {
    "numeric": check_numeric,
    "split": check_split,
    "shuffled": check_shuffled,
    "scaled": check_scaled,
    "balanced": check_balanced,
    "finite": check_finite,
    "shapes": check_shapes,
    "class sizes": check_class_sizes,
    "test labels": check_test_labels,
}
