"""The checks that read sample values: scaled, finite, shapes. Every one works chunk by chunk."""

from __future__ import annotations

import math
import threading
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from dataloupe.core.checks.facts import Facts, with_note
from dataloupe.core.checks.results import CheckResult
from dataloupe.core.checks.samples import StoredSamples, ValueAccumulator, ValueStats
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.wording import format_shape

if TYPE_CHECKING:
    from dataloupe.core.data.pipeline import Pipeline

STANDARD_MEAN, STANDARD_STD = 0.2, (0.7, 1.4)
"""How close to mean 0, std 1 counts as standardized."""
NAMED = 3
"""How many samples (rows) with a NaN or Inf the "finite" check names."""
RAW_MAGNITUDE = 10.0
"""Values past this size are unscaled (pixels 0..255, digits 0..16, raw table columns): a fail."""


def value_stats(
    stored: StoredSamples,
    pipeline: Pipeline,
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> ValueStats | None:
    """Min, max, mean and std of ``stored`` after ``pipeline``, in bounded chunks; None when there are no values.

    Samples read one by one were measured as they were read, through the same pipeline.
    """
    if stored.array is None:
        return stored.digest.values if stored.digest is not None else None
    import torch

    if stored.array.dtype == torch.uint8 and pipeline.sample_type == "image" and pipeline.resize is None:
        return _uint8_value_stats(stored, pipeline, cancel, progress)
    acc = ValueAccumulator()
    done = 0
    for part in stored.chunks():
        check_cancel(cancel)
        report(progress, f"measuring {stored.split} values", done, stored.total)
        acc.add(pipeline.batch(part))
        done += len(part)
    report(progress, f"measuring {stored.split} values", done, stored.total)
    return acc.result()


INFINITE = 1e38
"""Scaling constants this large came from an Inf in the data (float32's largest value is 3.4e38)."""


def _uint8_value_stats(
    stored: StoredSamples,
    pipeline: Pipeline,
    cancel: threading.Event | None,
    progress: ProgressCallback | None,
) -> ValueStats | None:
    """Exact statistics of 8-bit images from a histogram of each channel: each level's value is computed once."""
    import torch

    assert stored.array is not None
    channels = stored.array.shape[1]
    counts = np.zeros((channels, 256), np.int64)
    done = 0
    for part in stored.chunks():
        check_cancel(cancel)
        report(progress, f"measuring {stored.split} values", done, stored.total)
        a = part.numpy()
        for c in range(channels):
            counts[c] += np.bincount(a[:, c].reshape(-1), minlength=256)
        done += len(part)
    report(progress, f"measuring {stored.split} values", done, stored.total)
    levels = torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1).expand(256, channels, 1, 1)
    value = pipeline.batch(levels).to(torch.float64).view(256, channels).numpy().T  # channels × 256
    n = int(counts.sum())
    if not n:
        return None
    present = counts > 0
    mean = float((counts * value).sum() / n)
    var = float((counts * (value - mean) ** 2).sum() / n)
    return ValueStats(float(value[present].min()), float(value[present].max()), mean, math.sqrt(var), n)


def check_scaled(f: Facts) -> CheckResult:
    """The values after the transform are in [0, 1] or [-1, 1], or standardized."""
    import torch

    stored = f.stored[f.train_name]
    if f.pipeline.mode != "raw":
        constants = zip(f.pipeline.low, f.pipeline.high, f.pipeline.mean, strict=True)
        # an Inf in the data makes the range or the mean infinite (or float32's largest value, once clipped)
        broken = [k for k, values in enumerate(constants) if any(abs(v) >= INFINITE for v in values)]
        if broken:
            names = f.handle.feature_names
            which = ", ".join(names[k] if names and len(names) > k else f"channel {k}" for k in broken[:5])
            return CheckResult(
                "scaled",
                "fail",
                f"the scaling of {which} was measured from a range that includes Inf, so it is meaningless "
                "(a column holding Inf scales to all zeros)",
                "fix the values the finite check names, then scale again",
            )
    stats = value_stats(stored, f.pipeline, f.cancel, f.progress)
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
    return finite_result(f.stored, f.cancel, f.handle.feature_names)


def finite_result(
    stored_by_split: dict[str, StoredSamples],
    cancel: threading.Event | None = None,
    feature_names: list[str] | None = None,
) -> CheckResult:
    """The "finite" check on stored samples: the checklist's, and the trainer's before it trains.

    The evidence names the first samples that hold NaN or Inf (for tables, their rows in the file)
    and, for tables, the columns.
    """
    import torch

    found = []
    integer = []
    for name, s in stored_by_split.items():
        bad = 0
        first: list[int] = []  # the first few samples with a NaN or Inf, to name
        columns = None
        offset = 0
        if s.digest is not None:  # read one by one: measured as it was read
            hits = np.flatnonzero(s.digest.nonfinite)
            bad, first = len(hits), [int(s.indices[h]) for h in hits[:NAMED]]
        for part in s.chunks() if s.array is not None and s.array.is_floating_point() else ():
            check_cancel(cancel)
            bad_values = ~torch.isfinite(part)
            hits = np.flatnonzero(bad_values.reshape(len(part), -1).any(dim=1).numpy())
            if part.ndim == 2 and len(hits):  # a table: which columns
                cols = bad_values.any(dim=0).numpy()
                columns = cols if columns is None else columns | cols
            first += [int(s.indices[offset + int(h)]) for h in hits[: NAMED - len(first)]]
            bad += len(hits)
            offset += len(part)
        if bad:
            text = f"{bad:,} of {s.count:,} {name} samples hold NaN or Inf ({s.where(first, bad)})"
            if columns is not None and columns.any():
                names = [
                    feature_names[k]
                    if feature_names and len(feature_names) == len(columns)
                    else f"column {k}"
                    for k in np.flatnonzero(columns)
                ]
                text += f" in {', '.join(names[:5])}{'…' if len(names) > 5 else ''}"
            found.append(text)
        if s.array is not None and not s.array.is_floating_point():
            integer.append(name)
    stored = tuple(stored_by_split.values())
    if found:
        return CheckResult(
            "finite",
            "fail",
            with_note("; ".join(found), *stored),
            "fill the missing values (for example with the training mean of that feature) or drop those samples; "
            "one NaN turns the loss into NaN",
        )
    if integer and len(integer) == len(stored_by_split):
        return CheckResult("finite", "pass", "samples are stored as integers, which cannot be NaN or Inf")
    return CheckResult("finite", "pass", with_note("no NaN or Inf in the samples", *stored))


def check_shapes(f: Facts) -> CheckResult:
    """Every sample has the same shape, so a batch can stack them."""
    shapes: Counter[tuple[int, ...]] = Counter()
    for s in f.stored.values():
        if s.array is not None:
            shapes[f.pipeline.output_shape(tuple(s.array.shape[1:]))] += s.total
        elif s.digest is not None:
            shapes.update(f.pipeline.output_shape(shape) for shape in s.digest.shapes)
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
            "resize the images to one size: --resize 64 (shorter side to 64, then a centre crop) or "
            "--resize 64x48 (exactly W×H), or the resize field of the dataset pane"
            if f.pipeline.sample_type == "image"
            else "make every sample one shape in the dataset",
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
