"""DataLoader batches exactly as training sees them, one at a time.

:class:`LoaderSettings` holds what a training loop passes to ``DataLoader`` (batch size,
shuffle, seed, drop_last, sampler); :class:`BatchStepper` builds that real ``DataLoader``
over a :class:`~dataloupe.core.data.datasets.Split` and steps through it: the next batch, a new epoch
(a fresh pass over the loader, which reshuffles), or straight to batch N. Each batch comes
with a :class:`BatchSummary`: shapes, dtypes, statistics, labels, the label histogram and
the running class counts of the epoch beside the dataset's own.

Transforms (scaling, ``Normalize``, augmentation) are the split's
:class:`~dataloupe.core.data.pipeline.Pipeline`, applied per sample inside the Dataset, so the loader
delivers what training would get.

    python -c "from dataloupe.core.batching import *; from dataloupe.core.readers import open_dataset; \
from dataloupe.core.data.sources import DatasetSpec; s = BatchStepper(open_dataset(DatasetSpec('digits')).split('train')); \
print(s.step().summary.text())"

torch is imported when a stepper is built, not when this module is: the app reads the
settings and their messages before torch has finished loading.

Modules:
- ``settings``: ``LoaderSettings``, ``check_batch_count`` (torch-free; defaults from :mod:`dataloupe.core.settings`).
- ``summary``: ``Batch`` and ``BatchSummary`` (torch-free).
- ``stepper``: ``BatchStepper``.
"""

from dataloupe.core.batching.settings import (
    SAMPLER_NAMES,
    WORKERS_REASON,
    LoaderSettings,
    check_batch_count,
)
from dataloupe.core.batching.stepper import BatchStepper
from dataloupe.core.batching.summary import Batch, BatchSummary

__all__ = [
    "SAMPLER_NAMES",
    "WORKERS_REASON",
    "Batch",
    "BatchStepper",
    "BatchSummary",
    "LoaderSettings",
    "check_batch_count",
]
