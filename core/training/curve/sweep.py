"""Train the same small model many times on growing class-stratified shares of the training split.

:func:`run_curve` holds both splits on the device once (as stored: uint8 stays uint8), then
trains every network of the :class:`~dataloupe.core.training.curve.points.CurvePlan` on every
training size with every seed. A point never copies the split: its subset is a tensor of
indices into the held one, and batches are gathered from it by index as the trainer gathers
them (:class:`~dataloupe.core.training.data.TrainBatches`; on a GPU the step is replayed as a
captured graph, :class:`~dataloupe.core.training.graphed_step.GraphedStep`).

Every point trains for the same number of steps, ``epochs`` passes over the whole training
split and at least the plan's ``min_steps``, so the sizes differ only in the data seen: a 5%
subset is seen twenty times as often, not trained twenty times less. Subsets are nested (each size holds the smaller ones of its
seed), and each class keeps its share, at least one sample. Seeds go outermost, so a stopped
sweep already has every curve once; the points measured survive a stop.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \\
from dataloupe.core.settings import TrainConfig; from dataloupe.core.training.curve import CurvePlan, run_curve, judge; \\
r = run_curve(open_dataset(DatasetSpec('digits')), TrainConfig(epochs=2), CurvePlan(repeats=1)); print(judge(r).text)"
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from dataloupe.core.errors import Cancelled, DataloupeError, SettingsError
from dataloupe.core.progress import Throttle
from dataloupe.core.settings import TrainConfig
from dataloupe.core.threads import GIVE_WAY
from dataloupe.core.training.curve.points import (
    CurveNetwork,
    CurvePlan,
    CurvePoint,
    CurveResult,
    CurveSize,
    network_name,
)
from dataloupe.core.training.data import HeldSplit
from dataloupe.core.training.device import free_memory, is_out_of_memory
from dataloupe.core.training.evaluation import EVAL_BATCH, evaluate_model
from dataloupe.core.training.graphed_step import capture_or_eager, graph_plan, make_optimizer
from dataloupe.core.training.models import ModelSpec
from dataloupe.core.training.setup import RunSetup, prepare_run

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle

CurveCallback = Callable[[CurveResult], None]
"""Receives the sweep as it stands; runs in the sweep's thread, so it must be cheap and thread-safe."""


def class_counts_at(targets: np.ndarray, share: float, num_classes: int) -> tuple[int, ...]:
    """Samples of each class in a stratified ``share`` of ``targets``: its share, at least one (all at 1)."""
    counts = np.bincount(targets, minlength=num_classes)
    return tuple(int(min(n, max(1, round(share * n)))) if n else 0 for n in counts)


