"""What a training run reports: frozen snapshots for the screen, evaluations, and bounded chart histories.

:class:`TrainingSnapshot` and :class:`Evaluation` are immutable, so they cross from the
training thread to the screen as values.

    python -c "from dataloupe.core.training.snapshots import EvalResult; print(EvalResult.__doc__)"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dataloupe.core.stats.classes import class_name
from dataloupe.core.wording import duration, plural

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
    data_wait: float | None = None
    """Share of the recent steps' time spent waiting for the loader, 0..1 (None for the first few steps)."""
    leakage: str = ""
    """The split check's finding when test samples are copies of training samples: the test accuracy
    is measured partly on samples trained on ("" when none are)."""
    held_out: str = ""
    """When the dataset has no test split, what the test accuracy is measured on: "49 of 244 samples
    held out for testing"; "" when it has one."""

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
            on = f" on {self.held_out}" if self.held_out else ""
            if self.leakage:
                on += f" (inflated: {self.leakage})"
            text += (
                f": test accuracy {self.latest.test.accuracy:.1%}{on} (train {self.latest.train.accuracy:.1%}"
                + (f", measured at step {self.latest.step:,}" if self.latest.step != self.step else "")
                + ")"
            )
            weakest = self.latest.test.weakest_class()
            if weakest is not None:
                text += f"; weakest class {self.class_name(weakest[0])} at {weakest[1]:.1%}"
        if self.message:
            text += f". {self.message}"
        return text
