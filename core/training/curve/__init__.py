"""Learning curves: would more data help, and which arrangement of a fixed number of units learns best?

The same small model is trained on growing class-stratified shares of the training split, for
several networks with the same hidden units arranged wide or deep, each scored on the whole test
split, with a few seeds per point so that noise is not read as a trend.

- :mod:`.points`: the plan and what a sweep measures, as frozen torch-free values
  (``CurvePlan``, ``CurveResult``, ``CurvePoint``).
- :mod:`.verdict`: the plain answer (``judge``): more data still helps, a plateau, or too noisy
  to tell; and which network wins at which size. Torch-free.
- :mod:`.sweep`: the training (``run_curve``, ``CurveSweep``), with the data held on the device once.

Exports load on first use, so the app can draw a result before torch has loaded.

    dataloupe curve digits --epochs 5
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CurvePlan": "points",
    "CurveResult": "points",
    "CurvePoint": "points",
    "CurveNetwork": "points",
    "CurveSize": "points",
    "Verdict": "verdict",
    "judge": "verdict",
    "CurveSweep": "sweep",
    "run_curve": "sweep",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
