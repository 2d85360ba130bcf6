"""The checks that read sample values: scaled, finite, shapes. Every one works chunk by chunk."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.checks.facts import Facts, with_note
from core.checks.results import CheckResult
from core.checks.samples import StoredSamples
from core.progress import check_cancel
from core.wording import format_shape

if TYPE_CHECKING:
    from core.pipeline import Pipeline

STANDARD_MEAN, STANDARD_STD = 0.2, (0.7, 1.4)
"""How close to mean 0, std 1 counts as standardized."""
RAW_MAGNITUDE = 10.0
"""Values past this size are unscaled (pixels 0..255, digits 0..16, raw table columns): a fail."""


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


def check_scaled(f: Facts) -> CheckResult:
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
        return CheckResult("scaled", "pass", with_note(f"{seen}: within [0, 1]", stored))
    if stats.low >= -1 - eps and stats.high <= 1 + eps:
        return CheckResult("scaled", "pass", with_note(f"{seen}: within [-1, 1]", stored))
    lo_std, hi_std = STANDARD_STD
    if abs(stats.mean) <= STANDARD_MEAN and lo_std <= stats.std <= hi_std:
        return CheckResult("scaled", "pass", with_note(f"{seen}: standardized", stored))
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
    return CheckResult("scaled", "fail" if big else "warn", with_note(f"{seen}: {what}", stored), fix)


def _num(x: float) -> str:
    """A measured value in three digits, with float noise around zero written 0."""
    return "0" if abs(x) < 5e-4 else f"{x:.3g}"


def check_finite(f: Facts) -> CheckResult:
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
            with_note("; ".join(found), *stored),
            "fill the missing values (for example with the training mean of that feature) or drop those samples; "
            "one NaN turns the loss into NaN",
        )
    if integer and len(integer) == len(f.stored):
        return CheckResult("finite", "pass", "samples are stored as integers, which cannot be NaN or Inf")
    return CheckResult("finite", "pass", with_note("no NaN or Inf in the samples", *stored))


def check_shapes(f: Facts) -> CheckResult:
    """Every sample has the same shape, so a batch can stack them."""
    shapes: Counter[tuple[int, ...]] = Counter()
    for s in f.stored.values():
        if s.array is not None:
            shapes[tuple(s.array.shape[1:])] += s.total
        else:
            shapes.update(tuple(x.shape) for x in s.items)
    stored = tuple(f.stored.values())
    written = ", ".join(f"{format_shape(shape)} ({n:,})" for shape, n in shapes.most_common(4))
    if len(shapes) > 1:
        more = f" and {len(shapes) - 4} more" if len(shapes) > 4 else ""
        return CheckResult(
            "shapes",
            "fail",
            with_note(
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
        with_note(
            f"every sample has shape {format_shape(shape)}" if shape else "every sample is a scalar", *stored
        ),
    )
