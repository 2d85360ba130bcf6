"""A numeric label column split at a threshold into two classes: the one home of their names.

Both table readers (pyarrow's fast path in :mod:`.arrow_table` and the line-by-line path in
:mod:`.table`) call :func:`threshold_classes`, so the class names and the note read the same
whichever path read the file.

    python -c "import numpy as np; from dataloupe.core.readers.thresholds import threshold_classes; \
print(threshold_classes(np.array([3.0, 5, 7]), 4.5))"
"""

from __future__ import annotations

import numpy as np


def format_threshold(t: float) -> str:
    """4.5 → "4.5", 5.0 → "5"."""
    return f"{t:g}"


def threshold_classes(values: np.ndarray, threshold: float) -> tuple[np.ndarray, list[str], str]:
    """Targets (1 above ``threshold``), the two class names, and the note that says how they were made."""
    t = format_threshold(threshold)
    targets = (values > threshold).astype(np.int64)
    return targets, [f"low (≤ {t})", f"high (> {t})"], f" split at {t} into low (≤ {t}) and high (> {t})"
