"""The models dataloupe trains: the tutorials' MLP and a small CNN, rebuilt from a :class:`ModelSpec`.

A :class:`ModelSpec` is everything needed to make the same network again (architecture,
hidden sizes, input shape, class count), so a checkpoint stores the spec beside the
weights and never a pickled module.

    python -c "from dataloupe.core.training.models import ModelSpec; s = ModelSpec('mlp', (64, 64, 64), (1, 28, 28), 10); \
print(s.describe(), s.parameter_count())"
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import ARCHITECTURES, Architecture, check_hidden, one_of
from dataloupe.core.wording import format_shape

CNN_CHANNELS = (16, 32)
"""Output channels of the CNN's two convolution blocks (each 3×3 conv, ReLU, 2×2 max-pool)."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build the same network again."""

    architecture: Architecture
    """"mlp" (flatten, dense layers with ReLU) or "cnn" (two conv blocks, then dense layers)."""
    hidden: tuple[int, ...]
    """Widths of the hidden dense layers: (64, 64, 64) is the tutorials' MLP."""
    input_shape: tuple[int, ...]
    """Shape of one sample as the model sees it: (1, 28, 28) for MNIST, (11,) for a wine table row."""
    num_classes: int
    """Outputs of the last layer."""

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise SettingsError(f"unknown model {self.architecture!r}: choose {one_of(ARCHITECTURES)}.")
        if self.num_classes < 2:
            raise SettingsError(
                f"a classifier needs at least 2 classes; this dataset has {self.num_classes}."
            )
        if not self.input_shape or any(s <= 0 for s in self.input_shape):
            raise SettingsError(f"input shape {self.input_shape} is empty.")
        check_hidden(tuple(self.hidden))  # the limits --hidden has, also for sizes read from a checkpoint
        if self.architecture == "cnn":
            if len(self.input_shape) != 3:
                raise SettingsError(
                    f"the CNN needs images (channels×height×width); these samples are {format_shape(self.input_shape)}. "
                    "Choose the MLP."
                )
            if min(self.input_shape[1:]) < 4:
                raise SettingsError(
                    f"the CNN halves the image twice and needs at least 4×4 pixels; these are {format_shape(self.input_shape)}."
                )

    @property
    def input_size(self) -> int:
        """Number of values in one sample (784 for 1×28×28)."""
        return math.prod(self.input_shape)

    def build(self) -> nn.Module:
        """A freshly initialised network (uses torch's global RNG; seed it first for a repeatable start)."""
        if self.architecture == "mlp":
            return MLP(self.input_size, self.hidden, self.num_classes)
        return SmallCNN(self.input_shape, self.hidden, self.num_classes)

    def parameter_count(self) -> int:
        """Trainable parameters of the network this spec builds, counted without building it."""
        if self.architecture == "mlp":
            return _dense_parameters((self.input_size, *self.hidden, self.num_classes))
        channels, height, width = self.input_shape
        c1, c2 = CNN_CHANNELS
        convs = (channels * 9 + 1) * c1 + (c1 * 9 + 1) * c2  # 3×3 kernels plus one bias per output channel
        flat = c2 * (height // 4) * (width // 4)
        return convs + _dense_parameters((flat, *self.hidden, self.num_classes))

    def describe(self) -> str:
        """ "MLP 784→64→64→64→10" or "CNN 1×28×28 → conv16 → conv32 → 64 → 10"."""
        if self.architecture == "mlp":
            return "MLP " + "→".join(str(n) for n in (self.input_size, *self.hidden, self.num_classes))
        convs = " → ".join(f"conv{c}" for c in CNN_CHANNELS)
        dense = " → ".join(str(n) for n in (*self.hidden, self.num_classes))
        return f"CNN {format_shape(self.input_shape)} → {convs} → {dense}"

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (for a checkpoint's JSON metadata)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["input_shape"] = list(self.input_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        """The spec :meth:`to_dict` wrote; raises KeyError/TypeError/ValueError when it is malformed."""
        return cls(
            architecture=str(d["architecture"]),  # type: ignore[arg-type]
            hidden=tuple(int(h) for h in d["hidden"]),
            input_shape=tuple(int(s) for s in d["input_shape"]),
            num_classes=int(d["num_classes"]),
        )


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _dense_parameters(sizes: tuple[int, ...]) -> int:
    """Weights and biases of Linear layers between consecutive ``sizes``."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))


def _dense_stack(sizes: tuple[int, ...]) -> list[nn.Module]:
    """Linear layers between consecutive ``sizes``, with ReLU between them but not after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return layers


class MLP(nn.Module):
    """The tutorials' network: flatten, then Linear + ReLU per hidden size, then Linear to the classes."""

    def __init__(self, input_size: int, hidden: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), *_dense_stack((input_size, *hidden, num_classes)))
        """Flatten and the dense layers, in order."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class SmallCNN(nn.Module):
    """Two 3×3 conv blocks (ReLU, 2×2 max-pool), then dense layers: enough for MNIST-like images."""

    def __init__(self, input_shape: tuple[int, ...], hidden: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        channels, height, width = input_shape
        c1, c2 = CNN_CHANNELS
        self.features = nn.Sequential(
            nn.Conv2d(channels, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        """The convolution blocks, ending flattened."""
        flat = c2 * (height // 4) * (width // 4)
        self.head = nn.Sequential(*_dense_stack((flat, *hidden, num_classes)))
        """Dense layers from the flattened features to the classes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
