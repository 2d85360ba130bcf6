"""The user's own ``DataLoader``, iterated as it is: its batch size, sampler, collate_fn and workers.

:class:`LoaderFacts` reads what the loader does (shuffle, drop_last, num_workers), for the screen and
the checklist. :class:`LoaderStepper` steps through it with the interface of
:class:`~dataloupe.core.batching.BatchStepper`, so the batches pane and ``dataloupe batches`` show exactly the
batches the user's training sees. A loader only goes forward: each new epoch is a new ``iter(loader)``
(which reshuffles as the loader would), and jumping ahead reads the batches in between.

torch is imported when a stepper is built or facts are read, not when this module is.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dataloupe.core.batching.loader_workers import release_all
from dataloupe.core.batching.stepper import BatchStepper, _Epoch
from dataloupe.core.batching.summary import Batch
from dataloupe.core.errors import SettingsError, UserCodeError
from dataloupe.core.settings import parse_whole

if TYPE_CHECKING:
    from dataloupe.core.batching.settings import LoaderSettings
    from dataloupe.core.data.datasets import DatasetHandle, Split
    from dataloupe.core.data.samples import SampleReader

SHUFFLING = ("RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler")
"""Sampler classes that draw a random order."""


@dataclass(frozen=True)
class LoaderFacts:
    """What the user's DataLoader does, read from it once; also the stepper's ``settings``."""

    batch_size: int
    """Samples per batch (0 when a custom batch sampler decides)."""
    sampler: str
    """Class name of its sampler: "RandomSampler"."""
    shuffle: bool | None
    """Whether the sampler draws a random order; None when it cannot be told (a custom sampler, a stream)."""
    drop_last: bool
    """Whether the last smaller batch is dropped."""
    num_workers: int
    """Worker processes."""
    collate: str
    """Its collate function's name ("default collate" for torch's own)."""
    batches: int | None
    """``len(loader)``, or None for a stream."""

    @classmethod
    def read(cls, loader: Any) -> LoaderFacts:
        """The facts of ``loader`` (a ``torch.utils.data.DataLoader``)."""
        from torch.utils.data import default_collate

        batch_sampler = getattr(loader, "batch_sampler", None)
        sampler = getattr(batch_sampler, "sampler", None) if loader.batch_size is None else loader.sampler
        sampler = sampler if sampler is not None else loader.sampler
        kind = type(sampler).__name__
        if kind in SHUFFLING:
            shuffle: bool | None = True
        elif kind == "SequentialSampler":
            shuffle = False
        elif isinstance(getattr(sampler, "shuffle", None), bool):  # DistributedSampler
            shuffle = sampler.shuffle
        else:
            shuffle = None
        drop_last = bool(
            loader.drop_last if loader.batch_size is not None else getattr(batch_sampler, "drop_last", False)
        )
        collate = loader.collate_fn
        collate_name = (
            "default collate"
            if collate is default_collate or getattr(collate, "__name__", "") == "default_collate"
            else getattr(collate, "__qualname__", type(collate).__name__)
        )
        try:
            batches: int | None = len(loader)
        except TypeError:
            batches = None
        return cls(
            batch_size=int(loader.batch_size or 0),
            sampler="a stream" if kind == "_InfiniteConstantSampler" else kind,
            shuffle=shuffle,
            drop_last=drop_last,
            num_workers=int(loader.num_workers),
            collate=collate_name,
            batches=batches,
        )

    @property
    def effective_sampler(self) -> str:
        """The sampler's name, as :class:`~dataloupe.core.batching.LoaderSettings` names its own."""
        return self.sampler

    def shuffle_text(self) -> str:
        """ "shuffles (RandomSampler)", "does not shuffle (SequentialSampler)", "order unknown (MySampler)"."""
        how = {True: "shuffles", False: "does not shuffle", None: "order unknown"}[self.shuffle]
        return f"{how} ({self.sampler})"

    def describe(self) -> str:
        """One line: "your DataLoader as it is: batch size 32 · shuffles (RandomSampler) · drop_last off · …"."""
        size = f"batch size {self.batch_size:,}" if self.batch_size else "a custom batch sampler"
        return f"your DataLoader as it is: {size} · {self.checked()} · collate_fn {self.collate}"

    def checked(self) -> str:
        """What the checklist reads: "shuffles (RandomSampler) · drop_last off · num_workers 2"."""
        last = "drop_last on" if self.drop_last else "drop_last off"
        return f"{self.shuffle_text()} · {last} · num_workers {self.num_workers}"


