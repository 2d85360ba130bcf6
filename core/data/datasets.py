"""One dataset handle for every source.

Every reader in :mod:`dataloupe.core.readers` (a built-in torchvision dataset, the bundled digits,
an image folder, IDX files or a CSV table) returns a :class:`DatasetHandle`, finished by
:func:`build_handle`: its class names, its splits, and the :class:`~dataloupe.core.data.pipeline.Pipeline`
that turns stored values into tensors. This module imports no reader. A :class:`Split` is a ``torch.utils.data.Dataset`` returning
``(sample, label)``, with the integer ``targets`` of the split when they are known
without decoding a sample.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
h = open_dataset(DatasetSpec('digits')); print(h.describe()); print(h.split('train').info(0))"
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import SPLITS, DatasetSpec, Reader
from dataloupe.core.errors import DatasetError
from dataloupe.core.stats.classes import class_name
from dataloupe.core.stats.moments import MOMENT_SAMPLES, scaled_moments
from dataloupe.core.wording import format_shape, short_path

if TYPE_CHECKING:
    from dataloupe.core.readers.image_files import ImageFiles


@dataclass
class SplitData:
    """What a reader provides for one split: stored samples and labels, before any transform."""

    length: int
    """Number of samples."""
    read: Callable[[int], tuple[torch.Tensor, int]]
    """Stored sample ``i`` (C×H×W or a feature vector) and its integer label."""
    targets: np.ndarray | None
    """int64 labels of every sample, known without decoding one; None when unknown."""
    array: torch.Tensor | None = None
    """All stored samples as one tensor (N×C×H×W or N×F) when the split is held in memory."""
    origin: str = ""
    """Where the split came from, for the screen: "t10k-images-idx3-ubyte.gz"."""
    files: ImageFiles | None = None
    """The image files behind the samples, when they are read from files one by one (image folders)."""
    rows: np.ndarray | None = None
    """Tables: each sample's data row in ``origin`` (0 is the first row below the header), so that a
    fault found in a sample can be named where the user can find it."""


@dataclass(frozen=True)
class SampleInfo:
    """What the preview shows beside a sample."""

    index: int
    label: int
    class_name: str
    shape: tuple[int, ...]
    """Shape exactly as the dataset returns the sample (1×28×28, not 28×28)."""
    dtype: str
    """"torch.float32"."""
    min: float
    max: float
    stored_shape: tuple[int, ...] | None = None
    """The shape as stored, when the pipeline resized the sample; None when it did not."""

    @property
    def shape_text(self) -> str:
        """The shape written 1×28×28, and "(resized from 3×480×640)" when the pipeline resized it."""
        text = format_shape(self.shape)
        if self.stored_shape is not None and tuple(self.stored_shape) != tuple(self.shape):
            text += f" (resized from {format_shape(self.stored_shape)})"
        return text


class Split(Dataset):
    """One split of a dataset, as a map-style torch ``Dataset`` of ``(sample, label)``."""

    def __init__(self, name: str, data: SplitData, classes: list[str], pipeline: Pipeline) -> None:
        self.name = name
        """"train" or "test"."""
        self.data = data
        """The stored samples, shared by every view of this split."""
        self.classes = classes
        """Class names; label ``k`` is ``classes[k]``."""
        self.pipeline = pipeline
        """Transform applied by ``__getitem__``."""

    # -- torch Dataset
    def __len__(self) -> int:
        return self.data.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        raw, label = self.raw(index)
        return self.pipeline(raw), label

    # -- extras
    @property
    def targets(self) -> np.ndarray | None:
        """int64 labels known without decoding samples, or None."""
        return self.data.targets

    @property
    def array(self) -> torch.Tensor | None:
        """All stored samples as one tensor when held in memory, else None."""
        return self.data.array

    def raw(self, index: int) -> tuple[torch.Tensor, int]:
        """Stored sample ``index`` and its label, before the pipeline."""
        n = self.data.length
        if not -n <= index < n:
            raise IndexError(
                f"sample {index} is out of range: the {self.name} split has {n:,} samples (0..{n - 1})"
            )
        return self.data.read(index % n)

    def with_pipeline(self, pipeline: Pipeline) -> Split:
        """The same samples through another pipeline."""
        return Split(self.name, self.data, self.classes, pipeline)

    def info(self, index: int, sample: torch.Tensor | None = None, label: int | None = None) -> SampleInfo:
        """Label, shape, dtype and range of sample ``index`` after the pipeline."""
        if sample is None or label is None:
            sample, label = self[index]
        values = sample.float()
        stored_shape = None
        if self.pipeline.resize is not None and self.pipeline.sample_type == "image":
            stored_shape = tuple(self.raw(index)[0].shape)  # a cached read for image folders
        return SampleInfo(
            index=index % len(self),
            label=int(label),
            class_name=self.class_name(label),
            shape=tuple(sample.shape),
            dtype=str(sample.dtype),
            min=float(values.min()) if values.numel() else 0.0,
            max=float(values.max()) if values.numel() else 0.0,
            stored_shape=stored_shape,
        )

    def class_name(self, label: int) -> str:
        """Name of ``label``, or the number when it is outside the class list."""
        return class_name(self.classes, label)

    def tensors(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor] | None:
        """The whole split as ``(X, y)`` on ``device``, scaled once; None when not held in memory."""
        if self.data.array is None or self.data.targets is None:
            return None
        x = self.pipeline.with_(augment=False).batch(self.data.array.to(device))
        y = torch.from_numpy(np.ascontiguousarray(self.data.targets)).to(device=device, dtype=torch.int64)
        return x, y

    def __repr__(self) -> str:
        return f"Split({self.name!r}, {len(self):,} samples, {len(self.classes)} classes)"


@dataclass
class DatasetHandle:
    """A dataset opened from any source: classes, splits and the current pipeline."""

    name: str
    """Display name: "MNIST", "winequality-red.csv"."""
    reader: Reader
    """Which reader opened it (``custom``: :func:`from_datasets`)."""
    classes: list[str]
    """Class names; label ``k`` is ``classes[k]``."""
    splits: dict[str, SplitData]
    """The splits that exist, by name ("train", "test")."""
    pipeline: Pipeline
    """The default transform (``ToTensor``-like scaling)."""
    notes: list[str] = field(default_factory=list)
    """Facts the user should see: how the test split was made, files skipped, a missing split."""
    location: str = ""
    """The path or root it was read from."""
    feature_names: list[str] | None = None
    """Table columns used as features (CSV only)."""
    spec: DatasetSpec | None = None
    """What was asked for, to reopen it."""
    loader: Any = None
    """The user's own training ``DataLoader`` (``file.py:NAME``), iterated as it is for batches; or None."""

    def split(self, name: str, pipeline: Pipeline | None = None) -> Split:
        """Split ``name`` through ``pipeline`` (default: the handle's own)."""
        if name not in self.splits:
            have = " and ".join(self.splits) or "no splits"
            raise DatasetError(f"{self.name} has no {name} split (it has {have}).")
        return Split(name, self.splits[name], self.classes, pipeline or self.pipeline)

    @property
    def split_names(self) -> list[str]:
        """Names of the splits that exist, train first."""
        return [s for s in SPLITS if s in self.splits] + [s for s in self.splits if s not in SPLITS]

    def default_split(self, wanted: str = "train") -> str:
        """``wanted`` when it exists, otherwise the first split there is."""
        return wanted if wanted in self.splits else self.split_names[0]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def stored_shape(self) -> tuple[int, ...]:
        """Shape of the first training sample as stored."""
        split = self.split(self.default_split())
        x, _ = split.raw(0)
        return tuple(x.shape)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of the first training sample as the pipeline returns it (after any resize)."""
        return self.pipeline.output_shape(self.stored_shape)

    @property
    def stored_dtype(self) -> torch.dtype:
        """dtype of the stored samples (uint8 for most images)."""
        split = self.split(self.default_split())
        if split.array is not None:
            return split.array.dtype
        return split.raw(0)[0].dtype

    def describe(self) -> str:
        """A few lines about the dataset for the screen and the command line."""
        sizes = ", ".join(f"{name} {self.splits[name].length:,}" for name in self.split_names)
        lines = [
            f"{self.name} ({self.reader}): {sizes} samples, {self.num_classes} classes, "
            f"sample {format_shape(self.stored_shape)} {str(self.stored_dtype).replace('torch.', '')} as stored",
            f"from {short_path(self.location)}" if self.location else "",
            f"transform: {self.pipeline.describe()}",
            *self.notes,
        ]
        return "\n".join(line for line in lines if line)


def collate_samples(batch: list[tuple[torch.Tensor, int]]):
    """DataLoader's default collate, with a message that says what to do when samples differ in shape."""
    from torch.utils.data import default_collate

    shapes = {tuple(x.shape) for x, _ in batch}
    if len(shapes) > 1:
        listed = ", ".join(format_shape(s) for s in sorted(shapes)[:4])
        raise DatasetError(
            f"the samples of one batch differ in shape ({listed}): a batch stacks its samples, so they "
            "need one shape. Resize the images to one size: --resize 64 (shorter side to 64, then a "
            "centre crop) or --resize 64x48 on the command line, or the resize field of the dataset pane."
        )
    return default_collate(batch)


