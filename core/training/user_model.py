"""The user's own model, ``file.py:NAME`` or ``module:NAME``, with their saved weights, scored on a split.

NAME may be an ``nn.Module`` instance, an ``nn.Module`` class, or a function without arguments that
returns a module; it is resolved by the same code that opens a user's Dataset, so their prints go to
stderr and what their code raises shows their own traceback. Weights come from
:func:`~dataloupe.core.training.weights.read_weights`, which never runs code from the file.

:func:`score_split` runs the model in ``eval()`` mode under ``torch.inference_mode()``, batch by batch,
and returns each sample's class probabilities and loss; :func:`user_model_probabilities` is that for
any scorer that wants out-of-sample probabilities (the label check); :func:`evaluate_user_model` turns
them into a :class:`~dataloupe.core.training.metrics.ModelReport`.

    python -c "from dataloupe.core.training.user_model import load_user_model; \\
print(load_user_model('net.py:Net', 'weights.pt').describe())"
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from dataloupe.core.data.datasets import Split, collate_samples
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.samples import describe
from dataloupe.core.data.sources import code_source
from dataloupe.core.errors import DatasetError, SettingsError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.training.metrics import OUTPUT_KINDS, ModelReport, model_report
from dataloupe.core.training.weights import fit_weights, read_weights
from dataloupe.core.user_calls import MISSING, look_up, required_arguments, run_user
from dataloupe.core.wording import format_shape

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.training.snapshots import EvalResult
    from dataloupe.core.training.trained import TrainedModel

SCORE_BATCH = 256
"""Samples per forward pass. On the CPU a small CNN scored MNIST in 0.9 s at 256 and 5-7 s at 1,024, whose
activations no longer fit the caches (tests/bench/bench_eval.py)."""
_PROB_TOLERANCE = 1e-3


@dataclass(frozen=True)
class UserModel:
    """A module from the user's code with their weights loaded: one value the pane and the command hold."""

    module: nn.Module
    """The network, on the CPU, in eval mode."""
    source: str
    """What MODEL was: "net.py:Net"."""
    weights: Path | None
    """The weights file, or None when MODEL came with its own weights."""
    notes: tuple[str, ...] = ()
    """What the user should know about loading: the file's form, a stripped prefix."""
    outputs: str | None = None
    """Logits, probs or log_probs when the user said so (``--outputs``); None to detect."""

    @property
    def name(self) -> str:
        """Short, for a status line: "net.py:Net with weights.pt"."""
        target, _, obj = self.source.rpartition(":")
        text = f"{Path(target).name}:{obj}" if target.endswith(".py") else self.source
        return text + (f" with {self.weights.name}" if self.weights is not None else "")

    def describe(self) -> str:
        """One line: "net.py:Net (Net, 21,840 parameters) with weights.pt"."""
        count = sum(p.numel() for p in self.module.parameters())
        text = f"{self.source} ({type(self.module).__name__}, {count:,} parameters)"
        return text + (f" with {self.weights.name}" if self.weights is not None else " with its own weights")

    def trained(self, classes: tuple[str, ...], pipeline: Pipeline, dataset: str = "") -> TrainedModel:
        """This model as the app's one model value: a :class:`TrainedModel` of the "user" kind, whose
        ``build`` gives back the module and whose ``metrics`` keep MODEL, the notes and ``outputs``."""
        from dataloupe.core.training.trained import TrainedModel

        module = self.module
        return TrainedModel(
            spec=None,
            weights={k: v.detach().clone() for k, v in module.state_dict().items()},
            classes=tuple(classes),
            pipeline=pipeline,
            metrics={"model": self.source, "outputs": self.outputs, "notes": list(self.notes)},
            dataset=dataset,
            source=str(self.weights) if self.weights is not None else self.source,
            build=lambda: module,
        )

    @classmethod
    def from_trained(cls, trained: TrainedModel) -> UserModel:
        """The user's model a "user" :class:`TrainedModel` holds, its weights loaded (see :meth:`trained`)."""
        metrics = trained.metrics
        weights = None if trained.source == metrics.get("model") else Path(trained.source)
        return cls(
            module=trained.build_model(),
            source=str(metrics.get("model", trained.source)),
            weights=weights,
            notes=tuple(metrics.get("notes", ())),
            outputs=metrics.get("outputs"),
        )


