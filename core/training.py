"""Train a small classifier on an open dataset and report how it learns.

A :class:`TrainingRun` trains in the caller's thread. It checks a cancel event and a
pause event at every step and sends frozen :class:`TrainingSnapshot` values through a
callback, sampled (at most ``report_interval`` apart) so a fast loop never floods the
caller. When a split fits in memory it is held as one tensor on the device, scaled
once, and batched by an index permutation; otherwise a DataLoader reads it. Both
paths draw their sample order from the same seeded sampler, so for one seed they see
the same samples in the same batches.

    python -c "from core.readers import open_dataset; from core.sources import DatasetSpec; \
from core.training import TrainConfig, TrainingRun; \
r = TrainingRun(open_dataset(DatasetSpec('digits')), TrainConfig(epochs=5)); print(r.run().summary())"
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import Subset

from core.datasets import Split, SplitData, collate_samples, format_shape, in_memory_split, stratified_split
from core.device import DeviceChoice, choose_device, free_memory, is_out_of_memory, memory_in_use
from core.errors import DataloupeError, SettingsError
from core.models import ARCHITECTURES, ModelSpec, format_hidden
from core.pipeline import MODES, Pipeline
from core.progress import Throttle
from core.samplers import balanced_weights
from core.stats import class_name
from core.wording import duration, plural

if TYPE_CHECKING:
    from core.datasets import DatasetHandle

RunState = Literal["preparing", "running", "paused", "finished", "stopped", "diverged", "failed"]
ENDED: frozenset[str] = frozenset({"finished", "stopped", "diverged", "failed"})
"""States after which a run does nothing more."""
OPTIMIZERS = ("adam", "sgd")
TRAIN_SAMPLERS = ("random", "balanced")
DATA_PATHS = ("auto", "memory", "loader")
CUDA_SYNC_STEPS = 32
"""On a GPU, losses are fetched this many steps at a time: a per-step ``.item()`` would stall the GPU."""
DIVERGED_LOSS = 1e4
"""A cross-entropy above this means the weights have blown up (lr=1e6 with Adam gives about 1e28,
finite but meaningless): the run stops as it does for a non-finite loss."""
EVAL_BATCH = 4096
"""Samples per forward pass while evaluating (no gradients, so large batches are cheap)."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run's settings; every field has a default a beginner can start from."""

    model: str = "mlp"  # "mlp" is the tutorials' network; "cnn" learns image features first
    hidden: tuple[int, ...] = (64, 64, 64)  # hidden widths: (64, 64, 64) deep and thin, (256,) wide
    optimizer: str = "adam"  # adam forgives a poorly chosen lr; sgd is the textbook baseline
    lr: float = 1e-3  # 1e-3 suits Adam; SGD wants about 0.01..0.1
    momentum: float = 0.9  # SGD only: the tutorials' usual value
    epochs: int = 5  # passes over the training split
    batch_size: int = 64  # the tutorials' batch size
    sampler: str = "random"  # "balanced" draws every class equally often, with replacement
    device: str = "auto"  # auto takes CUDA when it is there; cuda without a GPU falls back to the CPU
    seed: int = 0  # one seed fixes the initial weights, the sample order and a held-out test split
    eval_every: int = 0  # steps between evaluations within an epoch; 0: mid-epoch (and always at its end)
    eval_min_seconds: float = (
        1.0  # with eval_every 0, no mid-epoch evaluation sooner than this after the last
    )
    eval_train_samples: int = 2_000  # in-sample accuracy on a fixed training subset this big (about ±1%)
    eval_test_samples: int = 2_000  # within an epoch, test accuracy on a fixed subset; at its end, all of it
    transform: str = "normalized"  # pipeline mode the model sees: normalized (tutorials), scaled or raw
    test_fraction: float = 0.2  # share of train held out when a dataset has no test split
    data_path: str = "auto"  # auto: one tensor on the device when it fits, else a DataLoader; or force one
    memory_limit: int = 2 * 1024**3  # bytes a scaled split may take to be held on the device
    workers: int = 0  # DataLoader worker processes on the loader path (0 reads in the training thread)
    threads: int = 0  # CPU threads for torch during the run; 0 keeps torch's default (one per core)
    loss_smoothing: float = 0.9  # weight of the past in the loss chart's moving average
    report_interval: float = 0.1  # seconds between two snapshots sent to the caller
    history_points: int = 400  # points kept per chart series: plotting thousands would stall the screen

    def validate(self) -> None:
        """Raise :class:`SettingsError` naming the first setting that is out of range."""
        checks = [
            (self.model in ARCHITECTURES, f"model {self.model!r}: choose mlp or cnn."),
            (self.optimizer in OPTIMIZERS, f"optimizer {self.optimizer!r}: choose adam or sgd."),
            (
                math.isfinite(self.lr) and self.lr > 0,
                f"learning rate {self.lr!r}: it must be a positive number such as 0.001.",
            ),
            (self.epochs >= 1, f"epochs {self.epochs}: train for at least 1 epoch."),
            (self.batch_size >= 1, f"batch size {self.batch_size}: use at least 1 (64 is usual)."),
            (self.sampler in TRAIN_SAMPLERS, f"sampler {self.sampler!r}: choose random or balanced."),
            (self.device in ("auto", "cpu", "cuda"), f"device {self.device!r}: choose auto, cpu or cuda."),
            (self.eval_every >= 0, f"eval_every {self.eval_every}: use 0 (mid-epoch) or a number of steps."),
            (self.eval_min_seconds >= 0, f"eval_min_seconds {self.eval_min_seconds}: use 0 or more."),
            (self.transform in MODES, f"transform {self.transform!r}: choose one of {', '.join(MODES)}."),
            (0 < self.test_fraction < 1, f"test fraction {self.test_fraction}: it must lie between 0 and 1."),
            (self.data_path in DATA_PATHS, f"data path {self.data_path!r}: choose auto, memory or loader."),
            (0 <= self.loss_smoothing < 1, f"loss smoothing {self.loss_smoothing}: use 0..1 (exclusive)."),
            (self.threads >= 0, f"threads {self.threads}: use 0 (torch's default) or a positive number."),
            (self.history_points >= 10, f"history points {self.history_points}: keep at least 10."),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (for checkpoints and JSON output)."""
        d = asdict(self)
        d["hidden"] = format_hidden(self.hidden)
        return d


# ---------------------------------------------------------------------- snapshots
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
            "diverged": f"diverged after {plural(self.step, 'step')}",
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


# ---------------------------------------------------------------------- splits and evaluation
def _subset(data: SplitData, idx: np.ndarray, origin: str) -> SplitData:
    """The samples ``idx`` of a split, kept in memory when the split was."""
    if data.array is not None and data.targets is not None:
        return in_memory_split(data.array[torch.from_numpy(idx)], data.targets[idx], origin)
    targets = data.targets[idx] if data.targets is not None else None

    def read(i: int) -> tuple[torch.Tensor, int]:
        return data.read(int(idx[i]))

    return SplitData(length=len(idx), read=read, targets=targets, array=None, origin=origin)


def train_test_splits(
    handle: DatasetHandle, pipeline: Pipeline, seed: int = 0, test_fraction: float = 0.2
) -> tuple[Split, Split, str]:
    """The split to train on, the split to test on, and a note when the test split was held out here.

    A dataset with only one split (no test split, or only a test split) gives 20% of it,
    stratified by class when the labels are known, to testing; the same for the same seed.
    """
    if "train" in handle.splits and "test" in handle.splits:
        return handle.split("train", pipeline), handle.split("test", pipeline), ""
    only = handle.split_names[0]
    data = handle.splits[only]
    if data.length < 2:
        raise SettingsError(f"{handle.name} has {data.length} sample(s) in its only split; too few to train.")
    if data.targets is not None:
        train_idx, test_idx = stratified_split(data.targets, test_fraction, seed)
        how = "stratified by class"
    else:
        order = np.random.default_rng(seed).permutation(data.length)
        n_test = max(1, int(round(data.length * test_fraction)))
        train_idx, test_idx = np.sort(order[n_test:]), np.sort(order[:n_test])
        how = "at random (labels unknown)"
    note = (
        f"{handle.name} has no {'test' if only == 'train' else 'train'} split: training on "
        f"{len(train_idx):,} and testing on {len(test_idx):,} of its {data.length:,} {only} samples "
        f"({test_fraction:.0%} held out {how}, seed {seed})"
    )
    train = Split("train", _subset(data, train_idx, f"{only} minus held-out"), handle.classes, pipeline)
    test = Split("test", _subset(data, test_idx, f"held out of {only}"), handle.classes, pipeline)
    return train, test, note


def evaluate_model(
    model: nn.Module,
    data: Split | tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    device: torch.device | str = "cpu",
    cancel: threading.Event | None = None,
    batch_size: int = EVAL_BATCH,
) -> EvalResult:
    """Accuracy, loss, per-class accuracy and confusion matrix of ``model`` on a split or ``(X, y)`` tensors.

    Runs under ``torch.no_grad()`` with the model in ``eval()`` mode, and puts it back in the
    mode it was in.
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    total = 0
    try:
        with torch.no_grad():
            for xb, yb in _eval_batches(data, device, batch_size):
                if cancel is not None and cancel.is_set():
                    break
                logits = model(xb)
                loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").double()
                pred = logits.argmax(dim=1)
                confusion += torch.bincount(yb * num_classes + pred, minlength=num_classes * num_classes)
                total += len(yb)
    finally:
        model.train(was_training)
    matrix = confusion.view(num_classes, num_classes).cpu()  # one transfer per evaluation
    rows = matrix.sum(dim=1)
    correct = matrix.diagonal()
    per_class = tuple(
        (int(c) / int(n)) if int(n) else None for c, n in zip(correct.tolist(), rows.tolist(), strict=True)
    )
    return EvalResult(
        accuracy=int(correct.sum()) / total if total else 0.0,
        loss=float(loss_sum) / total if total else float("nan"),
        per_class=per_class,
        confusion=tuple(tuple(r) for r in matrix.tolist()),
        samples=total,
    )


def evaluate_on_test(
    model: nn.Module,
    spec: ModelSpec,
    pipeline: Pipeline,
    handle: DatasetHandle,
    device: str = "auto",
    cancel: threading.Event | None = None,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> tuple[EvalResult, list[str]]:
    """A trained model's accuracy on ``handle``'s test split (held out as training did when there is none).

    The samples go through ``pipeline``, the transform the model was trained with. The
    dataset must give ``spec``'s input shape and class count, or :class:`SettingsError` says
    which differs. Returns the result and notes for the user. The model is left on the CPU.
    """
    notes: list[str] = []
    if pipeline.sample_type != handle.pipeline.sample_type:
        raise SettingsError(
            f"the model was trained on {pipeline.sample_type} data; {handle.name} is {handle.pipeline.sample_type} data."
        )
    _, test, held_out = train_test_splits(handle, pipeline, seed, test_fraction)
    if held_out:
        notes.append(held_out)
    shape = tuple(int(s) for s in test[0][0].shape)
    differ = []
    if shape != spec.input_shape:
        differ.append(
            f"its samples are {format_shape(shape)}, the model takes {format_shape(spec.input_shape)}"
        )
    if len(handle.classes) != spec.num_classes:
        differ.append(f"it has {len(handle.classes)} classes, the model {spec.num_classes}")
    if differ:
        raise SettingsError(f"this model does not fit {handle.name}: {'; '.join(differ)}.")
    choice = choose_device(device)
    if choice.notice:
        notes.append(choice.notice)
    model.to(choice.device)
    try:
        tensors = test.tensors(choice.device)
        result = evaluate_model(
            model, tensors if tensors is not None else test, spec.num_classes, choice.device, cancel
        )
    finally:
        model.to("cpu")
        free_memory(choice.device)
    return result, notes


def _eval_batches(data, device: torch.device, batch_size: int):
    """Batches of ``(X, y)`` on ``device`` from held tensors or a split read by a DataLoader."""
    if isinstance(data, tuple):
        x, y = data
        for start in range(0, len(y), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(data, batch_size=min(batch_size, 512), shuffle=False, collate_fn=collate_samples)
    for xb, yb in loader:
        yield xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)


# ---------------------------------------------------------------------- the run
ReportCallback = Callable[[TrainingSnapshot], None]
"""Receives snapshots; runs in the training thread, so it must be cheap and thread-safe."""


@dataclass
class _Batches:
    """How a run reads its training samples: held tensors (fast path) or a DataLoader."""

    split: Split
    """The training split."""
    tensors: tuple[torch.Tensor, torch.Tensor] | None
    """The whole split on the device, scaled once; None on the DataLoader path."""
    device: torch.device
    """Where batches go."""
    batch_size: int
    """Samples per batch."""
    workers: int = 0
    """DataLoader worker processes."""

    def epoch(self, order: torch.Tensor):
        """Batches ``(X, y)`` on the device, in the sample order ``order``."""
        if self.tensors is not None:
            x, y = self.tensors
            order = order.to(x.device)
            for idx in order.split(self.batch_size):
                # index_select copies rows in one call: 2-3× faster than x[idx] for a batch of 64 images
                yield x.index_select(0, idx), y.index_select(0, idx)
            return
        from torch.utils.data import DataLoader

        loader = DataLoader(
            self.split,
            batch_size=self.batch_size,
            sampler=order.tolist(),
            num_workers=self.workers,
            collate_fn=collate_samples,
            pin_memory=self.device.type == "cuda",
        )
        for xb, yb in loader:
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)


@dataclass
class RunSetup:
    """What :meth:`TrainingRun.prepare` builds once: device, splits, data path and model spec."""

    choice: DeviceChoice
    """The device and any notice about it."""
    pipeline: Pipeline
    """The transform the model sees."""
    train: Split
    """Samples trained on."""
    test: Split
    """Samples tested on (held out of train when the dataset has no test split)."""
    batches: _Batches
    """How training batches are read."""
    test_data: Split | tuple[torch.Tensor, torch.Tensor]
    """The test split, as held tensors on the fast path."""
    test_probe_data: Split | torch.utils.data.Dataset | tuple[torch.Tensor, torch.Tensor]
    """The fixed test subset scored within an epoch."""
    train_eval_data: Split | torch.utils.data.Dataset | tuple[torch.Tensor, torch.Tensor]
    """The fixed training subset scored for in-sample accuracy."""
    targets: np.ndarray | None
    """Training labels (for the class-balanced sampler)."""
    spec: ModelSpec
    """The network."""
    in_memory: bool = False
    """Whether the fast path (held tensors) is used."""
    notes: list[str] = field(default_factory=list)
    """Facts for the user: device fallback, held-out split, data path."""


class _Diverged(Exception):  # noqa: N818 - an outcome carried out of the loop, not a fault
    """The loss stopped being usable (not finite, or above :data:`DIVERGED_LOSS`) at ``step``."""

    def __init__(self, step: int, value: float) -> None:
        super().__init__(step, value)
        self.step = step
        self.value = value


class TrainingRun:
    """Trains one model on one dataset in the caller's thread; see the module docstring."""

    def __init__(
        self,
        handle: DatasetHandle,
        config: TrainConfig | None = None,
        on_report: ReportCallback | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        on_evaluation: Callable[[Evaluation], None] | None = None,
    ) -> None:
        self.handle = handle
        """The dataset trained on."""
        self.config = config or TrainConfig()
        """The settings."""
        self.on_report = on_report
        """Receives sampled snapshots (at most one per ``report_interval``, plus state changes)."""
        self.on_evaluation = on_evaluation
        """Receives every evaluation, unsampled (the command line prints one line each)."""
        self.cancel = cancel or threading.Event()
        """Set it to stop the run at the next step."""
        self.pause = pause or threading.Event()
        """While it is set the run waits between two steps."""
        self.model: nn.Module | None = None
        """The network, after :meth:`prepare`; on the CPU once the run has ended."""
        self.spec: ModelSpec | None = None
        """How to rebuild the network."""
        self.pipeline: Pipeline | None = None
        """The transform the model was trained through (stored in checkpoints)."""
        self.snapshot: TrainingSnapshot | None = None
        """The latest snapshot (the final one once :meth:`run` returns)."""
        self._prepared: RunSetup | None = None
        self._classes = tuple(handle.classes)
        self._throttle = Throttle(self.config.report_interval)
        self._loss_history = DecimatedHistory(self.config.history_points)
        self._acc_history = DecimatedHistory(self.config.history_points)
        self._speed: deque[tuple[float, int]] = deque(maxlen=20)
        self._ema = 0.0
        self._loss_count = 0
        self._latest: Evaluation | None = None
        self._state: RunState = "preparing"
        self._step = 0
        self._epoch = 1
        self._epoch_step = 0
        self._samples = 0
        self._started = 0.0
        self._paused_total = 0.0
        self._eval_seconds = 0.0
        self._steps_per_epoch = 0
        self._last_eval = 0.0

    # ------------------------------------------------------------------ setup
    def prepare(self) -> RunSetup:
        """Check the settings, choose the device, hold the data and build the model.

        Raises :class:`~core.errors.DataloupeError` for settings that cannot work; nothing has
        been trained then. :meth:`run` calls it when it has not been called.
        """
        if self._prepared is not None:
            return self._prepared
        cfg = self.config
        cfg.validate()
        choice = choose_device(cfg.device)
        if choice.device.type == "cpu" and cfg.threads:
            choice = replace(choice, name=f"cpu ({cfg.threads} thread{'s' if cfg.threads > 1 else ''})")
        device = choice.device
        notes = [choice.notice] if choice.notice else []
        pipeline = self.handle.pipeline.with_(mode=cfg.transform, augment=False)
        train, test, held_out = train_test_splits(self.handle, pipeline, cfg.seed, cfg.test_fraction)
        if held_out:
            notes.append(held_out)
        if len(train) == 0 or len(test) == 0:
            raise SettingsError(f"{self.handle.name}: the train or test split is empty; nothing to train on.")
        targets = train.targets
        if cfg.sampler == "balanced" and targets is None:
            raise SettingsError(
                f"the class-balanced sampler needs every training label, and {self.handle.name} does not "
                "list them without reading each sample; use the random sampler."
            )
        train_tensors = test_tensors = None
        if self._fits_in_memory(train, test):
            train_tensors = train.tensors(device)
            test_tensors = test.tensors(device)
        if cfg.data_path == "memory" and (train_tensors is None or test_tensors is None):
            raise SettingsError(
                f"{self.handle.name} is not held in memory, or does not fit in {cfg.memory_limit:,} bytes; "
                "use the DataLoader path."
            )
        if train_tensors is not None and test_tensors is not None:
            notes.append(f"data held in memory on {device.type}, scaled once; batches by index permutation")
            test_data: Split | tuple[torch.Tensor, torch.Tensor] = test_tensors
            train_eval = _rows(train_tensors, self._subset_indices(len(train), cfg.eval_train_samples, 1))
            test_probe = _rows(test_tensors, self._subset_indices(len(test), cfg.eval_test_samples, 2))
        else:
            train_tensors = None
            notes.append("data read through a DataLoader (not held in memory)")
            test_data = test
            train_eval = Subset(train, self._subset_indices(len(train), cfg.eval_train_samples, 1).tolist())
            test_probe = Subset(test, self._subset_indices(len(test), cfg.eval_test_samples, 2).tolist())
        input_shape = tuple(
            int(s) for s in (train_tensors[0].shape[1:] if train_tensors else train[0][0].shape)
        )
        spec = ModelSpec(cfg.model, tuple(cfg.hidden), input_shape, len(self.handle.classes))  # type: ignore[arg-type]
        if targets is not None and len(targets) and int(targets.max()) >= spec.num_classes:
            raise SettingsError(
                f"label {int(targets.max())} is outside the {spec.num_classes} classes of {self.handle.name}."
            )
        # seed only the model's initial weights, leaving the caller's global RNG as it was
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            model = spec.build()
        self.model = model.to(device)
        self.spec = spec
        self.pipeline = pipeline
        self._prepared = RunSetup(
            choice=choice,
            pipeline=pipeline,
            train=train,
            test=test,
            batches=_Batches(train, train_tensors, device, cfg.batch_size, cfg.workers),
            test_data=test_data,
            test_probe_data=test_probe,
            train_eval_data=train_eval,
            targets=targets,
            spec=spec,
            in_memory=train_tensors is not None,
            notes=notes,
        )
        self._steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
        return self._prepared

    def _fits_in_memory(self, train: Split, test: Split) -> bool:
        if self.config.data_path == "loader":
            return False
        if train.array is None or test.array is None or train.targets is None or test.targets is None:
            return False
        scaled_bytes = 4 * (train.array.numel() + test.array.numel())  # float32 after scaling
        return scaled_bytes <= self.config.memory_limit

    def _subset_indices(self, n: int, k: int, salt: int) -> np.ndarray:
        """A fixed subset of ``k`` of ``n`` samples (all of them when ``k`` is 0 or at least ``n``)."""
        if k <= 0 or k >= n:
            return np.arange(n)
        return np.sort(np.random.default_rng(self.config.seed + salt).choice(n, size=k, replace=False))

    def epoch_order(self, generator: torch.Generator, length: int) -> torch.Tensor:
        """The sample order of one epoch; both data paths batch by it, so they see the same samples.

        It is the draw :func:`core.samplers.make_sampler` would make with this generator (a
        permutation, or class-balanced draws with replacement), taken as one tensor rather than
        60,000 Python ints (``tests/test_training.py`` checks that they agree).
        """
        if self.config.sampler == "balanced":
            weights = balanced_weights(self._prepared.targets)
            return torch.multinomial(weights, length, replacement=True, generator=generator)
        return torch.randperm(length, generator=generator)

    # ------------------------------------------------------------------ the loop
    def run(self) -> TrainingSnapshot:
        """Train until done, stopped, diverged or failed; return the final snapshot.

        Settings that cannot work raise :class:`~core.errors.DataloupeError` before training
        starts. Once training has started nothing is raised: a fault ends the run and its
        snapshot says why (state ``diverged`` or ``failed`` with a ``message``).
        """
        prep = self.prepare()
        cfg = self.config
        device = prep.choice.device
        model = self.model
        assert model is not None
        optimizer = self._optimizer(model)
        loss_fn = nn.functional.cross_entropy
        generator = torch.Generator().manual_seed(cfg.seed)
        per_step_loss = device.type == "cpu"  # on the CPU .item() costs nothing; on a GPU it stalls
        pending: list[torch.Tensor] = []
        eval_every = cfg.eval_every or max(1, math.ceil(self._steps_per_epoch / 2))
        self._state = "running"
        self._started = self._last_eval = time.perf_counter()
        message = ""
        threads_before = torch.get_num_threads()
        if cfg.threads and cfg.threads != threads_before:
            torch.set_num_threads(cfg.threads)
        xb = yb = logits = loss = None
        try:
            self._report(force=True)
            for epoch in range(1, cfg.epochs + 1):
                self._epoch, self._epoch_step = epoch, 0
                order = self.epoch_order(generator, len(prep.train))
                for xb, yb in prep.batches.epoch(order):
                    if self.pause.is_set():
                        self._wait_while_paused()
                    if self.cancel.is_set():
                        raise _Stop()
                    logits = model(xb)
                    loss = loss_fn(logits, yb)
                    if per_step_loss:
                        value = loss.item()
                        if not _usable(value):  # checked before the update: the weights stay usable
                            raise _Diverged(self._step + 1, value)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    self._step += 1
                    self._epoch_step += 1
                    self._samples += len(yb)
                    if per_step_loss:
                        self._record_loss(self._step, value)
                    else:
                        pending.append(loss.detach())
                        if len(pending) >= CUDA_SYNC_STEPS:
                            self._flush_losses(pending)
                    end_of_epoch = self._epoch_step == self._steps_per_epoch
                    if (
                        not end_of_epoch
                        and self._epoch_step % eval_every == 0
                        # a quick epoch needs no points in between: the chart redraws 4 times a second anyway
                        and (cfg.eval_every or time.perf_counter() - self._last_eval >= cfg.eval_min_seconds)
                    ):
                        self._flush_losses(pending)
                        self._evaluate(full=False)
                    elif self._throttle.ready():
                        self._flush_losses(pending)
                        self._report()
                self._flush_losses(pending)
                self._evaluate(full=True)
            self._state = "finished"
        except _Stop:
            self._flush_losses(pending, check=False)
            self._state = "stopped"
            message = (
                f"Stopped by request at step {self._step:,}, "
                f"{self._epoch_step:,} of {self._steps_per_epoch:,} steps into epoch {self._epoch}."
            )
        except _Diverged as d:
            self._state = "diverged"
            what = "not a number" if math.isnan(d.value) else f"{d.value:.3g}"
            message = (
                f"The loss became {what} at step {d.step:,} (non-finite or above {DIVERGED_LOSS:g}: the weights "
                f"have blown up), so training stopped there. The learning rate {cfg.lr:g} is probably too "
                f"high: try {_suggested_lr(cfg.optimizer):g}."
            )
        except Exception as e:  # noqa: BLE001 - any fault ends the run with a message, never a traceback
            self._state = "failed"
            if is_out_of_memory(e):
                message = (
                    f"The GPU ran out of memory at step {self._step:,} (batch size {cfg.batch_size}); "
                    "the run's memory has been freed. Try a smaller batch size or the CPU."
                )
            elif isinstance(e, DataloupeError):  # a message already written for the user
                message = f"Training stopped at step {self._step:,}: {e}"
            else:
                message = f"Training failed at step {self._step:,}: {type(e).__name__}: {e}"
        # Outside the except blocks, so the traceback is gone; drop the last batch and the optimizer's
        # state too, so that nothing of this run holds GPU memory when _release empties the cache.
        if torch.get_num_threads() != threads_before:
            torch.set_num_threads(threads_before)
        xb = yb = logits = loss = optimizer = None
        pending.clear()
        self._release(device, drop_data=device.type != "cpu" or self._state == "failed")
        final = self._snapshot(self._state, message)
        self.snapshot = final
        if self.on_report is not None:
            self.on_report(final)
        return final

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        cfg = self.config
        params = list(model.parameters())
        # The fused kernels update every parameter in one call: about a quarter faster per step for
        # small models, where launching a kernel per tensor costs as much as the arithmetic.
        for fused in (True, False):
            try:
                if cfg.optimizer == "sgd":
                    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, fused=fused or None)
                return torch.optim.Adam(params, lr=cfg.lr, fused=fused or None)
            except (RuntimeError, TypeError):
                continue  # this build or device has no fused kernel
        raise AssertionError("unreachable: the unfused optimizer always builds")

    def _release(self, device: torch.device, drop_data: bool) -> None:
        """Move the model to the CPU; with ``drop_data``, drop the held data and free cached GPU memory.

        GPU memory must be given back at once. Held CPU data goes with this object instead:
        unmapping 200 MB costs about 15 ms, which an epoch of the tutorial MLP would feel.
        """
        if drop_data and self._prepared is not None:
            self._prepared.batches.tensors = None
            self._prepared.test_data = self._prepared.test_probe_data = self._prepared.test
            self._prepared.train_eval_data = self._prepared.train
        if self.model is not None:
            self.model.to("cpu")
            self.model.eval()
        free_memory(device)

    def _wait_while_paused(self) -> None:
        paused_at = time.perf_counter()
        self._state = "paused"
        self._report(force=True)
        while self.pause.is_set() and not self.cancel.is_set():
            self.cancel.wait(0.05)  # wakes at once on cancel; resume is noticed within 50 ms
        self._paused_total += time.perf_counter() - paused_at
        self._state = "running"
        self._report(force=True)

    # ------------------------------------------------------------------ bookkeeping
    def _record_loss(self, step: int, value: float) -> None:
        beta = self.config.loss_smoothing
        self._loss_count += 1
        self._ema = beta * self._ema + (1 - beta) * value
        smoothed = self._ema / (1 - beta**self._loss_count) if beta else value
        self._loss_history.add(step, smoothed)

    def _flush_losses(self, pending: list[torch.Tensor], check: bool = True) -> None:
        """Record losses held on the GPU, in one transfer."""
        if not pending:
            return
        values = torch.stack(pending).tolist()
        first = self._step - len(pending) + 1
        pending.clear()
        for i, value in enumerate(values):
            if check and not _usable(value):
                raise _Diverged(first + i, value)
            self._record_loss(first + i, value)

    def _evaluate(self, full: bool) -> None:
        prep = self._prepared
        assert prep is not None and self.model is not None
        t0 = time.perf_counter()
        classes = prep.spec.num_classes
        device = prep.choice.device
        test_data = prep.test_data if full else prep.test_probe_data
        test = evaluate_model(self.model, test_data, classes, device, self.cancel)
        train = evaluate_model(self.model, prep.train_eval_data, classes, device, self.cancel)
        if self.cancel.is_set():  # cut short: a partial evaluation would mislead
            raise _Stop()
        self._last_eval = time.perf_counter()
        self._eval_seconds += self._last_eval - t0
        epochs_done = (self._epoch - 1) + self._epoch_step / max(1, self._steps_per_epoch)
        elapsed = time.perf_counter() - self._started - self._paused_total
        evaluation = Evaluation(self._step, epochs_done, train, test, elapsed)
        self._latest = evaluation
        self._acc_history.add(epochs_done, train.accuracy, test.accuracy)
        if self.on_evaluation is not None:
            self.on_evaluation(evaluation)
        if self._throttle.ready():
            self._report()

    def _report(self, force: bool = False) -> None:
        if self.on_report is None:
            return
        if force:
            self._throttle.ready(final=True)
        self.snapshot = self._snapshot(self._state)
        self.on_report(self.snapshot)

    def _snapshot(self, state: RunState, message: str = "") -> TrainingSnapshot:
        prep = self._prepared
        assert prep is not None
        now = time.perf_counter()
        elapsed = (now - self._started - self._paused_total) if self._started else 0.0
        self._speed.append((now, self._samples))
        t_old, s_old = self._speed[0]
        speed = (self._samples - s_old) / (now - t_old) if now > t_old else 0.0
        total_steps = self._steps_per_epoch * self.config.epochs
        eta = None
        if self._step and state not in ENDED:
            eta = (total_steps - self._step) * (elapsed / self._step)
        loss = self._loss_history.columns()
        loss_steps, loss_values = loss if len(loss) == 2 else ((), ())
        acc = self._acc_history.columns()
        acc_epochs, train_acc, test_acc = acc if len(acc) == 3 else ((), (), ())
        return TrainingSnapshot(
            state=state,
            step=self._step,
            total_steps=total_steps,
            epoch=self._epoch,
            epochs=self.config.epochs,
            epoch_step=self._epoch_step,
            steps_per_epoch=self._steps_per_epoch,
            samples_seen=self._samples,
            loss=loss_values[-1] if loss_values else None,
            loss_steps=tuple(int(s) for s in loss_steps),
            loss_values=tuple(loss_values),
            accuracy_epochs=tuple(acc_epochs),
            train_accuracy=tuple(train_acc),
            test_accuracy=tuple(test_acc),
            latest=self._latest,
            samples_per_second=speed,
            elapsed=elapsed,
            eta=eta,
            eval_seconds=self._eval_seconds,
            gpu_memory=memory_in_use(prep.choice.device),
            device=prep.choice.name,
            message=message,
            notes=tuple(prep.notes),
            classes=self._classes,
        )

    # ------------------------------------------------------------------ results
    def metrics(self) -> dict[str, Any]:
        """What the run reached, as plain values (stored in checkpoints)."""
        snap = self.snapshot
        latest = self._latest
        out: dict[str, Any] = {
            "state": snap.state if snap else self._state,
            "step": self._step,
            "epochs_done": round((self._epoch - 1) + self._epoch_step / max(1, self._steps_per_epoch), 4),
            "config": self.config.to_dict(),
            "dataset": self.handle.name,
        }
        if latest is not None:
            out.update(
                test_accuracy=latest.test.accuracy,
                train_accuracy=latest.train.accuracy,
                test_loss=latest.test.loss,
                per_class_accuracy=list(latest.test.per_class),
            )
        return out


class _Stop(Exception):  # noqa: N818 - an outcome carried out of the loop, not a fault
    """The cancel event was set."""


def _usable(loss: float) -> bool:
    """A loss training can go on from: finite and below :data:`DIVERGED_LOSS`."""
    return math.isfinite(loss) and loss < DIVERGED_LOSS


def _rows(tensors: tuple[torch.Tensor, torch.Tensor], idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``idx`` of held ``(X, y)`` tensors, copied once."""
    x, y = tensors
    at = torch.from_numpy(idx).to(x.device)
    return x.index_select(0, at), y.index_select(0, at)


def _suggested_lr(optimizer: str) -> float:
    return 0.01 if optimizer == "sgd" else 1e-3


def with_changes(config: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``config`` with some fields changed (the form and the command line build configs so)."""
    try:
        return replace(config, **changes)
    except TypeError as e:
        raise SettingsError(f"unknown training setting: {e}") from None
