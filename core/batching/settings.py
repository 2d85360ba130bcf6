"""What a training loop hands to ``DataLoader``: batch size, shuffle, seed, drop_last, sampler.

Torch-free: the app's loader form and argparse check what is typed before torch has loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from dataloupe.core.batching.samplers import SAMPLERS
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import MAX_SEED, PREVIEW_BATCH_SIZE, parse_whole

SAMPLER_NAMES: tuple[str, ...] = SAMPLERS
"""The samplers :func:`dataloupe.core.batching.samplers.make_sampler` builds (``dataloupe.core.batching.samplers`` imports torch lazily)."""
WORKERS_REASON = (
    "Batches are built in the main process (num_workers=0): in the app they are built in a thread "
    "that can be stopped at once, while worker processes would each import torch and copy the "
    "dataset (seconds of start-up to show ten samples), could not be cancelled with the thread, "
    "and would write over the terminal UI. For a small dataset held in memory, as here, extra "
    "workers would not make batches faster."
)
"""Why ``num_workers`` is fixed at 0, for the help text and the error message."""


@dataclass(frozen=True)
class LoaderSettings:
    """What a training loop hands to ``DataLoader``; checked when made, so a bad value never reaches torch."""

    batch_size: int = PREVIEW_BATCH_SIZE
    """Samples per batch; :data:`~dataloupe.core.settings.PREVIEW_BATCH_SIZE` (every sample of a batch fits on screen)."""
    shuffle: bool = True
    """Draw a new random order every epoch, as training should (only the sequential sampler reads it)."""
    seed: int = 0
    """Seeds the one generator behind every epoch's order: the same seed gives the same epochs in any process."""
    drop_last: bool = False
    """Drop the last batch when it is smaller than ``batch_size`` (off: the user sees the smaller batch)."""
    sampler: str = "sequential"
    """sequential, random, or balanced (inverse class frequency, with replacement); see ``dataloupe.core.batching.samplers``."""
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
        batch_size: Any = PREVIEW_BATCH_SIZE,
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
