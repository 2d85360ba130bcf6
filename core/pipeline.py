"""The transform from stored values to the tensors a model sees.

One :class:`Pipeline` serves every path: a sample read one at a time (preview,
DataLoader batches) and a whole split scaled at once (the trainer's in-memory
path). Both give the same numbers, which ``tests/test_pipeline.py`` checks.

This module imports torch only inside its functions: the app reads :data:`MODES` on
its first screen.

Modes, as the tutorials name them:
- ``raw``: the values as stored (uint8 0..255 pixels, digits 0..16, table values).
- ``scaled``: images divided by their maximum (``ToTensor``: 0..255 → 0..1);
  table columns min-max scaled with the training split's range.
- ``normalized``: scaled, then ``Normalize(mean, std)`` with the training split's own
  per-channel (or per-column) mean and std.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # torch is imported where it is used, so the app can import this module early
    import torch

Mode = Literal["raw", "scaled", "normalized"]
MODES: tuple[Mode, ...] = ("raw", "scaled", "normalized")


@dataclass(frozen=True)
class Pipeline:
    """How one dataset's stored samples become tensors."""

    sample_type: Literal["image", "table"]
    """Images are C×H×W; table rows are 1-D feature vectors."""
    low: tuple[float, ...]
    """Smallest stored value: one per image channel, or one per table column."""
    high: tuple[float, ...]
    """Largest stored value (255 for uint8 pixels, 16 for the digits)."""
    mean: tuple[float, ...]
    """Mean of the scaled training values, per channel or column (for ``normalized``)."""
    std: tuple[float, ...]
    """Standard deviation of the scaled training values, per channel or column."""
    mode: Mode = "scaled"
    """Which transform is applied; see the module docstring."""
    augment: bool = False
    """Images only: a small random rotation and shift, and a horizontal flip for RGB."""
    channels: int = 1
    """Image channels (1 grey, 3 RGB); ignored for tables."""
    pixel_name: str = "ToTensor()"
    """How the scaling step is named on screen."""

    @classmethod
    def for_images(cls, channels: int = 1, high: float = 255.0, pixel_name: str = "ToTensor()") -> Pipeline:
        """The scaling pipeline of images stored 0..``high`` (mean and std are measured later)."""
        return cls(
            sample_type="image",
            low=(0.0,) * channels,
            high=(float(high),) * channels,
            mean=(0.0,) * channels,
            std=(1.0,) * channels,
            channels=channels,
            pixel_name=pixel_name,
        )

    def with_(self, **changes) -> Pipeline:
        """A copy with some fields changed."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ applying
    def _view_shape(self, ndim: int, batched: bool) -> tuple[int, ...]:
        n = len(self.low)
        if self.sample_type == "table":
            return (1, n) if batched else (n,)
        # per-channel constants broadcast over H and W
        shape = [n, 1, 1]
        return tuple([1] + shape) if batched else tuple(shape)

    def _consts(self, values: tuple[float, ...], like: torch.Tensor, batched: bool) -> torch.Tensor:
        import torch

        t = torch.tensor(values, dtype=torch.float32, device=like.device)
        return t.view(self._view_shape(like.ndim, batched))

    def _scale(self, x: torch.Tensor, batched: bool) -> torch.Tensor:
        if self.mode == "raw":
            return x
        import torch

        x = x.to(torch.float32)
        if self.sample_type == "image" and all(lo == 0 for lo in self.low) and len(set(self.high)) == 1:
            # ToTensor's exact arithmetic: a single division by the maximum
            x = x / float(self.high[0])
        else:
            low = self._consts(self.low, x, batched)
            span = self._consts(
                tuple((h - lo) or 1.0 for lo, h in zip(self.low, self.high, strict=True)), x, batched
            )
            x = (x - low) / span
        if self.mode == "normalized":
            mean = self._consts(self.mean, x, batched)
            std = self._consts(tuple(s or 1.0 for s in self.std), x, batched)
            x = (x - mean) / std
        return x

    def __call__(self, raw: torch.Tensor) -> torch.Tensor:
        """Transform one stored sample (C×H×W or a feature vector)."""
        x = raw
        if self.augment and self.sample_type == "image":
            x = _augmenter(self.channels)(x)
        return self._scale(x, batched=False)

    def batch(self, raw: torch.Tensor) -> torch.Tensor:
        """Transform a whole stack of stored samples at once (N×C×H×W or N×F).

        Augmentation draws per-sample parameters, so it is applied one sample at a time.
        """
        if self.augment and self.sample_type == "image":
            import torch

            aug = _augmenter(self.channels)
            raw = torch.stack([aug(r) for r in raw])
        return self._scale(raw, batched=True)

    # ------------------------------------------------------------------ describing
    def describe(self) -> str:
        """The pipeline as the tutorials would write it, for the screen."""
        steps: list[str] = []
        if self.augment and self.sample_type == "image":
            steps.append("RandomAffine(degrees=10, translate=(0.1, 0.1))")
            if self.channels == 3:
                steps.append("RandomHorizontalFlip()")
        if self.mode == "raw":
            steps.append("as stored (no scaling)")
        elif self.sample_type == "image":
            steps.append(self.pixel_name)
        else:
            steps.append("MinMaxScale(train min/max → 0..1)")
        if self.mode == "normalized":
            steps.append(f"Normalize(mean={_fmt(self.mean)}, std={_fmt(self.std)})")
        return " → ".join(steps)

    def output_dtype(self, stored: torch.dtype) -> torch.dtype:
        """dtype of the tensors this pipeline returns for samples stored as ``stored``."""
        import torch

        return stored if self.mode == "raw" else torch.float32


def _fmt(values: tuple[float, ...]) -> str:
    if len(values) > 4:
        return f"({len(values)} values)"
    inner = ", ".join(f"{v:.4f}" for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


_AUGMENTERS: dict[int, object] = {}


def _augmenter(channels: int):
    """The augmentation transform for images of ``channels`` channels (built once)."""
    aug = _AUGMENTERS.get(channels)
    if aug is None:
        from torchvision.transforms import v2

        steps = [v2.RandomAffine(degrees=10, translate=(0.1, 0.1))]
        if channels == 3:
            steps.append(v2.RandomHorizontalFlip())
        aug = v2.Compose(steps)
        _AUGMENTERS[channels] = aug
    return aug
