"""Train a small classifier on an open dataset and report how it learns.

A :class:`TrainingRun` trains in the caller's thread. It checks a cancel event and a
pause event at every step and sends frozen :class:`~dataloupe.core.training.snapshots.TrainingSnapshot`
values through a callback, sampled (at most ``report_interval`` apart) so a fast loop
never floods the caller. When a split fits in memory it is held as one tensor on the
device and batched by an index permutation; otherwise a DataLoader reads it
(:mod:`dataloupe.core.training.data`). Both paths draw their sample order from the same seeded
sampler, so for one seed they see the same samples in the same batches. The settings
are a :class:`~dataloupe.core.settings.TrainConfig`; evaluation is :mod:`dataloupe.core.training.evaluation`.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
from dataloupe.core.training.run import TrainConfig, TrainingRun; \
r = TrainingRun(open_dataset(DatasetSpec('digits')), TrainConfig(epochs=5)); print(r.run().summary())"
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from dataloupe.core.batching.samplers import balanced_weights
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import DataloupeError
from dataloupe.core.history import DecimatedHistory
from dataloupe.core.memory import requested_bytes
from dataloupe.core.progress import Throttle
from dataloupe.core.settings import TrainConfig, suggested_lr
from dataloupe.core.threads import GIVE_WAY
from dataloupe.core.training.data_wait import DataWait
from dataloupe.core.training.device import free_memory, is_out_of_memory, memory_in_use
from dataloupe.core.training.evaluation import evaluate_model
from dataloupe.core.training.graphed_step import GraphedStep, capture_or_eager, make_optimizer
from dataloupe.core.training.models import ModelSpec
from dataloupe.core.training.setup import RunSetup, prepare_run
from dataloupe.core.training.snapshots import (
    ENDED,
    EvalResult,
    Evaluation,
    RunState,
    TrainingSnapshot,
)
from dataloupe.core.training.trained import TrainedModel
from dataloupe.core.wording import size as bytes_text

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle

__all__ = ["EvalResult", "Evaluation", "TrainConfig", "TrainingRun", "TrainingSnapshot"]
"""The run, and the values its callers see (defined in dataloupe.core.settings and dataloupe.core.training.snapshots)."""

CUDA_SYNC_STEPS = 32
"""On a GPU, losses are fetched this many steps at a time: a per-step ``.item()`` would stall the GPU."""
DIVERGED_LOSS = 1e4
"""A cross-entropy above this means the weights have blown up (lr=1e6 with Adam gives about 1e28,
finite but meaningless): the run stops as it does for a non-finite loss."""


ReportCallback = Callable[[TrainingSnapshot], None]
"""Receives snapshots; runs in the training thread, so it must be cheap and thread-safe."""


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
        self.data_wait = DataWait()
        """Each step's time split into waiting for the loader and computing."""
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
        self.loss_sync_steps = 1
        """Steps between two reads of the loss: 1 on the CPU, where ``.item()`` costs nothing; on a GPU
        :data:`CUDA_SYNC_STEPS`, with the last good weights kept at each read (see :meth:`_flush_losses`)."""
        self._good: list[torch.Tensor] | None = None
        self._good_step = 0

    # ------------------------------------------------------------------ setup
    def prepare(self) -> RunSetup:
        """Check the settings, choose the device, hold the data and build the model.

        Raises :class:`~dataloupe.core.errors.DataloupeError` for settings that cannot work; nothing has
        been trained then. :meth:`run` calls it when it has not been called.
        """
        if self._prepared is not None:
            return self._prepared
        setup, model = prepare_run(self.handle, self.config)
        self.config = setup.config  # with the settings the user's own code decides
        self.model = model
        self.spec = setup.spec
        self.pipeline = setup.pipeline
        self.loss_sync_steps = 1 if setup.choice.device.type == "cpu" else CUDA_SYNC_STEPS
        self._prepared = setup
        self._steps_per_epoch = setup.batches.steps_per_epoch
        return setup

    def epoch_order(self, generator: torch.Generator, length: int) -> torch.Tensor:
        """The sample order of one epoch; both data paths batch by it, so they see the same samples.

        It is the draw :func:`dataloupe.core.batching.samplers.make_sampler` would make with this generator (a
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

        Settings that cannot work raise :class:`~dataloupe.core.errors.DataloupeError` before training
        starts. Once training has started nothing is raised: a fault ends the run and its
        snapshot says why (state ``diverged`` or ``failed`` with a ``message``).
        """
        prep = self.prepare()
        cfg = self.config
        device = prep.choice.device
        model = self.model
        assert model is not None
        loss_fn = nn.functional.cross_entropy
        generator = torch.Generator().manual_seed(cfg.seed)
        optimizer, graphed = self._optimizer_and_step(model, loss_fn)
        # on the CPU .item() costs nothing; on a GPU it stalls, and a graph's loss comes after its update
        per_step_loss = self.loss_sync_steps <= 1 and graphed is None
        if not per_step_loss:  # losses are read late: keep weights to go back to
            self._good = [p.detach().clone() for p in model.parameters()]
        pending: list[torch.Tensor] = []
        eval_every = cfg.eval_every or max(1, math.ceil(self._steps_per_epoch / 2))
        self._state = "running"
        self._started = self._last_eval = time.perf_counter()
        message = ""
        batch = loss = None
        try:
            self._report(force=True)
            for epoch in range(1, cfg.epochs + 1):
                self._epoch, self._epoch_step = epoch, 0
                order = self.epoch_order(generator, len(prep.train))
                for batch in self.data_wait.timed(prep.batches.epoch(order, indices=graphed is not None)):
                    if self.pause.is_set():
                        self._wait_while_paused()
                    GIVE_WAY.wait()  # the user pressed a key: the screen answers first
                    if self.cancel.is_set():
                        raise _Stop()
                    if graphed is not None:
                        loss, size = graphed(batch), len(batch)
                    else:
                        xb, yb = batch
                        loss, size = loss_fn(model(xb), yb), len(yb)
                        if per_step_loss:
                            value = loss.item()
                            if not _usable(value):  # checked before the update: the weights stay usable
                                raise _Diverged(self._step + 1, value)
                        optimizer.zero_grad(set_to_none=True)
                        loss.backward()
                        optimizer.step()
                        xb = yb = None
                    self._step += 1
                    self._epoch_step += 1
                    self._samples += size
                    self.data_wait.stepped()
                    if per_step_loss:
                        self._record_loss(self._step, value)
                    else:
                        pending.append(loss.detach())
                        if len(pending) >= self.loss_sync_steps:
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
            kept = ""
            if self._good is not None:  # read late: go back to the last weights known to be good
                with torch.no_grad():
                    for p, good in zip(model.parameters(), self._good, strict=True):
                        p.copy_(good)
                kept = f" The model keeps its weights of step {self._good_step:,}, the last known good."
            message = (
                f"The loss became {what} at step {d.step:,} (non-finite or above {DIVERGED_LOSS:g}: the weights "
                f"have blown up), so training stopped there.{kept} The learning rate {cfg.lr:g} is probably "
                f"too high: try {suggested_lr(cfg.optimizer):g}."
            )
        except Exception as e:  # noqa: BLE001 - any fault ends the run with a message, never a traceback
            self._state = "failed"
            if is_out_of_memory(e):
                asked = requested_bytes(e)
                on_gpu = device.type == "cuda"
                message = (
                    f"{'The GPU' if on_gpu else 'The machine'} ran out of memory at step {self._step:,} "
                    f"(batch size {cfg.batch_size}{f'; it asked for {bytes_text(asked)} more' if asked else ''}); "
                    "the run's memory has been freed. Try a smaller batch size (--batch-size) or smaller "
                    f"hidden layers (--hidden){' or the CPU' if on_gpu else ''}."
                )
            elif isinstance(e, DataloupeError):  # a message already written for the user
                message = f"Training stopped at step {self._step:,}: {e}"
            else:
                message = f"Training failed at step {self._step:,}: {type(e).__name__}: {e}"
        # Outside the except blocks, so the traceback is gone; drop the last batch, the optimizer's state
        # and the graph too, so that nothing of this run holds GPU memory when _release empties the cache.
        batch = loss = optimizer = graphed = xb = yb = None
        self._good = None
        pending.clear()
        self._release(device, drop_data=device.type != "cpu" or self._state == "failed")
        final = self._snapshot(self._state, message)
        self.snapshot = final
        if self.on_report is not None:
            self.on_report(final)
        return final

    def _optimizer_and_step(
        self, model: nn.Module, loss_fn
    ) -> tuple[torch.optim.Optimizer, GraphedStep | None]:
        """The optimizer, and the captured step when the run is graphed (None: train eagerly).

        When capture fails the run trains eagerly with a fresh optimizer and says why in its notes.
        """
        cfg = self.config
        prep = self._prepared
        assert prep is not None
        if prep.graphed and prep.batches.held is not None:
            optimizer, step, why = capture_or_eager(
                model, loss_fn, prep.batches.held, cfg.batch_size, cfg.optimizer, cfg.lr, cfg.momentum
            )
            if step is None:
                prep.graphed = False
                prep.notes.append(why)
            return optimizer, step
        return make_optimizer(
            list(model.parameters()), cfg.optimizer, cfg.lr, cfg.momentum, capturable=False
        ), None

    def _release(self, device: torch.device, drop_data: bool) -> None:
        """Move the model to the CPU; with ``drop_data``, drop the held data and free cached GPU memory.

        GPU memory must be given back at once. Held CPU data goes with this object instead:
        unmapping 200 MB costs about 15 ms, which an epoch of the tutorial MLP would feel.
        """
        if drop_data and self._prepared is not None:
            self._prepared.batches.held = None
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
        """Record losses held on the device, in one transfer; then keep the weights as the last good ones.

        The losses are read up to :attr:`loss_sync_steps` late, after their updates. So the weights
        are checked to be finite in the same transfer, and kept (a copy on the device) when every
        loss was usable: a run that diverges goes back to them.
        """
        if not pending:
            return
        model = self.model
        assert model is not None
        values = torch.stack(pending).float()
        if check and self._good is not None:
            finite = torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all()
            values = torch.cat([values, finite.float().view(1)])
        read = values.tolist()
        first = self._step - len(pending) + 1
        pending.clear()
        for i, value in enumerate(read[: self._step - first + 1]):
            if check and not _usable(value):
                raise _Diverged(first + i, value)
            self._record_loss(first + i, value)
        if check and self._good is not None:
            if read[-1] != 1.0:  # the last update broke the weights although its loss was fine
                raise _Diverged(self._step, float("nan"))
            with torch.no_grad():
                for good, p in zip(self._good, model.parameters(), strict=True):
                    good.copy_(p)
            self._good_step = self._step

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
            data=prep.data,
            data_wait=self.data_wait.share(),
            held_out=prep.held_out,
            leakage=prep.leakage,
            device=prep.choice.name,
            message=message,
            notes=tuple(prep.notes),
            classes=self._classes,
        )

    # ------------------------------------------------------------------ results
    def trained(self) -> TrainedModel | None:
        """The model this run leaves, as one value; None before :meth:`prepare` built one.

        Call it once :meth:`run` has returned: its weights are the run's own final tensors, on the CPU.
        """
        if self.model is None or self.spec is None or self.pipeline is None:
            return None
        weights = {k: v.detach() for k, v in self.model.state_dict().items()}
        return TrainedModel(
            spec=self.spec,
            weights=weights,
            classes=self._classes,
            pipeline=self.pipeline,
            metrics=self.metrics(),
            dataset=self.handle.name,
        )

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
