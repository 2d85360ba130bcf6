"""One metric of one run as it grows: running statistics and a bounded chart history.

A :class:`TagSeries` never keeps every point: it keeps the latest and best values, the
first step that was NaN or infinite, an exponential moving average (debiased, as
TensorBoard draws it) and a :class:`~dataloupe.core.history.DecimatedHistory` of at most
:data:`CHART_POINTS` (step, value, wall time) points for the charts, which smooth them at the
weight the user picks (:func:`smooth`). A million points cost the same memory as a thousand.

    python -c "from dataloupe.core.runlogs.series import TagSeries; s = TagSeries('train/loss'); \
[s.add(i, 1 / (i + 1)) for i in range(1000)]; print(s.summary())"
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import isfinite
from typing import Literal

from dataloupe.core.history import DecimatedHistory

CHART_POINTS = 1000
"""Points a chart series keeps at most, as TensorBoard samples 1,000 per scalar: enough to zoom into a
tenth of a run; the chart thins them again to its width (plotext redraws every point on the UI thread)."""
SMOOTHING = 0.9
"""Weight of the running average kept for the summary (``smoothed``, the headless report)."""
_NEW_WEIGHT = 1 - SMOOTHING

Direction = Literal["min", "max"]

_LOWER_IS_BETTER = re.compile(r"loss|err|perplex|ppl|mse|mae|rmse|nll|cost|wer|cer", re.IGNORECASE)
_HIGHER_IS_BETTER = re.compile(
    r"acc|f1|auc|precision|recall|score|bleu|rouge|iou|map|dice|r2|top", re.IGNORECASE
)


def direction_of(tag: str) -> Direction | None:
    """Whether a lower ("min") or higher ("max") value is better for ``tag``; None when the name
    does not say (a learning rate, a gradient norm)."""
    if _LOWER_IS_BETTER.search(tag):
        return "min"
    if _HIGHER_IS_BETTER.search(tag):
        return "max"
    return None


@dataclass(frozen=True)
class TagSummary:
    """One tag of one run at one moment: what the headless report prints and the tag list shows."""

    tag: str
    """The metric's name as logged: "train/loss"."""
    points: int
    """Points read so far (duplicates not counted)."""
    last_step: int | None
    """Step of the latest point."""
    last_value: float | None
    """Latest value (may be NaN)."""
    best_step: int | None
    """Step of the best finite value; None when the name does not say what is better."""
    best_value: float | None
    """Best finite value (lowest for a loss, highest for an accuracy)."""
    direction: Direction | None
    """"min" when lower is better, "max" when higher is, None when unknown."""
    first_bad_step: int | None
    """Step at which the value first was NaN or infinite."""
    smoothed: float | None
    """Latest smoothed value."""


class TagSeries:
    """The points of one tag, read incrementally; a point whose step is not after the last one
    is a duplicate (a file re-read after a rewrite or rotation) and is skipped."""

    def __init__(self, tag: str, limit: int = CHART_POINTS) -> None:
        self.tag = tag
        """The metric's name."""
        self.direction = direction_of(tag)
        """What "best" means for it."""
        self.history = DecimatedHistory(limit)
        """(step, value, wall time) for the charts, bounded."""
        self.points = 0
        """Points accepted."""
        self.last_step: int | None = None
        self.last_value: float | None = None
        self.best_step: int | None = None
        self.best_value: float | None = None
        self.first_bad_step: int | None = None
        self._ema = 0.0
        self._ema_count = 0
        self.smoothed: float | None = None
        """Latest debiased moving average of the finite values."""
        self._columns: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]] | None = None

    def add(self, step: int, value: float, wall: float = 0.0) -> bool:
        """Take one point; False when it is a duplicate (its step is not after the last one)."""
        if self.last_step is not None and step <= self.last_step:
            return False
        self.points += 1
        self.last_step = step
        self.last_value = value
        if not isfinite(value):
            if self.first_bad_step is None:
                self.first_bad_step = step
            return True
        best = self.best_value
        if self.direction is not None and (
            best is None or (value < best if self.direction == "min" else value > best)
        ):
            self.best_value, self.best_step = value, step
        self._ema = ema = self._ema * SMOOTHING + _NEW_WEIGHT * value
        self._ema_count = count = self._ema_count + 1
        self.smoothed = ema / (1 - SMOOTHING**count)
        self.history.add(step, value, wall)
        self._columns = None
        return True

    def columns(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        """(steps, values, wall times) of the bounded history; the same tuples until a point is added,
        so a snapshot of two thousand quiet runs copies nothing."""
        if self._columns is None:
            cols = self.history.columns()
            self._columns = (cols[0], cols[1], cols[2]) if len(cols) >= 3 else ((), (), ())
        return self._columns

    def summary(self) -> TagSummary:
        """The tag's statistics as an immutable value."""
        return TagSummary(
            tag=self.tag,
            points=self.points,
            last_step=self.last_step,
            last_value=self.last_value,
            best_step=self.best_step,
            best_value=self.best_value,
            direction=self.direction,
            first_bad_step=self.first_bad_step,
            smoothed=self.smoothed,
        )


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average debiased as Adam's moments are, so the
    first points are not pulled toward zero. Non-finite values pass through and are left out of the
    average; a constant series stays exactly constant (no rounding wobble), as TensorBoard keeps it.

    ``last = last * weight + (1 - weight) * value``; ``smoothed = last / (1 - weight ** n)`` after
    ``n`` finite values."""
    if weight <= 0 or not values:
        return list(values)
    first = values[0]
    if all(v == first for v in values):
        return list(values)
    out = []
    last = 0.0
    count = 0
    keep = 1.0 - weight
    for v in values:
        if not isfinite(v):
            out.append(v)
            continue
        last = last * weight + keep * v
        count += 1
        out.append(last / (1 - weight**count))
    return out


# ---------------------------------------------------------------------- tags that share a chart
IN_SAMPLE = frozenset({"train", "training", "trn"})
"""Words that mark a metric measured on the training data."""
OUT_OF_SAMPLE = frozenset({"val", "valid", "validation", "eval", "evaluation", "test", "dev", "holdout"})
"""Words that mark a metric measured on held-out data."""
_SEPARATORS = re.compile(r"([/_\-.])")


def chart_key(tag: str) -> tuple[str, str]:
    """(chart, role) of a tag: "train/acc" → ("acc", "train"), "val_loss" → ("loss", "val"),
    "loss" → ("loss", ""). Tags with the same chart key share a chart, one line per role."""
    parts = _SEPARATORS.split(tag)
    words = parts[0::2]
    if len(words) > 1:
        for index in (0, len(words) - 1):
            word = words[index].lower()
            if word in IN_SAMPLE or word in OUT_OF_SAMPLE:
                rest = parts[2:] if index == 0 else parts[:-2]
                return "".join(rest), word
    return tag, ""


def role_kind(role: str) -> str:
    """ "in-sample", "out-of-sample" or "" for a role word from :func:`chart_key`."""
    if role.lower() in OUT_OF_SAMPLE:
        return "out-of-sample"
    return "in-sample" if role.lower() in IN_SAMPLE else ""


def group_tags(tags: list[str]) -> dict[str, list[str]]:
    """Tags grouped by chart, in first-seen order; in-sample before out-of-sample in a group."""
    groups: dict[str, list[str]] = {}
    for tag in tags:
        groups.setdefault(chart_key(tag)[0], []).append(tag)
    for key, members in groups.items():
        members.sort(key=lambda t: (role_kind(chart_key(t)[1]) == "out-of-sample", t))
        groups[key] = members
    return groups