def is_code_model(model: str) -> bool:
    """Whether MODEL names the user's code (``file.py:NAME``, ``module:NAME``) rather than a checkpoint file."""
    return code_source(model) is not None and not Path(model).expanduser().is_file()


def _module_from(obj: Any, source: str, name: str) -> nn.Module:
    if isinstance(obj, nn.Module):
        return obj
    expected = "an nn.Module, an nn.Module class, or a function without arguments that returns a module"
    if not callable(obj):
        raise SettingsError(f"{source} is {describe(obj)}: expected {expected}.")
    needed = required_arguments(obj)
    if needed:
        raise SettingsError(
            f"{source} needs arguments ({', '.join(needed)}): dataloupe calls it without any. Give them "
            "defaults, or name a function without arguments that builds the model."
        )
    built = run_user(f"calling {name}()", obj)
    if not isinstance(built, nn.Module):
        raise SettingsError(f"{source}() returned {describe(built)}: expected {expected}.")
    return built


def load_user_model(source: str, weights: str | Path | None = None, outputs: str | None = None) -> UserModel:
    """MODEL from the user's code, built, with ``weights`` loaded safely and checked key by key."""
    if outputs is not None and outputs not in OUTPUT_KINDS:
        raise SettingsError(f"--outputs must be one of {', '.join(OUTPUT_KINDS)}, not {outputs!r}.")
    parsed = code_source(source)
    if parsed is None:
        raise SettingsError(f"{source}: expected path/to/file.py:NAME or package.module:NAME for a model.")
    target, name = parsed
    module_obj, _, obj = look_up(target, name)
    if obj is MISSING:
        found = [k for k, v in vars(module_obj).items() if not k.startswith("_") and _looks_like_model(v)]
        raise SettingsError(
            f"{target} has no {name!r}. Models it defines: {', '.join(found[:10]) or 'none'}."
        )
    model_class = obj if isinstance(obj, type) else None
    module = _module_from(obj, source, name)
    notes: list[str] = []
    path = None
    if weights is not None:
        saved = read_weights(weights, model_class or type(module))
        state, note = fit_weights(module, saved)
        module.load_state_dict(state, strict=True)
        notes.append(f"weights: {saved.form}" + (f"; {note}" if note else ""))
        path = saved.path
    module.to("cpu").eval()
    return UserModel(module=module, source=source, weights=path, notes=tuple(notes), outputs=outputs)


def _looks_like_model(value: Any) -> bool:
    return isinstance(value, nn.Module) or (isinstance(value, type) and issubclass(value, nn.Module))


# ---------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class Scores:
    """Each sample's class probabilities and loss under a model."""

    probs: np.ndarray
    """N×C float32."""
    losses: np.ndarray
    """N float64: cross-entropy of each sample's label."""
    labels: np.ndarray
    """N int64."""
    outputs: str
    """How the model's outputs were read."""
    detected: bool
    """Whether ``outputs`` was detected (True) or given."""


def detect_outputs(out: torch.Tensor) -> str:
    """Logits, probabilities or log-probabilities, from one batch of outputs (N×C)."""
    out = out.detach().double()
    if out.numel() == 0:
        return "logits"
    if bool((out <= _PROB_TOLERANCE).all()) and bool((out.logsumexp(1).abs() < _PROB_TOLERANCE).all()):
        return "log_probs"
    if bool(((out >= 0) & (out <= 1)).all()) and bool(((out.sum(1) - 1).abs() < _PROB_TOLERANCE).all()):
        return "probs"
    return "logits"


