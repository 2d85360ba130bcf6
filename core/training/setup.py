"""Everything a training run sets up once: the device, the splits, the data path, the model.

:func:`prepare_run` checks the settings, holds out a test split when the dataset has none,
refuses data with NaN or Inf (the checklist's "finite" check), chooses between holding
the split on the device and a DataLoader, builds the seeded model and decides whether the
step is replayed as a CUDA graph. Running out of memory while it takes device memory is
a message with what to try, after the memory was freed.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
from dataloupe.core.training.setup import prepare_run; from dataloupe.core.settings import TrainConfig; \
setup, model = prepare_run(open_dataset(DatasetSpec('digits')), TrainConfig()); print(setup.notes)"
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.utils.data import Subset

from dataloupe.core.data.datasets import Split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import TRAIN_BATCH_SIZE, TrainConfig
from dataloupe.core.training.data import HeldSplit, TrainBatches, held_bytes, hold
from dataloupe.core.training.device import DeviceChoice, choose_device, free_memory, is_out_of_memory
from dataloupe.core.training.evaluation import train_test_splits
from dataloupe.core.training.graphed_step import graph_plan
from dataloupe.core.training.models import ModelSpec
from dataloupe.core.wording import size

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle


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
    batches: TrainBatches
    """How training batches are read."""
    test_data: Split | HeldSplit
    """The test split, held on the device on the fast path."""
    test_probe_data: Split | torch.utils.data.Dataset | HeldSplit
    """The fixed test subset scored within an epoch."""
    train_eval_data: Split | torch.utils.data.Dataset | HeldSplit
    """The fixed training subset scored for in-sample accuracy."""
    targets: np.ndarray | None
    """Training labels (for the class-balanced sampler)."""
    spec: ModelSpec
    """The network."""
    in_memory: bool = False
    """Whether the fast path (the split held on the device) is used."""
    graphed: bool = False
    """Whether the step is captured as a CUDA graph (decided by :func:`dataloupe.core.training.graphed_step.graph_plan`)."""
    data: str = ""
    """The data path in a few words, for the screen ("held on cpu, uint8 55.4 MB" or "DataLoader")."""
    notes: list[str] = field(default_factory=list)
    """Facts for the user: device fallback, held-out split, data path, settings from the user's code."""
    leakage: str = ""
    """The split check's finding when test samples are copies of training samples ("" when none are)."""
    held_out: str = ""
    """"49 of 244 samples held out for testing" when the dataset has no test split; else ""."""
    config: TrainConfig = field(default_factory=TrainConfig)
    """The settings the run uses: those asked for, with what the user's code decides."""


def users_settings(handle: DatasetHandle, config: TrainConfig) -> tuple[TrainConfig, list[str]]:
    """``config`` with what the user's own code decides, and a note for each setting taken from it.

    A Dataset that returns its samples ready (its own transform, normalisation included) is trained
    on as it returns them: no second Normalize. A user's DataLoader gives its batch size, unless the
    run asks for another than the default (``--batch-size``, the form's batch field).
    """
    notes: list[str] = []
    if handle.pipeline.own_transform and config.transform != "raw":
        config = replace(config, transform="raw")
        notes.append(
            "from your code: samples as your Dataset returns them (its own transform; no Normalize added)"
        )
    if handle.loader is not None and config.batch_size == TRAIN_BATCH_SIZE:
        from dataloupe.core.batching.user_loader import LoaderFacts

        batch_size = LoaderFacts.read(handle.loader).batch_size
        if batch_size:
            config = replace(config, batch_size=batch_size)
            notes.append(
                f"from your code: batch size {batch_size:,}, your DataLoader's (a batch size set here overrides it)"
            )
    return config, notes


