"""Axis ticks for the charts: whole numbers at a round step (1, 2, 5, 10, 20, 50, …)."""

from __future__ import annotations

import math


def nice_step(span: float, most: int) -> int:
    """The smallest round whole step that cuts ``span`` into at most ``most`` parts."""
    most = max(1, most)
    if span <= 0:
        return 1
    raw = span / most
    power = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        step = factor * power
        if step >= raw:
            return int(step)
    return int(10 * power)


def whole_ticks(low: float, high: float, most: int) -> list[int]:
    """Whole-number ticks from ``low`` (rounded down to the step) to at least ``high``, at most ``most + 1``."""
    step = nice_step(high - low, most)
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    if stop <= start:
        stop = start + step
    return list(range(int(start), int(stop) + 1, step))
