"""What every check may look at, gathered once by :func:`dataloupe.core.checks.run_checklist`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dataloupe.core.checks.samples import StoredSamples
from dataloupe.core.progress import ProgressCallback

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.data.pipeline import Pipeline


@dataclass(frozen=True)
class Facts:
    """What every check may look at, gathered once."""

    handle: DatasetHandle
    """The dataset checked."""
    pipeline: Pipeline
    """The transform the checks see (augmentation off)."""
    classes: tuple[str, ...]
    """Class names, extended with "#k" for labels past the class list."""
    labels: dict[str, np.ndarray]
    """Every label of each split, in stored order."""
    counts: dict[str, np.ndarray]
    """Samples per class of each split, all as long as ``classes``."""
    stored: dict[str, StoredSamples]
    """The stored samples looked at, per split."""
    loader_shuffles: bool | None
    """Whether the training loader shuffles; None when unknown."""
    threshold: float
    """Largest ÷ smallest above which a split is unbalanced."""
    min_class_samples: int
    """Fewer training samples than this make a class too small."""
    progress: ProgressCallback | None
    """Where long checks report."""
    cancel: threading.Event | None
    """Set to stop."""

    @property
    def train_name(self) -> str:
        """The split a model learns from: train, or the only split there is."""
        return "train" if "train" in self.labels else next(iter(self.labels))


def with_note(text: str, *stored: StoredSamples) -> str:
    """``text`` with "(read 2,000 of 60,000 train samples)" added for each split not looked at whole."""
    notes = [s.note() for s in stored if s.note()]
    return f"{text} ({'; '.join(notes)})" if notes else text
