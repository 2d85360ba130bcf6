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

import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # torch is imported where it is used, so the app can import this module early
    import torch

    from dataloupe.core.data.datasets import SplitData

Mode = Literal["raw", "scaled", "normalized"]
MODES: tuple[Mode, ...] = ("raw", "scaled", "normalized")


SIZE_PROBE_FILES = 64
"""Image files whose headers are read to tell whether a split's images differ in size."""
SIZE_PROBE_SAMPLES = 8
"""Samples decoded for that when there are no files to read headers from."""

OWN_TRANSFORM = "your Dataset's own transform"
"""The scaling step's name for samples a user's Dataset returns ready: nothing is measured or scaled."""


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
    """How the scaling step is named on screen (images; a table's is MinMaxScale unless :attr:`own_transform`)."""
    resize: str | None = None
    """Images only, before anything else: "64" (shorter side to 64, centre crop 64×64) or "64x48" (W×H).

    See :func:`dataloupe.core.data.sources.parse_resize`; a checkpoint stores it so evaluation resizes alike."""

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

    @property
    def own_transform(self) -> bool:
        """The samples arrive as a user's Dataset returns them: no range was measured, none is scaled."""
        return self.pixel_name == OWN_TRANSFORM

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
        return _device_consts(values, like.device, self._view_shape(like.ndim, batched))

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
        x = self.resized(raw)
        if self.augment and self.sample_type == "image":
            x = _augmenter(self.channels)(x)
        return self._scale(x, batched=False)

    def batch(self, raw: torch.Tensor) -> torch.Tensor:
        """Transform a whole stack of stored samples at once (N×C×H×W or N×F).

        Augmentation draws per-sample parameters, so it is applied one sample at a time.
        """
        raw = self.resized(raw)
        if self.augment and self.sample_type == "image":
            import torch

            aug = _augmenter(self.channels)
            raw = torch.stack([aug(r) for r in raw])
        return self._scale(raw, batched=True)

    def resized(self, raw: torch.Tensor) -> torch.Tensor:
        """An image (C×H×W) or a stack (N×C×H×W) at the ``resize`` size, still in the stored dtype."""
        if self.resize is None or self.sample_type != "image":
            return raw
        if tuple(raw.shape[-2:]) == self.output_size(tuple(raw.shape[-2:])):
            return raw
        return _resizer(self.resize)(raw)

    def output_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """(height, width) an image of ``size`` has after this pipeline."""
        if self.resize is None or self.sample_type != "image":
            return size
        from dataloupe.core.data.sources import resize_size

        return resize_size(self.resize)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape a stored sample of ``shape`` (C×H×W or F) has after this pipeline."""
        if self.resize is None or self.sample_type != "image" or len(shape) < 2:
            return tuple(shape)
        return (*shape[:-2], *self.output_size((shape[-2], shape[-1])))

    # ------------------------------------------------------------------ describing
    def describe(self) -> str:
        """The pipeline as the tutorials would write it, for the screen."""
        steps: list[str] = []
        if self.resize is not None and self.sample_type == "image":
            steps.append(resize_text(self.resize))
        if self.augment and self.sample_type == "image":
            steps.append("RandomAffine(degrees=10, translate=(0.1, 0.1))")
            if self.channels == 3:
                steps.append("RandomHorizontalFlip()")
        if self.mode == "raw":
            steps.append("as stored (no scaling)")
        elif self.sample_type == "image" or self.own_transform:
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


def sizes_vary(data: SplitData, pipeline: Pipeline) -> bool:
    """Whether the images of ``data`` come out of ``pipeline`` in more than one size: a model's input
    size (and so its parameter count) is then unknown, and batching needs a resize.

    Image files are judged by their headers (nothing decoded, :data:`SIZE_PROBE_FILES` spread over the
    split); other splits read :data:`SIZE_PROBE_SAMPLES` samples; one tensor in memory has one size.
    """
    if (
        pipeline.sample_type != "image"
        or pipeline.resize is not None
        or data.array is not None
        or data.length < 2
    ):
        return False
    step = max(1, data.length // SIZE_PROBE_FILES)
    if data.files is not None:
        from PIL import Image

        sizes = set()
        for path in data.files.paths[::step][:SIZE_PROBE_FILES]:
            try:
                with Image.open(path) as img:
                    sizes.add(img.size)
            except Exception:  # noqa: BLE001 - an unreadable file is the checklist's to report
                continue
        return len(sizes) > 1
    from dataloupe.core.errors import DataloupeError

    shapes = set()
    for i in range(0, data.length, max(1, data.length // SIZE_PROBE_SAMPLES))[:SIZE_PROBE_SAMPLES]:
        try:
            shapes.add(tuple(data.read(i)[0].shape[-2:]))
        except DataloupeError:
            continue
    return len(shapes) > 1


@functools.lru_cache(maxsize=64)
def _device_consts(values: tuple[float, ...], device: torch.device, shape: tuple[int, ...]) -> torch.Tensor:
    """Per-channel constants on ``device``, made once: a batch scaled inside a CUDA graph may not copy
    from the host, and the trainer scales every batch as it is drawn."""
    import torch

    return torch.tensor(values, dtype=torch.float32, device=device).view(shape)


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


def resize_text(resize: str) -> str:
    """The resize step as torchvision writes it: "Resize(64) → CenterCrop(64)" or "Resize((48, 64))"."""
    parts = [int(p) for p in resize.split("x")]
    if len(parts) == 1:
        return f"Resize({parts[0]}) → CenterCrop({parts[0]})"
    return f"Resize(({parts[1]}, {parts[0]}))"


_RESIZERS: dict[str, object] = {}


def _resizer(resize: str):
    """torchvision's v2 transform for ``resize`` (built once): antialiased, on uint8 or float tensors."""
    fn = _RESIZERS.get(resize)
    if fn is None:
        from torchvision.transforms import v2

        parts = [int(p) for p in resize.split("x")]
        if len(parts) == 1:
            fn = v2.Compose([v2.Resize(parts[0], antialias=True), v2.CenterCrop(parts[0])])
        else:
            fn = v2.Resize((parts[1], parts[0]), antialias=True)
        _RESIZERS[resize] = fn
    return fn