# ---------------------------------------------------------------------- helpers for readers
def stratified_split(
    targets: np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split that keeps each class's share; the same for the same seed."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(targets):
        idx = np.flatnonzero(targets == label)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        n_test = min(max(n_test, 1), len(idx) - 1) if len(idx) > 1 else 0
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def in_memory_split(
    x: torch.Tensor, y: np.ndarray, origin: str = "", rows: np.ndarray | None = None
) -> SplitData:
    """A split held as one stored tensor and its labels (``rows``: a table's data row of each sample)."""
    y = np.ascontiguousarray(y, dtype=np.int64)

    def read(i: int) -> tuple[torch.Tensor, int]:
        return x[i], int(y[i])

    return SplitData(length=len(y), read=read, targets=y, array=x, origin=origin, rows=rows)


def build_handle(
    *,
    name: str,
    reader: str,
    classes: list[str],
    splits: dict[str, SplitData],
    pipeline: Pipeline,
    notes: list[str] | None = None,
    location: str = "",
    feature_names: list[str] | None = None,
    spec: DatasetSpec | None = None,
    cancel: threading.Event | None = None,
    moment_samples: int = MOMENT_SAMPLES,
    moment_values: int | None = None,
) -> DatasetHandle:
    """Finish a handle: measure the training split's mean and std for ``Normalize``."""
    notes = list(notes or [])
    base = splits.get("train") or next(iter(splits.values()))
    if spec is not None and spec.resize is not None:
        if pipeline.sample_type != "image":
            raise DatasetError(f"{name}: --resize applies to images, and this is a table. Leave it out.")
        pipeline = pipeline.with_(resize=spec.resize)
    # measured as training will see the samples: after the resize, which smooths them
    mean, std, note = scaled_moments(base, pipeline, cancel, moment_samples, moment_values)
    if note:
        notes.append(note)
    return DatasetHandle(
        name=name,
        reader=reader,  # type: ignore[arg-type]
        classes=classes,
        splits=splits,
        pipeline=pipeline.with_(mean=mean, std=std),
        notes=notes,
        location=location,
        feature_names=feature_names,
        spec=spec,
    )


def from_datasets(
    name: str,
    splits: dict[str, Dataset],
    classes: list[str],
    *,
    targets_known: bool = True,
) -> DatasetHandle:
    """Wrap plain torch datasets of ``(tensor, label)`` as a handle (for scripts and tests).

    Samples are taken as stored; their labels are read from a ``targets`` attribute when
    ``targets_known`` and the dataset has one, otherwise they are unknown until counted.
    """
    data: dict[str, SplitData] = {}
    first = None
    for split_name, ds in splits.items():
        targets = None
        if targets_known and hasattr(ds, "targets"):
            targets = np.asarray(ds.targets, dtype=np.int64)

        def read(i: int, ds=ds) -> tuple[torch.Tensor, int]:
            x, y = ds[i]
            return torch.as_tensor(x), int(y)

        data[split_name] = SplitData(length=len(ds), read=read, targets=targets, origin=type(ds).__name__)
        if first is None and len(ds):
            first = read(0)[0]
    if first is None:
        raise DatasetError(f"{name}: every split is empty.")
    if first.ndim == 1:
        pipeline = Pipeline(
            "table", (0.0,) * first.shape[0], (1.0,) * first.shape[0], (0.0,), (1.0,), mode="raw"
        )
    else:
        pipeline = Pipeline.for_images(first.shape[0], high=255.0 if first.dtype == torch.uint8 else 1.0)
    return build_handle(name=name, reader="custom", classes=classes, splits=data, pipeline=pipeline)
