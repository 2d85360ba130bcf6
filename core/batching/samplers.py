"""Which samples a loader draws, and in what order: sequential, random, or class-balanced.

The class-balanced sampler is a ``WeightedRandomSampler`` whose weights are the inverse
of each sample's class frequency, drawing with replacement: every class is then drawn
about equally often, however rare it is in the data. The batch stepper and the trainer
both build their samplers here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from dataloupe.core.errors import SettingsError

if TYPE_CHECKING:  # torch is imported inside the functions: settings forms read SAMPLERS before torch loads
    import torch
    from torch.utils.data import Sampler

SamplerName = Literal["sequential", "random", "balanced"]
SAMPLERS: tuple[SamplerName, ...] = ("sequential", "random", "balanced")


def balanced_weights(targets: np.ndarray, num_classes: int | None = None) -> torch.Tensor:
    """One weight per sample: 1 / (samples of its class). Classes with no samples get no weight."""
    import torch

    t = np.asarray(targets, dtype=np.int64)
    counts = np.bincount(t, minlength=num_classes or 0).astype(np.float64)
    per_class = np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)
    return torch.from_numpy(per_class[t]).to(torch.float64)


def make_sampler(
    name: str,
    length: int,
    targets: np.ndarray | None = None,
    generator: torch.Generator | None = None,
    num_samples: int | None = None,
) -> Sampler[int]:
    """The sampler called ``name`` over ``length`` samples.

    ``balanced`` needs the split's ``targets``; it draws ``num_samples`` (default: ``length``)
    indices with replacement, each class equally likely.
    """
    from torch.utils.data import RandomSampler, SequentialSampler, WeightedRandomSampler

    if name == "sequential":
        return SequentialSampler(range(length))
    if name == "random":
        return RandomSampler(range(length), generator=generator)
    if name == "balanced":
        if targets is None:
            raise SettingsError(
                "the class-balanced sampler needs every sample's label; count the classes first (balance pane)."
            )
        return WeightedRandomSampler(
            balanced_weights(targets),
            num_samples=num_samples or length,
            replacement=True,
            generator=generator,
        )
    raise SettingsError(f"unknown sampler {name!r}: choose one of {', '.join(SAMPLERS)}.")
