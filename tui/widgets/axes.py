"""Axis ticks for the charts: numbers at a round step (… 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, …)."""

from __future__ import annotations

import math


def round_step(span: float, most: int, whole: bool = False, factors=(1, 2, 2.5, 5, 10)) -> float:
    """The smallest round step (a factor times a power of ten) that cuts ``span`` into at most ``most``
    parts; ``whole`` keeps it a whole number, 1 or more (steps, epochs and counts have no halves)."""
    most = max(1, most)
    if span <= 0:
        return 1.0
    raw = span / most
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [f * power for f in factors if not whole or float(f * power).is_integer()]
    step = next((s for s in steps if s >= raw * (1 - 1e-9)), float(math.ceil(raw)))
    return max(1.0, float(math.ceil(step))) if whole else step


def nice_step(span: float, most: int) -> int:
    """The smallest whole step of 1, 2 or 5 times a power of ten that cuts ``span`` into at most ``most`` parts."""
    return int(round_step(span, most, whole=True, factors=(1, 2, 5, 10)))


def whole_ticks(low: float, high: float, most: int) -> list[int]:
    """Whole-number ticks from ``low`` (rounded down to the step) to at least ``high``, at most ``most + 1``."""
    step = nice_step(high - low, most)
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    if stop <= start:
        stop = start + step
    return list(range(int(start), int(stop) + 1, step))


def round_ticks(low: float, high: float, most: int, whole: bool = False) -> tuple[list[float], list[str]]:
    """Ticks within ``low``..``high`` at a round step (1, 2, 2.5 or 5 times a power of ten), at most about
    ``most + 1`` of them, and their labels with no more decimals than the step has ("1,000", "0.25").
    ``whole`` keeps the step at 1 or more (steps and epochs have no halves)."""
    if high - low <= 0 or most < 1:
        return [low], [_label(low, 0 if whole or float(low).is_integer() else 2)]
    step = round_step(high - low, most, whole)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    k = first
    while (t := k * step) <= high + step * 1e-9:
        ticks.append(round(t, 12))
        k += 1
    decimals = 0 if step >= 1 and float(step).is_integer() else max(0, -math.floor(math.log10(step)) + 1)
    if decimals and all(round(t * 10 ** (decimals - 1)) == t * 10 ** (decimals - 1) for t in ticks):
        decimals -= 1  # 0.5 steps: "0.5", not "0.50"
    return ticks, [_label(t, decimals) for t in ticks]


def _label(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"