def _log_probs(out: torch.Tensor, kind: str) -> torch.Tensor:
    out = out.float()
    if kind == "logits":
        return torch.log_softmax(out, dim=1)
    if kind == "log_probs":
        return out
    return out.clamp_min(1e-12).log()


def eval_pipeline(
    split: Split, normalize: tuple[tuple[float, ...], tuple[float, ...]] | None = None
) -> Pipeline:
    """The pipeline a user's model sees: the samples as their Dataset returns them, or for dataloupe's own
    sources the training pipeline, normalized with ``normalize`` (mean, std) when given."""
    pipeline = split.pipeline.with_(augment=False)
    if pipeline.own_transform:
        if normalize is not None:
            raise SettingsError(
                "--normalize applies to dataloupe's own sources: your Dataset's samples go to the model as it "
                "returns them, so normalize them in its transform."
            )
        return pipeline.with_(mode="raw")
    if normalize is not None:
        mean, std = normalize
        n = len(pipeline.low)
        if len(mean) == 1:
            mean, std = mean * n, std * n
        if len(mean) != n:
            raise SettingsError(
                f"--normalize gives {len(mean)} means for samples with {n} channels or columns."
            )
        pipeline = pipeline.with_(mode="normalized", mean=tuple(mean), std=tuple(std))
    return pipeline


def _batches(split: Split, device: torch.device, batch_size: int):
    """``(X, y)`` batches on ``device`` in sample order: sliced from memory when the split is held there."""
    if split.array is not None and split.targets is not None:
        y = torch.from_numpy(np.ascontiguousarray(split.targets))
        for start in range(0, len(split), batch_size):
            raw = split.array[start : start + batch_size].to(device)
            yield split.pipeline.batch(raw), y[start : start + batch_size].to(device)
        return
    loader = torch.utils.data.DataLoader(
        split, batch_size=batch_size, shuffle=False, collate_fn=collate_samples
    )
    for xb, yb in loader:
        yield xb.to(device), yb.to(device)


