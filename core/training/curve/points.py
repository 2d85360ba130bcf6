"""What a learning-curve sweep measures, as frozen torch-free values: the plan, its networks and sizes, each point.

The app draws these before torch has loaded, and they cross from the sweep's thread to the
screen as they are: a :class:`CurveResult` is the whole sweep at one moment (the points measured
so far, how far it has come), never a shared object that changes.

    python -c "from dataloupe.core.training.curve.points import CurvePlan; p = CurvePlan(); \\
print(p.hidden_sizes(), [round(s, 3) for s in p.shares()])"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any, Literal

from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import MAX_HIDDEN_LAYERS, check_hidden

CurveState = Literal["running", "finished", "stopped", "failed"]
"""Where a sweep is: measuring, done, stopped by its cancel event, or ended by a fault."""

DEFAULT_UNITS = 96
"""Hidden units shared out among the layers: 1×96, 2×48, 4×24."""
DEFAULT_DEPTHS = (1, 2, 4)
"""Hidden layers of the networks compared: one wide, two, four narrow."""
DEFAULT_SIZES = 5
"""Training sizes measured, spaced geometrically up to the whole split."""
DEFAULT_SMALLEST = 0.05
"""Share of the training split at the smallest size."""
DEFAULT_REPEATS = 2
"""Seeds per point: one seed cannot tell a trend from noise."""
DEFAULT_MIN_STEPS = 500
"""Fewest optimizer steps a point trains for, whatever the epochs: a curve of undertrained models
measures the training budget, not the data (5 epochs of the digits are 115 steps; the 4×24 network
then reaches 77% where 500 steps take it past 90%)."""


@dataclass(frozen=True)
class CurvePlan:
    """Which networks and training sizes a sweep measures, and how often."""

    units: int = DEFAULT_UNITS  # hidden units of every network, shared out among its layers
    depths: tuple[int, ...] = DEFAULT_DEPTHS  # hidden layers of each network compared
    sizes: int = DEFAULT_SIZES  # training sizes, geometric from `smallest` to the whole split
    smallest: float = DEFAULT_SMALLEST  # share of the training split at the smallest size
    repeats: int = DEFAULT_REPEATS  # seeds per point (the run's seed, seed + 1, ...)
    min_steps: int = DEFAULT_MIN_STEPS  # every point trains at least this many steps

    def steps_per_point(self, train_samples: int, epochs: int, batch_size: int) -> int:
        """Steps every point trains for: ``epochs`` passes over the whole training split, at least ``min_steps``.

        The same at every size, so that the sizes differ only in the data seen.
        """
        return max(self.min_steps, epochs * -(-train_samples // batch_size))

    def validate(self) -> None:
        """Raise :class:`SettingsError` naming the first setting that cannot work."""
        if not self.depths:
            raise SettingsError("depths: give at least one, like 1,2,4.")
        for depth in self.depths:
            if not 1 <= depth <= MAX_HIDDEN_LAYERS:
                raise SettingsError(f"depth {depth}: use 1 to {MAX_HIDDEN_LAYERS} hidden layers.")
            if self.units < depth:
                raise SettingsError(
                    f"{self.units} units cannot make {depth} layers; use at least {depth} units."
                )
        if len(set(self.depths)) != len(self.depths):
            raise SettingsError(f"depths {format_depths(self.depths)}: each depth once.")
        if self.sizes < 2:
            raise SettingsError(f"sizes {self.sizes}: a curve needs at least 2 training sizes.")
        if not 0 < self.smallest < 1:
            raise SettingsError(f"smallest share {self.smallest}: it must lie between 0 and 1, like 0.05.")
        if self.min_steps < 0:
            raise SettingsError(f"min steps {self.min_steps}: use 0 or more.")
        if self.repeats < 1:
            raise SettingsError(
                f"repeats {self.repeats}: measure each point at least once (2 shows the spread)."
            )
        for hidden in self.hidden_sizes():
            check_hidden(hidden)

    def hidden_sizes(self) -> tuple[tuple[int, ...], ...]:
        """Hidden widths of each network: the units shared out evenly, ((96,), (48, 48), (24, 24, 24, 24))."""
        out = []
        for depth in self.depths:
            base, extra = divmod(self.units, depth)
            out.append(tuple(base + (i < extra) for i in range(depth)))
        return tuple(out)

    def shares(self) -> tuple[float, ...]:
        """Shares of the training split measured, geometric from ``smallest`` to 1."""
        n = self.sizes
        return tuple(self.smallest ** (1 - i / (n - 1)) for i in range(n))


def parse_depths(text: str) -> tuple[int, ...]:
    """Depths written "1,2,4" as a tuple; :class:`SettingsError` when malformed."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise SettingsError(f"depths {text!r}: write positive whole numbers like 1,2,4.")
    return tuple(int(p) for p in parts)


def format_depths(depths: Sequence[int]) -> str:
    """(1, 2, 4) written "1,2,4"."""
    return ",".join(str(d) for d in depths)


def network_name(hidden: Sequence[int]) -> str:
    """ "1×96" for equal layers, "34-33-33" otherwise."""
    if len(set(hidden)) == 1:
        return f"{len(hidden)}×{hidden[0]}"
    return "-".join(str(h) for h in hidden)


