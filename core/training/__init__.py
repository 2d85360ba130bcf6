"""Training a small model on an open dataset, evaluating it, and keeping it.

One run goes down this package in order: :mod:`.device` picks where it runs, :mod:`.setup`
builds the splits, the model and the data path once, :mod:`.data` holds the split on the device
or reads it through a DataLoader, :mod:`.graphed_step` takes one optimiser step (captured as a
CUDA graph on a GPU), :mod:`.run` loops, pauses and reports :mod:`.snapshots`, and
:mod:`.evaluation` scores the model. What a run leaves is one :class:`TrainedModel`, which
:mod:`.checkpoint` saves atomically (through :mod:`.safe_save`) and loads back without running
anyone's code.

The data side (readers, batching, checks, statistics) sits below this package and never imports it.

    python -c "from dataloupe.core.training import TrainingRun; from dataloupe.core.readers import open_dataset; \\
from dataloupe.core.data.sources import DatasetSpec; from dataloupe.core.settings import TrainConfig; \\
r = TrainingRun(open_dataset(DatasetSpec('digits')), TrainConfig(epochs=1)); r.run(); print(r.trained().describe())"

Exports are loaded on first use, so importing one torch-free module of the package (snapshots,
safe_save) does not load torch:
- ``TrainingRun`` (:mod:`.run`): cancel, pause, sampled snapshots; returns a ``TrainedModel``.
- ``TrainedModel`` (:mod:`.trained`): spec, weights, classes, pipeline, metrics, resize.
- ``ModelSpec``, ``parameter_count`` (:mod:`.models`).
- ``choose_device``, ``DeviceChoice`` (:mod:`.device`).
- ``evaluate_model``, ``evaluate_on_test`` (:mod:`.evaluation`).
- ``save_checkpoint``, ``load_checkpoint`` (:mod:`.checkpoint`).
- ``TrainingSnapshot``, ``Evaluation``, ``EvalResult`` (:mod:`.snapshots`).
- ``UserModel``, ``load_user_model``, ``evaluate_user_model`` (:mod:`.user_model`): the user's own
  ``nn.Module`` with weights read by :mod:`.weights` (never running code), scored by :mod:`.metrics`.
- ``cross_fit`` (:mod:`.crossfit`): K-fold out-of-sample probabilities, for the label-noise check.
- ``CurveSweep`` (:mod:`.curve`): accuracy against training size for wide and deep networks.
- ``DataWait`` (:mod:`.data_wait`): each step's time split into waiting for data and computing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainingRun": "run",
    "TrainedModel": "trained",
    "ModelSpec": "models",
    "parameter_count": "models",
    "choose_device": "device",
    "DeviceChoice": "device",
    "evaluate_model": "evaluation",
    "evaluate_on_test": "evaluation",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "TrainingSnapshot": "snapshots",
    "Evaluation": "snapshots",
    "EvalResult": "snapshots",
    "UserModel": "user_model",
    "load_user_model": "user_model",
    "evaluate_user_model": "user_model",
    "cross_fit": "crossfit",
    "CurveSweep": "curve",
    "DataWait": "data_wait",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
