"""How well a model does: accuracy, loss, per-class accuracy and the confusion matrix on a split.

:func:`evaluate_model` scores a model on held tensors or a split read by a DataLoader.
:func:`evaluate_on_test` is the one path that scores a trained model on a dataset's test
split, for the app's evaluate key and for ``dataloupe eval`` alike: it holds the test split
out as the model's own run did (its seed and test fraction), and says when class names differ.
:func:`train_test_splits` gives the split to train on and the one to test on.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
from dataloupe.core.training.evaluation import train_test_splits; h = open_dataset(DatasetSpec('digits')); \
print(train_test_splits(h, h.pipeline)[2] or 'own test split')"
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from dataloupe.core.data.datasets import Split, SplitData, collate_samples, in_memory_split, stratified_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import CheckpointError, DataloupeError, SettingsError
from dataloupe.core.settings import TEST_FRACTION, holdout_of
from dataloupe.core.training.data import HeldSplit, hold
from dataloupe.core.training.device import choose_device, free_memory
from dataloupe.core.training.snapshots import EvalResult
from dataloupe.core.training.trained import TRAINED_HERE, TrainedModel
from dataloupe.core.wording import format_shape

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle

EVAL_BATCH = 4096
"""Samples per forward pass while evaluating (no gradients, so large batches are cheap)."""


def _subset(data: SplitData, idx: np.ndarray, origin: str) -> SplitData:
    """The samples ``idx`` of a split, kept in memory when the split was."""
    if data.array is not None and data.targets is not None:
        return in_memory_split(data.array[torch.from_numpy(idx)], data.targets[idx], origin)
    targets = data.targets[idx] if data.targets is not None else None

    def read(i: int) -> tuple[torch.Tensor, int]:
        return data.read(int(idx[i]))

    return SplitData(length=len(idx), read=read, targets=targets, array=None, origin=origin)


def train_test_splits(
    handle: DatasetHandle, pipeline: Pipeline, seed: int = 0, test_fraction: float = TEST_FRACTION
) -> tuple[Split, Split, str]:
    """The split to train on, the split to test on, and a note when the test split was held out here.

    A dataset with only one split (no test split, or only a test split) gives ``test_fraction`` of it,
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
    data: Split | torch.utils.data.Dataset | HeldSplit | tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    device: torch.device | str = "cpu",
    cancel: threading.Event | None = None,
    batch_size: int = EVAL_BATCH,
) -> EvalResult:
    """Accuracy, loss, per-class accuracy and confusion matrix of ``model`` on a split, a held split or
    ``(X, y)`` tensors.

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
    trained: TrainedModel,
    handle: DatasetHandle,
    device: str = "auto",
    cancel: threading.Event | None = None,
    *,
    model: nn.Module | None = None,
) -> tuple[EvalResult, list[str]]:
    """A trained model's accuracy on ``handle``'s test split: the one path for the app and ``dataloupe eval``.

    The samples go through the model's own pipeline, the transform it was trained with. A dataset
    without a test split has one held out as the model's run held it out: the seed and test
    fraction stored in its metrics (their ``config``). The dataset must give the model's input
    shape and class count, or :class:`SettingsError` says which differs (naming the file for a model
    read from one). ``model`` is the network already built from ``trained``, when the caller has it.
    Returns the result and notes for the user (a held-out split, a device fallback, class names of
    the model that differ from the dataset's). The model is left on the CPU.
    """
    try:
        return _evaluate_on_test(trained, handle, device, cancel, model)
    except DataloupeError as e:
        if trained.source == TRAINED_HERE:
            raise
        raise CheckpointError(f"{Path(trained.source).name}: {e}") from None


def _evaluate_on_test(
    trained: TrainedModel,
    handle: DatasetHandle,
    device: str,
    cancel: threading.Event | None,
    model: nn.Module | None,
) -> tuple[EvalResult, list[str]]:
    spec, pipeline, classes = trained.spec, trained.pipeline, trained.classes
    assert spec is not None  # the user's own module is evaluated by its own path
    notes: list[str] = []
    if pipeline.sample_type != handle.pipeline.sample_type:
        raise SettingsError(
            f"the model was trained on {pipeline.sample_type} data; {handle.name} is {handle.pipeline.sample_type} data."
        )
    seed, test_fraction = holdout_of(trained.metrics)
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
    model = model if model is not None else trained.build_model()
    model.to(choice.device)
    held = None
    try:
        held = hold(test, choice.device)
        result = evaluate_model(
            model, held if held is not None else test, spec.num_classes, choice.device, cancel
        )
    finally:
        held = None
        model.to("cpu")
        free_memory(choice.device)
    if tuple(classes) != tuple(handle.classes):
        notes.append(
            f"class names differ: the model has {', '.join(tuple(classes)[:5])}…, "
            f"{handle.name} has {', '.join(handle.classes[:5])}…; compared by position"
        )
    return result, notes


def _eval_batches(data, device: torch.device, batch_size: int):
    """Batches of ``(X, y)`` on ``device`` from a held split, held tensors, or a split read by a DataLoader."""
    if isinstance(data, HeldSplit):
        yield from data.slices(batch_size)
        return
    if isinstance(data, tuple):
        x, y = data
        for start in range(0, len(y), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(data, batch_size=min(batch_size, 512), shuffle=False, collate_fn=collate_samples)
    for xb, yb in loader:
        yield xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
