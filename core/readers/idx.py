"""Raw IDX files, the format MNIST and its relatives ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the data. Images are
``0x00000803`` (uint8, N×H×W) and labels ``0x00000801`` (uint8, N). Files may be
gzip-compressed. Every way a file can be wrong becomes a :class:`DatasetError` that
names the file and says what was expected.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from pathlib import Path

import numpy as np
import torch

from dataloupe.core.data.datasets import DatasetHandle, SplitData, build_handle, in_memory_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import IDX_NAMES, DatasetSpec, find_idx_file
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.wording import format_shape

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


READ_BLOCK = 8 * 2**20
"""Bytes read (and decompressed) at a time: progress and cancel come in between."""


def read_idx(
    path: Path,
    expect_magic: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Read one IDX file into an array, checking its magic number, dimensions and length.

    The data is read (and decompressed, for .gz) straight into the array, block by block, so
    memory peaks at the array's own size.
    """
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as f:
            return _read_idx_stream(path, f, expect_magic, progress, cancel)
    except (OSError, EOFError, zlib.error) as e:
        if gz:
            raise DatasetError(
                f"{path}: the gzip data is damaged or cut short ({e}). Download the file again, "
                "or decompress a good copy next to it."
            ) from e
        raise DatasetError(f"{path}: cannot read it ({e.strerror or e}).") from e


def _read_idx_stream(path: Path, f, expect_magic, progress, cancel) -> np.ndarray:
    head = f.read(4)
    if len(head) < 4:
        raise DatasetError(f"{path}: only {len(head)} bytes; an IDX file starts with a 4-byte magic number.")
    magic = int.from_bytes(head, "big")
    zero, type_code, ndim = int.from_bytes(head[:2], "big"), head[2], head[3]
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
    rest = f.read(4 * ndim)
    if len(rest) < 4 * ndim:
        raise DatasetError(f"{path}: the header is cut short ({4 + len(rest)} bytes, {header} needed).")
    dims = tuple(int.from_bytes(rest[4 * i : 4 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[type_code])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    out = np.empty(dims, dtype=dtype)
    view = memoryview(out.reshape(-1).view(np.uint8))
    have = 0
    what = f"reading {path.name}"
    while have < need:
        check_cancel(cancel)
        n = f.readinto(view[have : min(need, have + READ_BLOCK)])
        if not n:
            break
        have += n
        report(progress, what, have, need)
    if have < need:
        raise DatasetError(
            f"{path}: truncated: the header promises {format_shape(dims)} values ({need:,} bytes) but only "
            f"{have:,} bytes follow. The file is incomplete; download or copy it again."
        )
    extra = len(f.read(READ_BLOCK))
    if extra:
        raise DatasetError(f"{path}: {extra:,} bytes more than its header describes; the file is damaged.")
    return out


def read_idx_pair(
    images_path: Path,
    labels_path: Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[torch.Tensor, np.ndarray]:
    """Images as N×1×H×W uint8 and labels as int64, checked against each other."""
    images = read_idx(images_path, IMAGES_MAGIC, progress, cancel)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{images_path.name} holds {images.shape[0]:,} images but {labels_path.name} holds "
            f"{labels.shape[0]:,} labels; they must be the same split. Check that both files come from one download."
        )
    x = torch.from_numpy(images if images.dtype == np.uint8 else images.astype(np.uint8)).unsqueeze(1)
    return x, labels.astype(np.int64)


def open_idx_folder(
    spec: DatasetSpec, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> DatasetHandle:
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
        x, y = read_idx_pair(images_path, labels_path, progress, cancel)
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