def score_split(
    model: UserModel,
    split: Split,
    num_classes: int,
    device: torch.device | str = "cpu",
    *,
    batch_size: int = SCORE_BATCH,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Scores:
    """Every sample of ``split`` (through its own pipeline) through the model, in order.

    The model runs in ``eval()`` mode under ``torch.inference_mode()`` on ``device`` and is put back on
    the CPU. Outputs that are not N×``num_classes`` are refused with the shape found.
    """
    device = torch.device(device)
    n = len(split)
    probs = np.empty((n, num_classes), np.float32)
    losses = np.empty(n, np.float64)
    labels = np.empty(n, np.int64)
    net = model.module
    kind = model.outputs
    what = f"scoring the {split.name} split with {model.name}"
    net.to(device).eval()
    done = 0
    try:
        with torch.inference_mode():
            for xb, yb in _batches(split, device, batch_size):
                check_cancel(cancel)
                report(progress, what, done, n)
                out = run_user(f"running {model.source} on samples {done}..{done + len(yb) - 1}", net, xb)
                if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape != (len(yb), num_classes):
                    found = (
                        describe(out)
                        if not isinstance(out, torch.Tensor)
                        else f"a tensor {format_shape(out.shape)}"
                    )
                    raise SettingsError(
                        f"{model.source} returned {found} for a batch of {format_shape(xb.shape)}: expected "
                        f"{len(yb)}×{num_classes}, one score per class of the dataset's {num_classes}."
                    )
                if len(yb) and int(yb.max()) >= num_classes:
                    raise DatasetError(
                        f"a label of the {split.name} split is {int(yb.max())}, outside the {num_classes} classes."
                    )
                if kind is None:
                    kind = detect_outputs(out)
                logp = _log_probs(out, kind)
                end = done + len(yb)
                probs[done:end] = logp.exp().cpu().numpy()
                losses[done:end] = -logp.gather(1, yb.view(-1, 1)).squeeze(1).double().cpu().numpy()
                labels[done:end] = yb.cpu().numpy()
                done = end
    finally:
        net.to("cpu")
    report(progress, what, n, n)
    return Scores(probs, losses, labels, kind or "logits", model.outputs is None)


def user_model_probabilities(
    model: UserModel,
    split: Split,
    device: torch.device | str = "cpu",
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """N×C float32 class probabilities of every sample of ``split`` under the user's model: out-of-sample
    scores for any check that takes them (the label-error check), from a model that never saw this split."""
    return score_split(model, split, len(split.classes), device, progress=progress, cancel=cancel).probs


def probabilities_on_test_split(
    model: UserModel,
    handle: DatasetHandle,
    device: str = "auto",
    *,
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, Split, str]:
    """What a label check needs from the user's model instead of cross-fitting its own: the N×C probabilities
    of :func:`evaluation_split` (the test split, which the model never trained on), that split, and who
    scored it, for the report ("scored by net.py:Net with net.pt")."""
    split, choice = _scoring(handle, device, normalize)
    probs = user_model_probabilities(model, split, choice.device, progress=progress, cancel=cancel)
    return probs, split, f"scored by {model.name}"


OUTPUT_WORDS = {
    "logits": "logits (softmax applied)",
    "probs": "probabilities",
    "log_probs": "log-probabilities",
}
"""How each kind of output is named in the report."""


def sample_location(split: Split):
    """A function naming sample ``i``'s image file or table row, or None when the split has neither."""
    files, rows = split.data.files, split.data.rows
    if files is not None:
        return lambda i: str(files.paths[i])
    if rows is not None:
        origin = split.data.origin or "row"
        return lambda i: f"{origin} row {int(rows[i]) + 1:,}"
    return None


def evaluate_user_model(
    model: UserModel,
    split: Split,
    device: torch.device | str = "cpu",
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ModelReport:
    """The full report of the user's model on ``split``: the one path for ``dataloupe eval`` and the app."""
    if len(split) == 0:
        raise DatasetError(f"the {split.name} split is empty: nothing to evaluate.")
    scores = score_split(model, split, len(split.classes), device, progress=progress, cancel=cancel)
    how = "detected" if scores.detected else "as given by --outputs"
    notes = [*model.notes, f"outputs read as {OUTPUT_WORDS[scores.outputs]} ({how})"]
    return model_report(
        scores.probs,
        scores.losses,
        scores.labels,
        split.classes,
        where=sample_location(split),
        outputs=scores.outputs,
        notes=notes,
    )


def as_eval_result(report: ModelReport) -> EvalResult:
    """The part of a report the training pane's per-class chart and confusion matrix show."""
    from dataloupe.core.training.snapshots import EvalResult

    return EvalResult(
        accuracy=report.accuracy,
        loss=report.loss,
        per_class=tuple(c.recall for c in report.per_class),
        confusion=report.confusion,
        samples=report.samples,
    )


def _scoring(handle: DatasetHandle, device: str, normalize):
    """The split a user's model is scored on, through its evaluation pipeline, and the device choice."""
    from dataloupe.core.training.device import choose_device

    split = evaluation_split(handle)
    return split.with_pipeline(eval_pipeline(split, normalize)), choose_device(device)


def evaluation_split(handle: DatasetHandle) -> Split:
    """The split a user's model is scored on: the test split when there is one, else all of the only one.

    The model never trained through dataloupe, so nothing needs holding out."""
    return handle.split("test" if "test" in handle.splits else handle.split_names[0])


def evaluate_on_dataset(
    model: UserModel,
    handle: DatasetHandle,
    device: str = "auto",
    *,
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[ModelReport, Split, list[str]]:
    """The report of the user's model on ``handle`` (:func:`evaluation_split`), the split it was measured on
    (with the pipeline used), and notes (a device fallback): the path of ``dataloupe eval`` and the app."""
    split, choice = _scoring(handle, device, normalize)
    report = evaluate_user_model(model, split, choice.device, progress=progress, cancel=cancel)
    return report, split, [choice.notice] if choice.notice else []
