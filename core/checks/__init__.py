"""The data checklist: the questions every dataset must answer before training.

:func:`run_checklist` reads a :class:`~dataloupe.core.data.datasets.DatasetHandle` once and answers
each question with a :class:`CheckResult`: pass, warn or fail, the evidence, and what
to do. Splits held in memory (``split.array``, ``split.targets``) are checked whole and
in chunks; the others are read sample by sample, up to ``sample_limit`` of each
split, and the evidence says so ("read 2,000 of 60,000 train samples"). The app's
checklist pane and ``dataloupe check`` both call it.

    python -c "from dataloupe.core.checks import run_checklist; from dataloupe.core.readers import open_dataset; \\
from dataloupe.core.data.sources import DatasetSpec; from dataloupe.core.checks.report import report_text; \\
print(report_text(run_checklist(open_dataset(DatasetSpec('digits')))))"

Modules:
- ``results``: ``CheckResult``, ``ChecklistReport``, the check names and verdicts (torch-free).
- ``samples``: ``StoredSamples``, ``read_stored``, ``sample_hashes``: what the checks read.
- ``facts``: ``Facts``, everything a check may look at, gathered once.
- ``labels``: numeric, split, shuffled, balanced, class sizes, test labels.
- ``values``: scaled, finite, shapes.
- ``checklist``: ``run_checklist``.
"""

from dataloupe.core.checks.checklist import run_checklist
from dataloupe.core.checks.labels import OrderStats, order_stats
from dataloupe.core.checks.results import (
    CHECKS,
    MIN_CLASS_SAMPLES,
    SYMBOLS,
    VERDICTS,
    ChecklistReport,
    CheckResult,
    SplitCounts,
    Verdict,
)
from dataloupe.core.checks.samples import SAMPLE_LIMIT, StoredSamples, read_stored, sample_hashes
from dataloupe.core.checks.values import ValueStats, value_stats

__all__ = [
    "CHECKS",
    "MIN_CLASS_SAMPLES",
    "SAMPLE_LIMIT",
    "SYMBOLS",
    "VERDICTS",
    "CheckResult",
    "ChecklistReport",
    "OrderStats",
    "SplitCounts",
    "StoredSamples",
    "ValueStats",
    "Verdict",
    "order_stats",
    "read_stored",
    "run_checklist",
    "sample_hashes",
    "value_stats",
]