def prepare_run(handle: DatasetHandle, config: TrainConfig) -> tuple[RunSetup, nn.Module]:
    """The run's setup and its model, on the device; :class:`SettingsError` for settings that cannot work.

    The settings used are ``config`` with what the user's code decides (:func:`users_settings`):
    ``RunSetup.config``."""
    config.validate()
    cfg, notes = users_settings(handle, config)
    choice = choose_device(cfg.device)
    device = choice.device
    if choice.notice:
        notes.insert(0, choice.notice)
    pipeline = handle.pipeline.with_(mode=cfg.transform, augment=False)
    train, test, held_out = train_test_splits(handle, pipeline, cfg.seed, cfg.test_fraction)
    if held_out:
        notes.append(held_out)
    from dataloupe.core.checks.labels import split_leakage

    leakage = split_leakage(handle)
    if leakage:
        notes.append(
            f"the split check fails: {leakage}, so the test accuracy rewards memorizing them "
            "(dataloupe check lists them)"
        )
    if len(train) == 0 or len(test) == 0:
        raise SettingsError(f"{handle.name}: the train or test split is empty; nothing to train on.")
    check_finite(handle, train, test)
    targets = train.targets
    if cfg.sampler == "balanced" and targets is None:
        raise SettingsError(
            f"the class-balanced sampler needs every training label, and {handle.name} does not "
            "list them without reading each sample; use the random sampler."
        )
    fits = _fits_in_memory(cfg, train, test)
    if cfg.data_path == "memory" and not fits:
        raise SettingsError(
            f"{handle.name} is not held in memory, or does not fit in {cfg.memory_limit:,} bytes; "
            "use the DataLoader path."
        )
    input_shape = tuple(int(s) for s in (train.array.shape[1:] if fits else train[0][0].shape))
    spec = ModelSpec(cfg.model, tuple(cfg.hidden), input_shape, len(handle.classes))  # type: ignore[arg-type]
    if targets is not None and len(targets) and int(targets.max()) >= spec.num_classes:
        raise SettingsError(
            f"label {int(targets.max())} is outside the {spec.num_classes} classes of {handle.name}."
        )
    held_train = held_test = model = None
    try:  # every place this run takes memory: the model, the held splits, their subsets
        # seed only the model's initial weights, leaving the caller's global RNG as it was
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            model = spec.build()
        if fits:
            held_train, held_test = hold(train, device), hold(test, device)
            assert held_train is not None and held_test is not None
            train_eval: Split | torch.utils.data.Dataset | HeldSplit = held_train.rows(
                _subset_indices(cfg.seed, len(train), cfg.eval_train_samples, 1)
            )
            test_probe: Split | torch.utils.data.Dataset | HeldSplit = held_test.rows(
                _subset_indices(cfg.seed, len(test), cfg.eval_test_samples, 2)
            )
        else:
            train_eval = Subset(
                train, _subset_indices(cfg.seed, len(train), cfg.eval_train_samples, 1).tolist()
            )
            test_probe = Subset(test, _subset_indices(cfg.seed, len(test), cfg.eval_test_samples, 2).tolist())
        model = model.to(device)
    except Exception as e:
        if not is_out_of_memory(e):
            raise
        held_train = held_test = train_eval = test_probe = model = None  # nothing of this run stays alive
        free_memory(device)
        raise SettingsError(_out_of_memory_message(device, fits, train, test, e)) from None
    if held_train is not None and held_test is not None:
        notes.append(
            f"data held in memory on {device.type} as stored ({held_train.dtype_name}: "
            f"{size(held_train.nbytes)} train + {size(held_test.nbytes)} test), scaled per batch as drawn; "
            "batches by index permutation"
        )
    else:
        notes.append("data read through a DataLoader (not held in memory)")
    graphed, graph_note = graph_plan(
        device,
        held=held_train is not None,
        batch_size=cfg.batch_size,
        samples=len(train),
        wanted=cfg.cuda_graph,
    )
    if graph_note:
        notes.append(graph_note)
    return (
        RunSetup(
            choice=choice,
            pipeline=pipeline,
            train=train,
            test=test,
            batches=TrainBatches(train, held_train, device, cfg.batch_size, cfg.workers),
            test_data=held_test if held_test is not None else test,
            test_probe_data=test_probe,
            train_eval_data=train_eval,
            targets=targets,
            spec=spec,
            in_memory=held_train is not None,
            graphed=graphed,
            data=(
                f"held on {device.type}, {held_train.dtype_name} {size(held_train.nbytes + held_test.nbytes)}"
                if held_train is not None and held_test is not None
                else "DataLoader"
            ),
            notes=notes,
            held_out=f"{len(test):,} of {len(train) + len(test):,} samples held out for testing"
            if held_out
            else "",
            leakage=leakage,
            config=cfg,
        ),
        model,
    )


def check_finite(handle: DatasetHandle, train: Split, test: Split) -> None:
    """Refuse splits held in memory that hold NaN or Inf, naming the samples and columns (the checklist's check)."""
    if train.array is None or test.array is None:
        return  # read sample by sample: a NaN still stops the run at its first non-finite loss
    from dataloupe.core.checks.samples import read_stored
    from dataloupe.core.checks.values import finite_result

    result = finite_result(
        {"train": read_stored(train), "test": read_stored(test)}, None, handle.feature_names
    )
    if result.verdict == "fail":
        raise SettingsError(
            f"{handle.name}: {result.evidence}, so training would only give a NaN loss. To fix: {result.fix}."
        )


def _out_of_memory_message(
    device: torch.device, held: bool, train: Split, test: Split, error: BaseException
) -> str:
    """What to do when the data or the model does not fit on ``device``: how much was asked for, and what to try."""
    from dataloupe.core.memory import requested_bytes

    where = "the GPU" if device.type == "cuda" else "the machine"
    what = f"the model and {len(train) + len(test):,} samples held on it" if held else "the model"
    asked = requested_bytes(error)
    amount = f"; it asked for {size(asked)} more" if asked else ""
    tips = ["smaller hidden layers (--hidden)", "a smaller batch size (--batch-size)"]
    if held:
        tips.insert(0, "the DataLoader path (it holds one batch at a time)")
    tips.append("fewer samples (--limit, for your own Dataset)")
    if device.type == "cuda":
        tips.append("the CPU (device cpu)")
    return (
        f"{where} ran out of memory while preparing the run ({what}{amount}); nothing was trained and the "
        f"memory it took has been freed. Try {', '.join(tips[:-1])} or {tips[-1]}."
    )


def _fits_in_memory(cfg: TrainConfig, train: Split, test: Split) -> bool:
    if cfg.data_path == "loader":
        return False
    sizes = (held_bytes(train), held_bytes(test))
    return None not in sizes and sum(sizes) <= cfg.memory_limit  # type: ignore[arg-type]


def _subset_indices(seed: int, n: int, k: int, salt: int) -> np.ndarray:
    """A fixed subset of ``k`` of ``n`` samples (all of them when ``k`` is 0 or at least ``n``)."""
    if k <= 0 or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed + salt).choice(n, size=k, replace=False))
