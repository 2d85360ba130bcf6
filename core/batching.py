"""DataLoader batches exactly as training sees them, one at a time.

:class:`LoaderSettings` holds what a training loop passes to ``DataLoader`` (batch size,
shuffle, seed, drop_last, sampler); :class:`BatchStepper` builds that real ``DataLoader``
over a :class:`~core.datasets.Split` and steps through it: the next batch, a new epoch
(a fresh pass over the loader, which reshuffles), or straight to batch N. Each batch comes
with a :class:`BatchSummary`: shapes, dtypes, statistics, labels, the label histogram and
the running class counts of the epoch beside the dataset's own.

Transforms (scaling, ``Normalize``, augmentation) are the split's
:class:`~core.pipeline.Pipeline`, applied per sample inside the Dataset, so the loader
delivers what training would get.

    python -c "from core.batching import *; from core.readers import open_dataset; \
from core.sources import DatasetSpec; s = BatchStepper(open_dataset(DatasetSpec('digits')).split('train')); \
print(s.step().summary.text())"

torch is imported when a stepper is built, not when this module is: the app reads the
settings and their messages before torch has finished loading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import SettingsError
from core.samplers import SAMPLERS
from core.wording import plural

if TYPE_CHECKING:
    import torch

    from core.datasets import Split

SAMPLER_NAMES: tuple[str, ...] = SAMPLERS
"""The samplers :func:`core.samplers.make_sampler` builds (``core.samplers`` imports torch lazily)."""
MAX_SEED = 2**63 - 1
"""Largest seed ``torch.Generator.manual_seed`` takes as a signed 64-bit number."""
WORKERS_REASON = (
    "Batches are built in the main process (num_workers=0): in the app they are built in a thread "
    "that can be stopped at once, while worker processes would each import torch and copy the "
    "dataset (seconds of start-up to show ten samples), could not be cancelled with the thread, "
    "and would write over the terminal UI. For a small dataset held in memory, as here, extra "
    "workers would not make batches faster."
)
"""Why ``num_workers`` is fixed at 0, for the help text and the error message."""


# ---------------------------------------------------------------------- settings
def parse_whole(value: Any, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` (text from a form or the command line, or an int) as a whole number ≥ ``minimum``.

    Raises :class:`SettingsError` naming the setting: "--batch-size must be a whole number ≥ 1, got 0".
    """
    bound = (
        f"a whole number ≥ {minimum}" if maximum is None else f"a whole number from {minimum} to {maximum:,}"
    )
    if isinstance(value, bool):
        raise SettingsError(f"{name} must be {bound}, got {value!r}.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        try:
            number = int(text)
        except ValueError:
            raise SettingsError(f"{name} must be {bound}, got {str(value)!r}.") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise SettingsError(f"{name} must be {bound}, got {number:,}.")
    return number


@dataclass(frozen=True)
class LoaderSettings:
    """What a training loop hands to ``DataLoader``; checked when made, so a bad value never reaches torch."""

    batch_size: int = 10
    """Samples per batch; 10 as in the tutorials, small enough to see every sample of a batch."""
    shuffle: bool = True
    """Draw a new random order every epoch, as training should (only the sequential sampler reads it)."""
    seed: int = 0
    """Seeds the one generator behind every epoch's order: the same seed gives the same epochs in any process."""
    drop_last: bool = False
    """Drop the last batch when it is smaller than ``batch_size`` (off: the user sees the smaller batch)."""
    sampler: str = "sequential"
    """sequential, random, or balanced (inverse class frequency, with replacement); see ``core.samplers``."""
    num_workers: int = 0
    """Always 0: see :data:`WORKERS_REASON`."""

    def __post_init__(self) -> None:
        # text from a form is accepted and stored as the number it names
        object.__setattr__(self, "batch_size", parse_whole(self.batch_size, "batch size"))
        object.__setattr__(self, "seed", parse_whole(self.seed, "seed", minimum=0, maximum=MAX_SEED))
        if self.sampler not in SAMPLER_NAMES:
            raise SettingsError(
                f"unknown sampler {self.sampler!r}: choose one of {', '.join(SAMPLER_NAMES)}."
            )
        if self.num_workers != 0:
            raise SettingsError(f"num_workers must be 0 here, got {self.num_workers!r}. {WORKERS_REASON}")

    @classmethod
    def parse(
        cls,
        batch_size: Any = 10,
        seed: Any = 0,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        sampler: str = "sequential",
        names: tuple[str, str] = ("batch size", "seed"),
    ) -> LoaderSettings:
        """Settings from text typed in a form or on the command line; ``names`` label the two numbers in errors."""
        return cls(
            batch_size=parse_whole(batch_size, names[0]),
            seed=parse_whole(seed, names[1], minimum=0, maximum=MAX_SEED),
            shuffle=bool(shuffle),
            drop_last=bool(drop_last),
            sampler=sampler,
        )

    def with_(self, **changes: Any) -> LoaderSettings:
        """A copy with some fields changed (checked again)."""
        return replace(self, **changes)

    @property
    def effective_sampler(self) -> str:
        """The sampler actually built: shuffle turns "sequential" into "random", as ``DataLoader(shuffle=True)`` does."""
        return "random" if self.sampler == "sequential" and self.shuffle else self.sampler

    def batches_per_epoch(self, length: int) -> int:
        """Batches one pass over ``length`` samples gives (``len(DataLoader)``)."""
        return length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)

    def check(self, length: int, what: str = "the split") -> int:
        """Batches per epoch over ``length`` samples; raises :class:`SettingsError` when there are none."""
        if length <= 0:
            raise SettingsError(
                f"{what} has no samples, so it has no batches. Choose another split or dataset."
            )
        n = self.batches_per_epoch(length)
        if n == 0:
            raise SettingsError(
                f"batch size {self.batch_size:,} with drop_last leaves no batch: {what} has only "
                f"{length:,} samples. Choose a batch size ≤ {length:,} or turn drop_last off."
            )
        return n

    def describe(self) -> str:
        """One line: "batch size 10 · random order (shuffle) · seed 0 · keep last · num_workers 0"."""
        order = {
            "sequential": "sequential order",
            "random": "random order" + (" (shuffle)" if self.sampler == "sequential" else ""),
            "balanced": "class-balanced (with replacement)",
        }[self.effective_sampler]
        last = "drop_last" if self.drop_last else "keep last"
        return f"batch size {self.batch_size:,} · {order} · seed {self.seed} · {last} · num_workers 0"


