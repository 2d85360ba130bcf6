"""A trained model as one value: what it is, its weights, what it was trained on and through, what it reached.

:class:`TrainedModel` is what a :class:`~dataloupe.core.training.run.TrainingRun` hands back
(:meth:`~dataloupe.core.training.run.TrainingRun.trained`), what
:func:`~dataloupe.core.training.checkpoint.save_checkpoint` writes and
:func:`~dataloupe.core.training.checkpoint.load_checkpoint` reads, and what the app's training pane
holds. It is frozen: it crosses from a worker thread to the screen as a value.

A model is built either from a :class:`~dataloupe.core.training.models.ModelSpec` (dataloupe's own
networks, ``kind == "spec"``) or from the user's own module (``kind == "user"``), in which case
``build`` makes the module and ``spec`` is None.

    python -c "from dataloupe.core.training.checkpoint import load_checkpoint; m = load_checkpoint('model.pt'); \
print(m.describe(), m.build_model())"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch
    from torch import nn

    from dataloupe.core.data.pipeline import Pipeline
    from dataloupe.core.training.models import ModelSpec

TRAINED_HERE = "trained here"
"""``source`` of a model trained in this process (otherwise the file it was read from)."""


@dataclass(frozen=True)
class TrainedModel:
    """A model that has learned, with everything needed to rebuild, evaluate and save it."""

    spec: ModelSpec | None
    """How to rebuild dataloupe's own network; None for a user's own module."""
    weights: dict[str, torch.Tensor] = field(repr=False)
    """The weights by name, on the CPU. Never trained further: a new run makes a new value."""
    classes: tuple[str, ...]
    """Class names; output ``k`` is ``classes[k]``."""
    pipeline: Pipeline
    """The transform the model was trained through (its ``resize`` too); evaluation must use the same."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """What it reached (test accuracy, epochs, the training settings), as plain values."""
    dataset: str = ""
    """The dataset it learned from."""
    source: str = TRAINED_HERE
    """:data:`TRAINED_HERE`, or the path of the file it was read from."""
    saved_at: str = ""
    """ISO time it was saved, for a model read from a file."""
    build: Callable[[], nn.Module] | None = field(default=None, repr=False, compare=False)
    """For a user's own module: makes the module, before the weights go in."""

    @property
    def kind(self) -> Literal["spec", "user"]:
        """ "spec" for dataloupe's own networks, "user" for the user's own module."""
        return "spec" if self.spec is not None else "user"

    @property
    def resize(self) -> str | None:
        """The size samples are resized to before the model sees them (None: as they are stored)."""
        return self.pipeline.resize

    @property
    def name(self) -> str:
        """The network in words ("MLP 64-64-64, 1×28×28 → 10 classes")."""
        return self.spec.describe() if self.spec is not None else "your model"

    def build_model(self) -> nn.Module:
        """The network with these weights, on the CPU, in eval mode.

        Raises :class:`~dataloupe.core.errors.CheckpointError` when the weights do not fit it.
        """
        from dataloupe.core.errors import CheckpointError

        model = self.spec.build() if self.spec is not None else self._build_user()
        try:
            model.load_state_dict(self.weights, strict=True)
        except RuntimeError as e:
            lines = str(e).strip().splitlines()
            detail = lines[1].strip() if len(lines) > 1 else lines[0] if lines else "weights do not match"
            raise CheckpointError(
                f"{self._file()}its weights do not fit the {self.name} it describes ({detail}). "
                "The file is damaged or was not written by dataloupe."
            ) from None
        model.eval()
        return model

    def describe(self) -> str:
        """One line for the screen: what it holds and how good it was."""
        where = self.source if self.source == TRAINED_HERE else _file_name(self.source)
        text = f"{where}: {self.name} trained on {self.dataset or 'an unnamed dataset'}"
        acc = self.metrics.get("test_accuracy")
        if isinstance(acc, float):
            text += f", test accuracy {acc:.1%}" + (" when saved" if self.source != TRAINED_HERE else "")
        return text

    def _build_user(self) -> nn.Module:
        if self.build is None:
            raise ValueError("a TrainedModel needs a spec or a build function")
        return self.build()

    def _file(self) -> str:
        return "" if self.source == TRAINED_HERE else f"{_file_name(self.source)}: "


def _file_name(path: str) -> str:
    from pathlib import Path

    return Path(path).name
