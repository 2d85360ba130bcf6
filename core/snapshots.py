"""What a training run reports: frozen snapshots for the screen, evaluations, and bounded chart histories.

:class:`TrainingSnapshot` and :class:`Evaluation` are immutable, so they cross from the
training thread to the screen as values. :class:`DecimatedHistory` keeps a chart series
at a fixed number of points however long a run grows.

    python -c "from core.snapshots import DecimatedHistory; h = DecimatedHistory(10); \
[h.add(x, x * x) for x in range(100)]; print(len(h), h.columns()[0])"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.stats import class_name
from core.wording import duration, plural

RunState = Literal["preparing", "running", "paused", "finished", "stopped", "diverged", "failed"]
ENDED: frozenset[str] = frozenset({"finished", "stopped", "diverged", "failed"})
"""States after which a run does nothing more."""


@dataclass(frozen=True)
class EvalResult:
    """How a model does on one set of samples."""

    accuracy: float
    """Share of samples predicted right, 0..1."""
    loss: float
    """Mean cross-entropy."""
    per_class: tuple[float | None, ...]
    """Accuracy per true class; None for a class with no samples here."""
    confusion: tuple[tuple[int, ...], ...]
    """``confusion[true][predicted]`` sample counts."""
    samples: int
    """Samples evaluated."""

    def weakest_class(self) -> tuple[int, float] | None:
        """(class, accuracy) of the class the model gets wrong most often."""
        known = [(a, k) for k, a in enumerate(self.per_class) if a is not None]
        if not known:
            return None
        accuracy, k = min(known)
        return k, accuracy


@dataclass(frozen=True)
class Evaluation:
    """Train and test accuracy at one point of a run."""

    step: int
    """Optimizer steps done when it was measured."""
    epoch: float
    """Epochs done, fractional (1.5 = halfway through the second)."""
    train: EvalResult
    """In-sample: a fixed subset of the training split (``TrainConfig.eval_train_samples``). Scoring
    each batch as it trains would cost 5% of the step time on a small MLP; this costs about 1%."""
    test: EvalResult
    """Out-of-sample, the figure that counts: the whole test split at an epoch's end; within an epoch a
    fixed subset (``TrainConfig.eval_test_samples``), since a full pass twice an epoch would cost 10%."""
    elapsed: float = 0.0
    """Seconds into the run (pauses excluded)."""


@dataclass(frozen=True)
class TrainingSnapshot:
    """Everything the screen shows about a run at one moment; immutable so it can cross threads."""

    state: RunState
    """preparing, running, paused, finished, stopped, diverged or failed."""
    step: int
    """Optimizer steps done."""
    total_steps: int
    """Steps the whole run would take."""
    epoch: int
    """Current epoch, counted from 1."""
    epochs: int
    """Epochs asked for."""
    epoch_step: int
    """Steps done in the current epoch."""
    steps_per_epoch: int
    """Batches per epoch."""
    samples_seen: int
    """Training samples processed."""
    loss: float | None
    """Smoothed training loss (exponential moving average, bias-corrected)."""
    loss_steps: tuple[int, ...]
    """Steps of the kept loss history (decimated to at most ``history_points``)."""
    loss_values: tuple[float, ...]
    """Smoothed loss at those steps."""
    accuracy_epochs: tuple[float, ...]
    """Fractional epochs of the kept evaluations."""
    train_accuracy: tuple[float, ...]
    """In-sample accuracy (0..1) at those evaluations."""
    test_accuracy: tuple[float, ...]
    """Out-of-sample accuracy (0..1) at those evaluations."""
    latest: Evaluation | None
    """The last evaluation, with per-class accuracy and the confusion matrix."""
    samples_per_second: float
    """Recent training speed."""
    elapsed: float
    """Seconds spent running (pauses excluded)."""
    eta: float | None
    """Seconds left at the average speed so far, or None before it is known."""
    eval_seconds: float
    """Of ``elapsed``, the seconds spent evaluating."""
    gpu_memory: int | None
    """Bytes of GPU memory held, on CUDA; None on the CPU."""
    device: str
    """"cpu (2 threads)"."""
    message: str = ""
    """Why the run ended, for stopped, diverged and failed runs."""
    notes: tuple[str, ...] = ()
    """Facts to show once: device fallback, held-out test split, data path."""
    classes: tuple[str, ...] = ()
    """Class names; class ``k`` is ``classes[k]``."""
    data: str = ""
    """How the data are read, for the screen: "held on cpu, uint8 55.4 MB" or "DataLoader"."""

    def class_name(self, k: int) -> str:
        """Name of class ``k``."""
        return class_name(self.classes, k)

    @property
    def ended(self) -> bool:
        """Whether the run is over."""
        return self.state in ENDED

    @property
    def epoch_fraction(self) -> float:
        """Share of the current epoch done, 0..1."""
        return self.epoch_step / self.steps_per_epoch if self.steps_per_epoch else 0.0

    @property
    def progress(self) -> float:
        """Share of the whole run done, 0..1."""
        return self.step / self.total_steps if self.total_steps else 0.0

    def summary(self) -> str:
        """One paragraph for the end of a run: what happened and the accuracy it reached."""
        what = {
            "finished": f"finished {plural(self.epochs, 'epoch')} ({plural(self.step, 'step')})",
            "stopped": f"stopped at step {self.step:,} of {self.total_steps:,} (epoch {self.epoch} of {self.epochs})",
            "diverged": "diverged",  # the message names the step whose loss blew up
            "failed": f"failed after {plural(self.step, 'step')}",
        }.get(self.state, f"{self.state} at step {self.step:,}")
        text = f"{what} in {duration(self.elapsed)} on {self.device}"
        if self.latest is not None:
            text += (
                f": test accuracy {self.latest.test.accuracy:.1%} (train {self.latest.train.accuracy:.1%}"
                + (f", measured at step {self.latest.step:,}" if self.latest.step != self.step else "")
                + ")"
            )
            weakest = self.latest.test.weakest_class()
            if weakest is not None:
                text += f"; weakest class {self.class_name(weakest[0])} at {weakest[1]:.1%}"
        if self.message:
            text += f". {self.message}"
        return text


class DecimatedHistory:
    """A series that keeps at most ``limit`` evenly spaced points however long it grows.

    When full it drops every other point and keeps only every second new one, so memory
    and plotting cost stay fixed while the shape of the curve survives.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Most points kept."""
        self.stride = 1
        """Keep one point in ``stride``."""
        self._count = 0
        self._xs: list[float] = []
        self._ys: list[tuple[float, ...]] = []
        self._last: tuple[float, tuple[float, ...]] | None = None

    def add(self, x: float, *ys: float) -> None:
        """Append a point (x and one or more y values)."""
        if self._count % self.stride == 0:
            self._xs.append(x)
            self._ys.append(ys)
            if len(self._xs) > self.limit:
                self._xs, self._ys = self._xs[::2], self._ys[::2]
                self.stride *= 2
            self._last = None
        else:
            self._last = (x, ys)  # the newest point is always shown, even between strides
        self._count += 1

    def __len__(self) -> int:
        return len(self._xs) + (self._last is not None)

    def columns(self) -> tuple[tuple[float, ...], ...]:
        """(xs, ys1, ys2, …) as tuples, newest point included."""
        xs, ys = list(self._xs), list(self._ys)
        if self._last is not None:
            xs.append(self._last[0])
            ys.append(self._last[1])
        width = len(ys[0]) if ys else 0
        return (tuple(xs), *(tuple(y[i] for y in ys) for i in range(width)))