def check_batch_count(count: Any, per_epoch: int, name: str = "--count") -> int:
    """``count`` batches asked for out of ``per_epoch``; raises :class:`SettingsError` for more than exist."""
    number = parse_whole(count, name)
    if number > per_epoch:
        raise SettingsError(
            f"{name} {number:,} asks for more batches than an epoch has: there are {per_epoch:,} "
            f"(0..{per_epoch - 1:,}). Ask for at most {per_epoch:,}, or use a smaller batch size."
        )
    return number


# ---------------------------------------------------------------------- one batch
@dataclass(frozen=True)
class BatchSummary:
    """Everything shown about one batch: an immutable value that can cross threads."""

    epoch: int
    """Pass over the loader, from 1."""
    index: int
    """Batch within the epoch, from 0 (as ``enumerate(loader)`` counts)."""
    batches: int
    """Batches in an epoch (``len(loader)``)."""
    batch_size: int
    """The setting; the last batch may hold fewer."""
    indices: tuple[int, ...]
    """Dataset indices of the samples, in batch order."""
    labels: tuple[int, ...]
    """The batch's labels (y), in batch order."""
    classes: tuple[str, ...]
    """Class names; label ``k`` is ``classes[k]``."""
    x_shape: tuple[int, ...]
    """X's shape: (10, 1, 28, 28)."""
    x_dtype: str
    """"torch.float32"."""
    y_shape: tuple[int, ...]
    """y's shape: (10,)."""
    y_dtype: str
    """"torch.int64"."""
    x_min: float
    """Smallest finite value of X."""
    x_max: float
    """Largest finite value of X."""
    x_mean: float
    """Mean of X's finite values."""
    x_std: float
    """Standard deviation (unbiased, as ``torch.std``) of X's finite values."""
    nonfinite: int
    """Values of X that are NaN or infinite (left out of the statistics)."""
    histogram: tuple[int, ...]
    """Samples of each class in this batch."""
    epoch_counts: tuple[int, ...]
    """Samples of each class drawn this epoch so far (batches 0..index, or the batches seen)."""
    epoch_batches: int
    """Batches counted in ``epoch_counts``."""
    dataset_counts: tuple[int, ...] | None
    """Samples of each class in the split (``core.stats.class_counts``); None when the labels are unknown."""
    sampler: str
    """The sampler in use: sequential, random or balanced."""
    pipeline: str
    """The transform in use, as ``Pipeline.describe()`` writes it."""

    @property
    def size(self) -> int:
        """Samples in this batch."""
        return len(self.labels)

    @property
    def is_last(self) -> bool:
        """The last batch of the epoch."""
        return self.index == self.batches - 1

    @property
    def is_last_smaller(self) -> bool:
        """The last batch of an epoch holds fewer than ``batch_size`` samples (drop_last off)."""
        return self.size < self.batch_size

    @property
    def x_shape_text(self) -> str:
        """ "torch.Size([10, 1, 28, 28])", as ``print(x.shape)`` writes it."""
        return f"torch.Size({list(self.x_shape)})"

    @property
    def y_shape_text(self) -> str:
        """ "torch.Size([10])"."""
        return f"torch.Size({list(self.y_shape)})"

    def class_name(self, label: int) -> str:
        """Name of ``label``, or "#k" outside the class list."""
        return self.classes[label] if 0 <= label < len(self.classes) else f"#{label}"

    def legend(self) -> str:
        """ "0 low (≤ 4.5) · 1 high (> 4.5)" when class names are not just the label numbers (≤ 12 classes)."""
        if all(name == str(k) for k, name in enumerate(self.classes)) or len(self.classes) > 12:
            return ""
        return " · ".join(f"{k} {name}" for k, name in enumerate(self.classes))

    def position_text(self) -> str:
        """ "epoch 2 · batch 143 of 144 (last, 8 samples: smaller)"."""
        text = f"epoch {self.epoch} · batch {self.index:,} of {self.batches:,}"
        if self.is_last_smaller:
            text += f" · last batch: {self.size} samples, smaller than {self.batch_size}"
        elif self.is_last:
            text += " · last batch"
        return text

    def stats_text(self) -> str:
        """ "min 0 · max 1 · mean 0.3046 · std 0.4102"."""
        text = f"min {self.x_min:.4g} · max {self.x_max:.4g} · mean {self.x_mean:.4g} · std {self.x_std:.4g}"
        if self.nonfinite:
            text += f" · {self.nonfinite:,} NaN/inf values left out"
        return text

    def count_rows(self) -> list[tuple[str, int, float, float | None]]:
        """(class, in this batch, share of this epoch so far, share of the split) for each class."""
        seen = sum(self.epoch_counts) or 1
        total = sum(self.dataset_counts) if self.dataset_counts else 0
        rows = []
        for k in range(len(self.histogram)):
            data_share = self.dataset_counts[k] / total if self.dataset_counts and total else None
            rows.append((self.class_name(k), self.histogram[k], self.epoch_counts[k] / seen, data_share))
        return rows

    def text(self) -> str:
        """The summary as plain lines (the command line prints this)."""
        histogram = "  ".join(f"{k}:{count}" for k, count in enumerate(self.histogram) if count)
        lines = [
            self.position_text(),
            f"  X  {self.x_shape_text}  {self.x_dtype}",
            f"  y  {self.y_shape_text}  {self.y_dtype}",
            f"  X  {self.stats_text()}",
            f"  labels     {' '.join(str(y) for y in self.labels)}",
            f"  histogram  {histogram}",
        ]
        legend = self.legend()
        if legend:
            lines.append(f"  classes    {legend}")
        return "\n".join(lines)

    def counts_text(self) -> str:
        """The classes drawn this epoch so far beside the split's own shares, as a small table."""
        width = max([len("class"), *(len(c) for c in self.classes)])
        seen = sum(self.epoch_counts)
        lines = [
            f"class counts over {plural(self.epoch_batches, 'batch', 'batches')} of epoch {self.epoch} "
            f"({plural(seen, 'sample')}) beside the split:",
            f"  {'class':<{width}}  {'epoch':>6}  {'share':>6}  {'split':>6}",
        ]
        for k, (name, _, share, data_share) in enumerate(self.count_rows()):
            data = f"{data_share:6.1%}" if data_share is not None else "     ?"
            lines.append(f"  {name:<{width}}  {self.epoch_counts[k]:>6,}  {share:6.1%}  {data}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: one line of ``dataloupe batches --json``."""
        return {
            "epoch": self.epoch,
            "batch": self.index,
            "batches": self.batches,
            "size": self.size,
            "batch_size": self.batch_size,
            "last_smaller": self.is_last_smaller,
            "sampler": self.sampler,
            "pipeline": self.pipeline,
            "X": {
                "shape": list(self.x_shape),
                "dtype": self.x_dtype,
                "min": _json_float(self.x_min),
                "max": _json_float(self.x_max),
                "mean": _json_float(self.x_mean),
                "std": _json_float(self.x_std),
                "nonfinite": self.nonfinite,
            },
            "y": {"shape": list(self.y_shape), "dtype": self.y_dtype},
            "labels": list(self.labels),
            "indices": list(self.indices),
            "classes": list(self.classes),
            "histogram": list(self.histogram),
            "epoch_counts": list(self.epoch_counts),
            "dataset_counts": list(self.dataset_counts) if self.dataset_counts is not None else None,
        }


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Batch:
    """One batch as the loader delivered it, with its summary."""

    x: torch.Tensor
    """The samples, stacked: B×C×H×W for images, B×F for tables."""
    y: torch.Tensor
    """The labels, int64."""
    summary: BatchSummary
    """What is shown about it."""


# ---------------------------------------------------------------------- stepping
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
        from torch.utils.data import DataLoader

        from core.datasets import collate_samples
        from core.samplers import make_sampler
        from core.stats import class_counts

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
        """The sampler, built by ``core.samplers.make_sampler``."""
        self.loader = DataLoader(
            split,
            batch_size=self.settings.batch_size,
            sampler=self.sampler,
            drop_last=self.settings.drop_last,
            num_workers=0,
            generator=self._loader_generator,
            collate_fn=collate_samples,
        )
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

    def set_pipeline(self, pipeline) -> None:
        """Read samples through ``pipeline`` from now on, in the same order; the current batch is built again."""
        from torch.utils.data import DataLoader

        from core.datasets import collate_samples

        if pipeline == self.split.pipeline:
            return
        self.split = self.split.with_pipeline(pipeline)
        self.loader = DataLoader(
            self.split,
            batch_size=self.settings.batch_size,
            sampler=self.sampler,
            drop_last=self.settings.drop_last,
            num_workers=0,
            generator=self._loader_generator,
            collate_fn=collate_samples,
        )
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