def stratified_subsets(targets: np.ndarray, per_class: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    """Indices of one nested subset per entry of ``per_class`` (samples of each class), drawn with ``seed``.

    Each class's samples are shuffled once and every subset takes a prefix of them, so a larger
    subset holds every smaller one of the same seed.
    """
    rng = np.random.default_rng(seed)
    orders = []
    for label in range(len(per_class[0])):
        idx = np.flatnonzero(targets == label)
        rng.shuffle(idx)
        orders.append(idx)
    return [
        np.sort(np.concatenate([order[:k] for order, k in zip(orders, counts, strict=True)]))
        for counts in per_class
    ]


class CurveSweep:
    """One sweep: the plan, the data held once, and the points measured; :meth:`run` measures them."""

    def __init__(
        self,
        handle: DatasetHandle,
        config: TrainConfig,
        plan: CurvePlan,
        *,
        cancel: threading.Event | None = None,
        on_progress: CurveCallback | None = None,
    ) -> None:
        plan.validate()
        config.validate()
        if config.sampler != "random":
            raise SettingsError(
                "a learning curve draws each subset stratified by class and trains it in random order; "
                "use the random sampler."
            )
        self.handle = handle
        """The dataset."""
        self.config = config
        """Training settings of every point (its hidden sizes are the plan's)."""
        self.plan = plan
        """Networks, sizes and repeats."""
        self.cancel = cancel or threading.Event()
        """Set it to stop at the next step; the points measured stay."""
        self.on_progress = on_progress
        """Receives the sweep after every point and a few times a second within one."""
        self._throttle = Throttle(config.report_interval)
        self.setup: RunSetup | None = None
        """Device, held splits and spec, after :meth:`prepare`."""
        self.result: CurveResult | None = None
        """The sweep as it stands (the final result once :meth:`run` returns)."""

    def prepare(self) -> CurveResult:
        """Hold the data on the device and lay out the networks and sizes; nothing is trained yet.

        Raises :class:`SettingsError` for settings or data the sweep cannot use.
        """
        if self.result is not None:
            return self.result
        hidden = self.plan.hidden_sizes()
        setup, _ = prepare_run(self.handle, replace(self.config, hidden=hidden[0], data_path="auto"))
        held = setup.batches.held
        if held is None or not isinstance(setup.test_data, HeldSplit) or setup.targets is None:
            raise SettingsError(
                f"a learning curve trains {self.plan.sizes * len(hidden) * self.plan.repeats} models and needs "
                f"{self.handle.name} held in memory, which it is not (image folders and streams are read "
                f"sample by sample; the limit is {self.config.memory_limit:,} bytes). Built-in datasets, IDX "
                "folders and tables are held."
            )
        self.setup = setup
        classes = setup.spec.num_classes
        targets = np.asarray(setup.targets, dtype=np.int64)
        networks = tuple(
            CurveNetwork(network_name(h), h, spec.parameter_count(), spec.describe())
            for h, spec in ((h, replace(setup.spec, hidden=h)) for h in hidden)
        )
        sizes = []
        for share in self.plan.shares():
            counts = class_counts_at(targets, share, classes)
            sizes.append(CurveSize(share, sum(counts), counts))
        steps = self.plan.steps_per_point(len(held), self.config.epochs, self.config.batch_size)
        self.result = CurveResult(
            dataset=self.handle.name,
            networks=networks,
            sizes=tuple(sizes),
            seeds=tuple(self.config.seed + r for r in range(self.plan.repeats)),
            steps_per_point=steps,
            train_samples=len(held),
            test_samples=len(setup.test_data),
            device=setup.choice.name,
            notes=tuple(n for n in setup.notes if not n.startswith("data ")),
        )
        return self.result

    def run(self) -> CurveResult:
        """Measure every point; the final result, finished, stopped (points kept) or failed (with why)."""
        result = self.prepare()
        setup = self.setup
        assert setup is not None and setup.batches.held is not None
        device = setup.choice.device
        targets = np.asarray(setup.targets, dtype=np.int64)
        per_class = [s.per_class for s in result.sizes]
        started = time.perf_counter()
        points: list[CurvePoint] = []
        state, message = "finished", ""

        def publish(current: str = "", within: float = 0.0, force: bool = False) -> None:
            self.result = replace(
                result,
                points=tuple(points),
                fraction=min(1.0, (len(points) + within) / result.total),
                current=current,
                elapsed=time.perf_counter() - started,
            )
            if self.on_progress is not None and self._throttle.ready(final=force):
                self.on_progress(self.result)

        try:
            publish(force=True)
            for seed in result.seeds:
                subsets = stratified_subsets(targets, per_class, seed)
                for size, subset in zip(result.sizes, subsets, strict=True):
                    index = torch.from_numpy(subset).to(device)
                    for network in result.networks:
                        what = f"{network.name} on {size.samples:,} samples, seed {seed}"
                        t0 = time.perf_counter()

                        def tick(fraction: float, what: str = what) -> None:
                            publish(what, fraction)

                        train_acc, test_acc = self.measure(network.hidden, index, seed, tick)
                        points.append(
                            CurvePoint(
                                network.name,
                                network.params,
                                size.samples,
                                size.share,
                                seed,
                                train_acc,
                                test_acc,
                                time.perf_counter() - t0,
                            )
                        )
                        publish(what, force=True)
        except Cancelled:
            state = "stopped"
            message = f"Stopped by request after {len(points)} of {result.total} points; those are kept."
        except Exception as e:  # noqa: BLE001 - a fault ends the sweep with its points and a message
            state = "failed"
            if is_out_of_memory(e):
                reason = "the device ran out of memory; try a smaller batch size or the CPU"
            elif isinstance(e, DataloupeError):
                reason = str(e)
            else:
                reason = f"{type(e).__name__}: {e}"
            message = f"The sweep failed after {len(points)} of {result.total} points ({reason})."
        if device.type != "cpu":
            free_memory(device)
        self.result = replace(
            result,
            points=tuple(points),
            state=state,
            fraction=len(points) / result.total,
            elapsed=time.perf_counter() - started,
            message=message,
        )
        if self.on_progress is not None:
            self.on_progress(self.result)
        return self.result

    def measure(
        self,
        hidden: tuple[int, ...],
        index: torch.Tensor,
        seed: int,
        tick: Callable[[float], None] | None = None,
    ) -> tuple[float, float]:
        """Train a fresh network ``hidden`` on the held samples ``index`` with ``seed``; (train, test) accuracy.

        Raises :class:`Cancelled` when the cancel event is set; the same seed gives the same point.
        """
        self.prepare()
        setup = self.setup
        assert setup is not None and setup.batches.held is not None
        cfg = self.config
        held = setup.batches.held
        device = setup.choice.device
        spec: ModelSpec = replace(setup.spec, hidden=hidden)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = spec.build()
        model.to(device)
        graphed, _ = graph_plan(
            device, held=True, batch_size=cfg.batch_size, samples=len(index), wanted=cfg.cuda_graph
        )
        step = None
        if graphed:
            optimizer, step, _ = capture_or_eager(
                model, nn.functional.cross_entropy, held, cfg.batch_size, cfg.optimizer, cfg.lr, cfg.momentum
            )
        else:
            optimizer = make_optimizer(
                list(model.parameters()), cfg.optimizer, cfg.lr, cfg.momentum, capturable=False
            )
        generator = torch.Generator().manual_seed(seed)
        total = self.result.steps_per_point if self.result else 1
        done = 0
        while done < total:
            order = index[torch.randperm(len(index), generator=generator).to(device)]
            for batch in setup.batches.epoch(order, indices=step is not None):
                if self.cancel.is_set():
                    raise Cancelled()
                GIVE_WAY.wait()  # the user pressed a key: the screen answers first
                if step is not None:
                    step(batch)
                else:
                    xb, yb = batch
                    loss = nn.functional.cross_entropy(model(xb), yb)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                done += 1
                if tick is not None and done % 16 == 0:
                    tick(done / total)
                if done >= total:
                    break
        step = optimizer = None
        stride = math.ceil(len(index) / cfg.eval_train_samples) if cfg.eval_train_samples else 1
        train = _accuracy(model, held, index[::stride])  # evenly over the subset: every class keeps its share
        test = evaluate_model(model, setup.test_data, spec.num_classes, device, self.cancel)
        if self.cancel.is_set():
            raise Cancelled()
        return train, test.accuracy


def _accuracy(model: nn.Module, held: HeldSplit, index: torch.Tensor) -> float:
    """Accuracy of ``model`` on the held samples ``index``, a batch at a time (the split is never copied)."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=index.device)
    try:
        with torch.no_grad():
            for idx in index.split(EVAL_BATCH):
                xb, yb = held.batch(idx)
                correct += (model(xb).argmax(dim=1) == yb).sum()
    finally:
        model.train(was_training)
    return int(correct) / max(1, len(index))


def run_curve(
    handle: DatasetHandle,
    config: TrainConfig,
    plan: CurvePlan | None = None,
    *,
    cancel: threading.Event | None = None,
    on_progress: CurveCallback | None = None,
) -> CurveResult:
    """Measure a learning curve of ``handle`` (see the module docstring); never raises once training began."""
    return CurveSweep(handle, config, plan or CurvePlan(), cancel=cancel, on_progress=on_progress).run()