class LoaderStepper(BatchStepper):
    """Steps through the user's own DataLoader: next batch, new epoch (a new ``iter``), forward to batch N."""

    def __init__(self, loader: Any, split: Split, reader: SampleReader, num_classes: int | None = None):
        from dataloupe.core.stats.classes import class_counts

        self.loader = loader
        """The user's DataLoader, iterated as it is."""
        self.settings = LoaderFacts.read(loader)  # type: ignore[assignment]
        """What the loader does (describe() for the screen)."""
        self.split = split
        """The loader's dataset as a split (class names and counts)."""
        self.reader = reader
        """Reads X and y out of what the loader's collate_fn returns."""
        self.batches_per_epoch = self.settings.batches or 0
        """``len(loader)``; 0 for a stream, whose length is unknown."""
        if self.settings.batches == 0:
            raise SettingsError(
                "your DataLoader has no batches: its dataset is empty, or drop_last drops them all."
            )
        self.num_classes = num_classes if num_classes is not None else len(split.classes)
        """Length of the histograms."""
        self._targets = None  # the loader's order is its own: count the labels it delivers
        self.dataset_counts: tuple[int, ...] | None = None
        """Samples per class in the split, when its labels are known."""
        if split.targets is not None:
            counts = class_counts(split, self.num_classes)
            self.num_classes = max(self.num_classes, len(counts))
            self.dataset_counts = tuple(int(c) for c in counts)
        self.position = -1
        """Index of the current batch in the epoch; -1 before the first."""
        self.current: Batch | None = None
        """The batch last built, or None."""
        self._epoch = _Epoch(1, [])
        self._at = -1  # index of the batch the iterator gave last
        self._last: Batch | None = None  # and that batch
        # The loader's iterator, in a box that a finalizer holds: a stepper dropped without close()
        # (in a reference cycle, say) still has its workers stopped, without blocking the collection.
        self._box: list[Any] = []
        weakref.finalize(self, release_all, self._box)

    @property
    def _iterator(self) -> Any:
        return self._box[0] if self._box else None

    def close(self) -> None:
        """Stop the worker processes of the loader's current iterator (in the background); a step
        after this starts a new pass. Call it when the stepper is no longer needed."""
        release_all(self._box)
        self._at, self._last = -1, None

    def _draw_epoch(self, number: int) -> _Epoch:
        return _Epoch(number, [])

    def new_epoch(self) -> None:
        """A new pass over the loader: a new ``iter(loader)``, which draws a new order as training would."""
        self._epoch = _Epoch(self.epoch + 1, [])
        self.position = -1
        self.current = None
        self.close()

    def advance(self, count: int = 1) -> None:
        """Move ``count`` batches on (into a new epoch past the last batch); built when :meth:`build` is called."""
        count = parse_whole(count, "steps")
        target = self.position + count
        n = self.batches_per_epoch
        while n and target >= n:
            self.new_epoch()
            target -= n
        self._move_to(target)

    def seek(self, index: int) -> None:
        """Make batch ``index`` current; a loader goes forward only, so a batch already passed is refused."""
        n = self.batches_per_epoch
        if isinstance(index, bool) or not isinstance(index, int) or index < 0 or (n and index >= n):
            raise SettingsError(
                f"batch {index!r} does not exist: epoch {self.epoch} has {n:,} batches (0..{n - 1:,})."
            )
        if index < self._at:
            raise SettingsError(
                f"batch {index:,} has gone by: your DataLoader only goes forward, and this epoch is at batch "
                f"{self._at:,}. Press e for a new epoch (a new order, as your loader draws it) to start again."
            )
        self._move_to(index)

    def set_pipeline(self, pipeline) -> None:
        """Nothing: your DataLoader's own transform and collate_fn make its batches."""

    def _go(self, index: int) -> Batch:
        from dataloupe.core.user_calls import run_user

        if self._iterator is None:
            self._box.append(run_user("starting your DataLoader (iter)", iter, self.loader))
        if index < self._at:
            raise SettingsError(f"batch {index:,} has gone by: your DataLoader only goes forward.")
        if index == self._at and self._last is not None:
            self.position, self.current = index, self._last
            return self._last
        batch = None
        while self._at < index:
            try:
                batch = run_user(f"building batch {self._at + 1} of your DataLoader", next, self._iterator)
            except UserCodeError as e:
                if isinstance(e.__cause__, StopIteration):
                    if not self.batches_per_epoch:  # a stream ended: now its length is known
                        self.batches_per_epoch = self._at + 1
                    raise SettingsError(
                        f"your DataLoader ended after {self._at + 1:,} batches in epoch {self.epoch}; "
                        "press e for a new epoch."
                    ) from None
                raise
            self._at += 1
        x, y = self.reader.batch(batch)
        labels = np.asarray(y, dtype=np.int64).reshape(-1)
        self.position = index
        self._epoch.seen[index] = labels
        summary = self._summarize(x, y, [-1] * len(labels), labels)
        summary = dataclasses.replace(
            summary,
            batches=self.batches_per_epoch,
            batch_size=self.settings.batch_size or len(labels),
            sampler=f"your DataLoader's {self.settings.sampler}",
            pipeline=f"as your DataLoader delivers it (its Dataset's transforms, {self.settings.collate})",
        )
        self.current = self._last = Batch(x, y, summary)
        return self.current


def stepper_for(handle: DatasetHandle, split: Split, settings: LoaderSettings) -> BatchStepper:
    """The stepper the batches pane and ``dataloupe batches`` use: over the user's own DataLoader when the
    handle has one (for its training split), otherwise a :class:`BatchStepper` with ``settings``."""
    if handle.loader is not None and split.name == handle.split_names[0]:
        from dataloupe.core.data.samples import SampleReader

        keys = handle.spec.keys if handle.spec is not None else None
        return LoaderStepper(handle.loader, split, SampleReader(keys), handle.num_classes)
    return BatchStepper(split, settings, handle.num_classes)
