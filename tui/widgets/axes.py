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


# ---------------------------------------------------------------------- the watch charts' axes
SPREAD = 0.1
"""A constant series, or a single point, is drawn within ±10% of its value (±1 around zero), on a
step of its own last significant digit when that is finer: 0.01 on 0.009, 0.01, 0.011."""


def clean_label(value: float, step: float) -> str:
    """A tick's label with the digits its step needs and no more: "0.01", not "0.0100000000000000037"
    (plotext's own); very small or large values in scientific notation ("5e-05", "2e+07")."""
    if value == 0:
        return "0"
    size = max(abs(value), abs(step))
    if size < 1e-3 or size >= 1e7:
        digits = max(1, min(6, math.ceil(math.log10(size / step)) + 1)) if step else 3
        return f"{value:.{digits}g}".replace("e-0", "e-").replace("e+0", "e+")
    decimals = 0 if step >= 1 and float(step).is_integer() else max(0, -math.floor(math.log10(step)) + 1)
    text = f"{round(value, decimals):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def value_ticks(low: float, high: float, most: int) -> tuple[float, float, list[float], list[str]]:
    """(axis low, axis high, ticks, labels) for values from ``low`` to ``high``: round ticks that enclose
    them, at most about ``most + 1``; a single value gets a small symmetric range around it."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return 0.0, 1.0, [0.0, 1.0], ["0", "1"]
    if high - low <= abs(high) * 1e-12:  # one value (a constant learning rate, a single point)
        value = high
        if value == 0:
            return -1.0, 1.0, [-1.0, 0.0, 1.0], ["-1", "0", "1"]
        spread = abs(value) * SPREAD
        step = 10.0 ** math.floor(math.log10(spread))
        digit = min(step, _precision(value))  # 99.5 needs its tenths even on a step of 1
        ticks = [value - step, value, value + step]
        return ticks[0], ticks[-1], ticks, [clean_label(t, digit) for t in ticks]
    step = round_step(high - low, max(1, most))
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks, [clean_label(t, step) for t in ticks]


def _precision(value: float) -> float:
    """The place of ``value``'s last significant digit (of six at most): 0.1 for 99.5, 100 for 300."""
    exponent = math.floor(math.log10(abs(value)))
    for place in (10.0**e for e in range(exponent, exponent - 6, -1)):  # coarsest first
        if abs(round(value / place) * place - value) <= abs(value) * 1e-9:
            return place
    return 10.0 ** (exponent - 5)


def log_ticks(low: float, high: float, most: int) -> tuple[float, float, list[float], list[str]]:
    """The same for log10 of the values (what a log-scale chart plots): ticks at whole decades, every
    one, two, five or more decades so that about ``most`` fit, labelled with the values ("1e-08", "0.01",
    "1", "100")."""
    lo, hi = math.floor(low + 1e-9), math.ceil(high - 1e-9)
    if hi <= lo:
        lo, hi = lo - 1, lo + 1
    every = next((e for e in (1, 2, 3, 5, 10, 20) if (hi - lo) / e <= max(1, most)), 50)
    first = math.ceil(lo / every) * every  # the axis spans the decades around the data; ticks at multiples
    ticks = [float(k) for k in range(first, hi + 1, every)]
    labels = [_decade(int(t)) for t in ticks]
    return float(lo), float(hi), ticks, labels


def _decade(exponent: int) -> str:
    if -3 <= exponent <= 4:
        return f"{10.0**exponent:,.{max(0, -exponent)}f}"
    return f"1e{exponent:+d}".replace("+", "")


TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
"""Round steps of time, in seconds (1 s … 1 day); longer spans step in whole days."""


def time_step(span: float, most: int) -> float:
    """The smallest round step of time that cuts ``span`` seconds into at most ``most`` parts."""
    raw = span / max(1, most)
    return next((s for s in TIME_STEPS if s >= raw), 86400 * math.ceil(raw / 86400))


def elapsed_label(seconds: float) -> str:
    """A relative time as a tick shows it: "45s", "12m", "1h30m", "2d"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        m, s = divmod(seconds, 60)
        return f"{m}m{s:02}s" if s else f"{m}m"
    if seconds < 86400:
        h, rest = divmod(seconds, 3600)
        return f"{h}h{rest // 60:02}m" if rest >= 60 else f"{h}h"
    d, rest = divmod(seconds, 86400)
    return f"{d}d{rest // 3600}h" if rest >= 3600 else f"{d}d"


def time_ticks(low: float, high: float, most: int, clock: bool) -> tuple[list[float], list[str]]:
    """Ticks at round times from ``low`` to ``high`` (seconds): elapsed times ("5m"), or with ``clock``
    the local time of day of Unix times ("14:05", "14:05:30" when the step is under a minute)."""
    import time

    if high - low <= 0:
        high = low + 1
    step = time_step(high - low, most)
    offset = 0.0
    if clock:  # round to the local clock, not to UTC
        offset = -time.localtime(low).tm_gmtoff
    first = math.ceil((low - offset) / step - 1e-9)
    ticks = []
    k = first
    while (t := k * step + offset) <= high + 1e-9:
        ticks.append(t)
        k += 1
    if not clock:
        return ticks, [elapsed_label(t) for t in ticks]
    fmt = "%H:%M:%S" if step < 60 else "%H:%M" if step < 86400 else "%m-%d"
    if step < 86400 and high - low > 86400:
        fmt = "%m-%d %H:%M"
    return ticks, [time.strftime(fmt, time.localtime(t)) for t in ticks]