@dataclass(frozen=True)
class CurveNetwork:
    """One network compared: its hidden layers and size."""

    name: str
    """ "2×48": layers × units."""
    hidden: tuple[int, ...]
    """Hidden widths."""
    params: int
    """Trainable parameters."""
    description: str
    """ "MLP 64→48→48→10"."""


@dataclass(frozen=True)
class CurveSize:
    """One training size: a class-stratified share of the training split."""

    share: float
    """Share of the training split (1.0 for all of it)."""
    samples: int
    """Training samples at this size."""
    per_class: tuple[int, ...]
    """Samples of each class at this size (every class has at least one)."""

    def per_class_text(self) -> str:
        """ "18", or "17-19" when the classes differ."""
        low, high = min(self.per_class), max(self.per_class)
        return f"{low:,}" if low == high else f"{low:,}-{high:,}"


@dataclass(frozen=True)
class CurvePoint:
    """One network trained on one training size with one seed, and its accuracy."""

    network: str
    """The network's name ("2×48")."""
    params: int
    """Its trainable parameters."""
    size: int
    """Training samples."""
    share: float
    """Share of the training split."""
    seed: int
    """Seed of the initial weights, the subset drawn and the sample order."""
    train_accuracy: float
    """Accuracy on (up to ``eval_train_samples`` of) the samples it trained on."""
    test_accuracy: float
    """Accuracy on the whole test split."""
    seconds: float
    """Time it took to train and evaluate."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for ``--json``)."""
        return {
            "network": self.network,
            "params": self.params,
            "size": self.size,
            "share": round(self.share, 4),
            "seed": self.seed,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class CurveCell:
    """The points of one network at one size, over the seeds measured so far."""

    points: tuple[CurvePoint, ...]
    """One per seed measured."""

    @property
    def test(self) -> float:
        """Mean test accuracy."""
        return fmean(p.test_accuracy for p in self.points)

    @property
    def train(self) -> float:
        """Mean train accuracy."""
        return fmean(p.train_accuracy for p in self.points)

    @property
    def spread(self) -> float | None:
        """Largest minus smallest test accuracy between seeds; None with one seed."""
        if len(self.points) < 2:
            return None
        values = [p.test_accuracy for p in self.points]
        return max(values) - min(values)


@dataclass(frozen=True)
class CurveResult:
    """A sweep at one moment: what it measures, the points so far, and how far it has come."""

    dataset: str
    """The dataset's name."""
    networks: tuple[CurveNetwork, ...]
    """The networks compared, in the plan's order."""
    sizes: tuple[CurveSize, ...]
    """The training sizes, smallest first."""
    seeds: tuple[int, ...]
    """Seeds of the repeats."""
    points: tuple[CurvePoint, ...] = ()
    """Points measured so far, in the order they were."""
    state: CurveState = "running"
    """Where the sweep is."""
    fraction: float = 0.0
    """Share of the sweep done, 0..1 (every point takes the same steps, so the same share)."""
    current: str = ""
    """What is being measured now ("2×48 on 340 samples, seed 1"), empty once ended."""
    elapsed: float = 0.0
    """Seconds since the sweep began."""
    message: str = ""
    """Why it ended early (stopped, failed), for the user."""
    steps_per_point: int = 0
    """Optimizer steps each point trains for: the same budget at every size."""
    train_samples: int = 0
    """Samples in the whole training split."""
    test_samples: int = 0
    """Samples in the test split every point is scored on."""
    device: str = ""
    """Where it trains ("cpu", "cuda:0 (NVIDIA H100)")."""
    notes: tuple[str, ...] = field(default=())
    """Facts for the user: a held-out test split, a device fallback."""

    @property
    def total(self) -> int:
        """Points the whole sweep measures."""
        return len(self.networks) * len(self.sizes) * len(self.seeds)

    @property
    def ended(self) -> bool:
        """Whether the sweep is over (finished, stopped or failed)."""
        return self.state != "running"

    @property
    def eta(self) -> float | None:
        """Seconds left, judged from the time so far; None before any progress or once ended."""
        if self.ended or self.fraction <= 0:
            return None
        return self.elapsed * (1 - self.fraction) / self.fraction

    def cell(self, network: str, size: int) -> CurveCell | None:
        """The points of ``network`` at ``size`` samples, or None before the first."""
        points = tuple(p for p in self.points if p.network == network and p.size == size)
        return CurveCell(points) if points else None

    def series(self, network: str) -> tuple[list[int], list[float]]:
        """(sizes, mean test accuracies) of ``network`` at the sizes measured so far, smallest first."""
        xs, ys = [], []
        for s in self.sizes:
            cell = self.cell(network, s.samples)
            if cell is not None:
                xs.append(s.samples)
                ys.append(cell.test)
        return xs, ys

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for ``--json``): the plan, every point, how it ended."""
        return {
            "dataset": self.dataset,
            "state": self.state,
            "message": self.message,
            "networks": [
                {"network": n.name, "hidden": list(n.hidden), "params": n.params, "model": n.description}
                for n in self.networks
            ],
            "sizes": [
                {"size": s.samples, "share": round(s.share, 4), "per_class": list(s.per_class)}
                for s in self.sizes
            ],
            "seeds": list(self.seeds),
            "steps_per_point": self.steps_per_point,
            "train_samples": self.train_samples,
            "test_samples": self.test_samples,
            "device": self.device,
            "elapsed": round(self.elapsed, 3),
            "notes": list(self.notes),
            "points": [p.to_dict() for p in self.points],
        }
