"""Raw IDX files, the format MNIST and its relatives ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the data. Images are
``0x00000803`` (uint8, N×H×W) and labels ``0x00000801`` (uint8, N). Files may be
gzip-compressed. Every way a file can be wrong becomes a :class:`DatasetError` that
names the file and says what was expected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.datasets import DatasetHandle, SplitData, build_handle, in_memory_split
from core.errors import DatasetError
from core.pipeline import Pipeline
from core.readers.files import read_bytes
from core.sources import IDX_NAMES, DatasetSpec, find_idx_file
from core.wording import format_shape

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_TYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path, expect_magic: int | None = None) -> np.ndarray:
    """Read one IDX file into an array, checking its magic number, dimensions and length."""
    data = read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: only {len(data)} bytes; an IDX file starts with a 4-byte magic number.")
    magic = int.from_bytes(data[:4], "big")
    zero, type_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or type_code not in _TYPES or ndim == 0:
        raise DatasetError(
            f"{path}: wrong magic number 0x{magic:08X}; this is not an IDX file "
            f"(images start with 0x{IMAGES_MAGIC:08X}, labels with 0x{LABELS_MAGIC:08X})."
        )
    if expect_magic is not None and magic != expect_magic:
        what = "images" if expect_magic == IMAGES_MAGIC else "labels"
        raise DatasetError(
            f"{path}: magic number 0x{magic:08X}, but an IDX {what} file starts with 0x{expect_magic:08X}. "
            "Are the image and label files swapped or renamed?"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: the header is cut short ({len(data)} bytes, {header} needed).")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[type_code])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(data) - header
    if have < need:
        shape = format_shape(dims)
        raise DatasetError(
            f"{path}: truncated: the header promises {shape} values ({need:,} bytes) but only "
            f"{have:,} bytes follow. The file is incomplete; download or copy it again."
        )
    if have > need:
        raise DatasetError(
            f"{path}: {have - need:,} bytes more than its header describes; the file is damaged."
        )
    return np.frombuffer(data, dtype=dtype, count=int(np.prod(dims)), offset=header).reshape(dims)


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[torch.Tensor, np.ndarray]:
    """Images as N×1×H×W uint8 and labels as int64, checked against each other."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{images_path.name} holds {images.shape[0]:,} images but {labels_path.name} holds "
            f"{labels.shape[0]:,} labels; they must be the same split. Check that both files come from one download."
        )
    x = torch.from_numpy(images.astype(np.uint8, copy=True)).unsqueeze(1)
    return x, labels.astype(np.int64)


def open_idx_folder(spec: DatasetSpec) -> DatasetHandle:
    """Open a folder holding ``train-*``/``t10k-*`` IDX files (plain or .gz)."""
    folder = Path(spec.source).expanduser()
    splits: dict[str, SplitData] = {}
    notes: list[str] = []
    for split, (images_stem, labels_stem) in IDX_NAMES.items():
        images_path = find_idx_file(folder, images_stem)
        labels_path = find_idx_file(folder, labels_stem)
        if images_path is None:
            continue
        if labels_path is None:
            raise DatasetError(
                f"{folder}: found {images_path.name} but no {labels_stem} (or .gz) beside it. "
                "Put the labels file of the same split in this folder."
            )
        x, y = read_idx_pair(images_path, labels_path)
        splits[split] = in_memory_split(x, y, origin=images_path.name)
    if not splits:
        raise DatasetError(f"{folder}: no IDX image files here.")
    for split, (images_stem, labels_stem) in IDX_NAMES.items():
        if split not in splits:
            note = f"only a {' and '.join(splits)} split: no {images_stem} (or .gz) in {folder}"
            if find_idx_file(folder, labels_stem):
                note += f" ({labels_stem} is there without its images)"
            notes.append(note)
    labels = np.concatenate([s.targets for s in splits.values()])
    n_classes = int(labels.max()) + 1 if labels.size else 0
    pipeline = Pipeline.for_images(1)
    return build_handle(
        name=folder.name or str(folder),
        reader="idx",
        classes=[str(c) for c in range(n_classes)],
        splits=splits,
        pipeline=pipeline,
        notes=notes,
        location=str(folder),
        spec=spec,
    )
