"""Stepping through a real ``DataLoader`` one batch at a time: next batch, new epoch, jump to batch N.

torch is imported when a stepper is built, not when this module is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dataloupe.core.batching.settings import LoaderSettings
from dataloupe.core.batching.summary import Batch, BatchSummary
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import parse_whole

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import Split


@dataclass
class _Epoch:
    """The order of one pass over the loader, drawn from the sampler when the epoch starts."""

    number: int
    """From 1."""
    plan: list[list[int]]
    """Dataset indices of each batch, as the loader's batch sampler gave them."""
    seen: dict[int, np.ndarray] = field(default_factory=dict)
    """Labels of the batches built this epoch (used when the split's targets are unknown)."""


class BatchStepper:
    """Steps through a real ``DataLoader`` over ``split``: next batch, new epoch, jump to batch N.

    One ``torch.Generator``, seeded once from ``settings.seed``, drives every epoch's order,
    so epoch 2 differs from epoch 1 while a new process with the same seed repeats both.
    Each epoch's order is drawn from the loader's own batch sampler when the epoch starts
    (indices only), so jumping ahead decodes no sample. Not thread-safe: use it from one
    thread at a time.
    """

    def __init__(self, split: Split, settings: LoaderSettings | None = None, num_classes: int | None = None):
        import torch

        from dataloupe.core.batching.samplers import make_sampler
        from dataloupe.core.stats.classes import class_counts

        self.settings = settings or LoaderSettings()
        """The loader settings in use."""
        self.batches_per_epoch = self.settings.check(len(split), f"the {split.name} split")
        """Batches in one epoch (``len(loader)``)."""
        self.num_classes = num_classes if num_classes is not None else len(split.classes)
        """Length of the histograms."""
        self.split = split
        """The dataset the loader reads, through its pipeline."""
        self.generator = torch.Generator().manual_seed(self.settings.seed)
        """Seeded once; every epoch's order is the next draw from it."""
        self._loader_generator = torch.Generator().manual_seed(self.settings.seed)
        # DataLoader draws a base seed for its workers at each iter(); giving it its own generator keeps that
        # draw off both the sampler's generator and torch's global one.
        self.sampler = make_sampler(
            self.settings.effective_sampler, len(split), split.targets, generator=self.generator
        )
        """The sampler, built by ``dataloupe.core.batching.samplers.make_sampler``."""
        self.loader = self._make_loader()
        """The DataLoader a training loop would iterate."""
        targets = split.targets
        self._targets = None if targets is None else np.asarray(targets, dtype=np.int64)
        self.dataset_counts: tuple[int, ...] | None = None
        """Samples per class in the split, when its labels are known without decoding."""
        if self._targets is not None:
            counts = class_counts(split, self.num_classes)
            self.num_classes = max(self.num_classes, len(counts))
            self.dataset_counts = tuple(int(c) for c in counts)
        self.position = -1
        """Index of the current batch in the epoch; -1 before the first."""
        self.current: Batch | None = None
        """The batch last built, or None."""
        self._epoch = self._draw_epoch(1)
        self._rest: Any = None  # an iterator over the loader from batch self._rest_at on
        self._rest_at = -1

    def _make_loader(self):
        """The DataLoader over ``self.split`` with these settings, sampler and generator."""
        from torch.utils.data import DataLoader

        from dataloupe.core.data.datasets import collate_samples

        return DataLoader(
            self.split,
            batch_size=self.settings.batch_size,
            sampler=self.sampler,
            drop_last=self.settings.drop_last,
            num_workers=0,
            generator=self._loader_generator,
            collate_fn=collate_samples,
        )

    # ------------------------------------------------------------------ state
    @property
    def epoch(self) -> int:
        """The current pass over the loader, from 1."""
        return self._epoch.number

    @property
    def plan(self) -> list[list[int]]:
        """Dataset indices of every batch of this epoch."""
        return self._epoch.plan

    def _draw_epoch(self, number: int) -> _Epoch:
        # Iterating the batch sampler is what iter(loader) does first: it draws the epoch's order
        # from the sampler (and its generator) without touching a sample.
        return _Epoch(number, [list(b) for b in self.loader.batch_sampler])

    # ------------------------------------------------------------------ moving
    def new_epoch(self) -> None:
        """Start the next pass over the loader: a new order from the generator; no batch is current."""
        self._epoch = self._draw_epoch(self.epoch + 1)
        self.position = -1
        self.current = None
        self._rest, self._rest_at = None, -1

    def advance(self, count: int = 1) -> None:
        """Move ``count`` batches on, into new epochs past the last batch, without decoding a sample."""
        count = parse_whole(count, "steps")
        target = self.position + count
        while target >= self.batches_per_epoch:
            # every epoch passed over is still drawn from the generator, as training would draw it
            self.new_epoch()
            target -= self.batches_per_epoch
        self._move_to(target)

    def seek(self, index: int) -> None:
        """Make batch ``index`` of this epoch (0-based) the current one, without decoding a sample."""
        n = self.batches_per_epoch
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise SettingsError(
                f"batch {index!r} does not exist: epoch {self.epoch} has {n:,} batches (0..{n - 1:,})."
            )
        self._move_to(index)

    def _move_to(self, index: int) -> None:
        if index != self.position:
            self.position = index
            self.current = None

    def step(self, count: int = 1) -> Batch:
        """Move ``count`` batches on and build only the last one: holding the key costs one batch, not ``count``."""
        self.advance(count)
        return self.build()

    def jump(self, index: int) -> Batch:
        """Build batch ``index`` of this epoch; the batches before it are not decoded."""
        self.seek(index)
        return self.build()

    def close(self) -> None:
        """Free what the stepper holds beyond memory: nothing here (its loader has no worker processes)."""

    def set_pipeline(self, pipeline) -> None:
        """Read samples through ``pipeline`` from now on, in the same order; the current batch is built again."""
        if pipeline == self.split.pipeline:
            return
        self.split = self.split.with_pipeline(pipeline)
        self.loader = self._make_loader()
        self.current = None
        self._rest, self._rest_at = None, -1

    # ------------------------------------------------------------------ building
    def build(self) -> Batch:
        """The current batch, read through the loader (batch 0 before the first step); built once per position."""
        if self.position < 0:
            self.position = 0
        if self.current is not None:
            return self.current
        return self._go(self.position)

    def _go(self, index: int) -> Batch:
        from torch.utils.data import DataLoader

        if self._rest is None or self._rest_at != index:
            # A real DataLoader over the rest of this epoch's order: stepping on reuses its iterator.
            rest = DataLoader(
                self.split,
                batch_sampler=self._epoch.plan[index:],
                collate_fn=self.loader.collate_fn,
                num_workers=0,
                generator=self._loader_generator,
            )
            self._rest = iter(rest)
        x, y = next(self._rest)
        self._rest_at = index + 1
        self.position = index
        indices = self._epoch.plan[index]
        labels = np.asarray(y, dtype=np.int64).reshape(-1)
        self._epoch.seen[index] = labels
        self.current = Batch(x, y, self._summarize(x, y, indices, labels))
        return self.current

    def _epoch_counts(self) -> tuple[np.ndarray, int]:
        through = self.position + 1
        if self._targets is not None:
            picked = [i for batch in self._epoch.plan[:through] for i in batch]
            labels = self._targets[np.asarray(picked, dtype=np.int64)]
            return np.bincount(labels, minlength=self.num_classes), through
        seen = [labels for k, labels in self._epoch.seen.items() if k < through]
        if not seen:
            return np.zeros(self.num_classes, np.int64), 0
        return np.bincount(np.concatenate(seen), minlength=self.num_classes), len(seen)

    def _summarize(self, x, y, indices: list[int], labels: np.ndarray) -> BatchSummary:
        # numpy, not torch: on a busy machine torch's thread pool makes these small reductions slow
        values = np.asarray(x.detach().cpu().numpy(), dtype=np.float64).reshape(-1)
        finite = np.isfinite(values)
        nonfinite = int(values.size - np.count_nonzero(finite))
        if nonfinite:
            values = values[finite]
        if values.size:
            stats = (
                float(values.min()),
                float(values.max()),
                float(values.mean()),
                float(values.std(ddof=1)) if values.size > 1 else 0.0,  # unbiased, as torch.std
            )
        else:
            stats = (math.nan,) * 4
        counts, counted = self._epoch_counts()
        width = max(self.num_classes, len(counts), int(labels.max()) + 1 if labels.size else 0)
        histogram = np.bincount(labels, minlength=width)
        counts = np.pad(counts, (0, width - len(counts)))
        data = self.dataset_counts
        if data is not None and len(data) < width:
            data = tuple(data) + (0,) * (width - len(data))
        return BatchSummary(
            epoch=self.epoch,
            index=self.position,
            batches=self.batches_per_epoch,
            batch_size=self.settings.batch_size,
            indices=tuple(int(i) for i in indices),
            labels=tuple(int(v) for v in labels),
            classes=tuple(self.split.classes),
            x_shape=tuple(int(s) for s in x.shape),
            x_dtype=str(x.dtype),
            y_shape=tuple(int(s) for s in y.shape),
            y_dtype=str(y.dtype),
            x_min=stats[0],
            x_max=stats[1],
            x_mean=stats[2],
            x_std=stats[3],
            nonfinite=nonfinite,
            histogram=tuple(int(c) for c in histogram),
            epoch_counts=tuple(int(c) for c in counts),
            epoch_batches=counted,
            dataset_counts=data,
            sampler=self.settings.effective_sampler,
            pipeline=self.split.pipeline.describe(),
        )
