"""The IDX reader: the real MNIST test split, and every way an IDX file can be wrong."""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers import open_dataset
from dataloupe.core.readers.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx


def write_idx(
    path: Path, array: np.ndarray, magic: int | None = None, *, compress: bool = False, cut: int = 0
) -> Path:
    """Write ``array`` (uint8) as an IDX file; ``cut`` drops that many bytes from the end."""
    ndim = array.ndim
    magic = magic if magic is not None else (0x00000800 | ndim)
    data = (
        struct.pack(">I", magic)
        + b"".join(struct.pack(">I", d) for d in array.shape)
        + array.astype(np.uint8).tobytes()
    )
    if cut:
        data = data[:-cut]
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def small_idx_folder(folder: Path, n_train=20, n_test=10, compress=False) -> Path:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 6, 5)), compress=compress
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n) % 3, compress=compress)
    return folder


@pytest.mark.parametrize("compress", [False, True])
def test_idx_folder_reads_both_splits(tmp_path, compress):
    folder = small_idx_folder(tmp_path / "idx", compress=compress)
    handle = open_dataset(DatasetSpec(str(folder)))
    assert handle.reader == "idx"
    assert handle.split_names == ["train", "test"]
    train = handle.split("train")
    assert len(train) == 20 and len(handle.split("test")) == 10
    x, y = train[4]
    assert tuple(x.shape) == (1, 6, 5)  # channel first, as ToTensor gives it
    assert y == 4 % 3
    assert handle.classes == ["0", "1", "2"]
    raw, _ = train.raw(4)
    assert raw.dtype.is_floating_point is False and int(raw.max()) <= 255


def test_real_mnist_test_split_reads_all_images_and_labels(mnist_dir):
    handle = open_dataset(DatasetSpec(str(mnist_dir)))
    test = handle.split("test")
    assert len(test) == 10_000
    assert test.array.shape == (10_000, 1, 28, 28)
    assert len(test.targets) == 10_000 == test.array.shape[0]
    assert set(np.unique(test.targets)) == set(range(10))
    # the labels file on its own agrees with the reader
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC)
    assert np.array_equal(labels.astype(np.int64), test.targets)
    # and the images are real digits, not blank: ink covers roughly a fifth of the pixels
    ink = float((test.array > 0).float().mean())
    assert 0.1 < ink < 0.3


def test_real_mnist_folder_has_only_a_test_split_and_says_so(mnist_dir):
    handle = open_dataset(DatasetSpec(str(mnist_dir)))
    assert handle.split_names == ["test"]
    assert handle.default_split("train") == "test"
    note = " ".join(handle.notes)
    assert "only a test split" in note and "train-images-idx3-ubyte" in note
    with pytest.raises(DatasetError, match="no train split"):
        handle.split("train")


def test_wrong_magic_number(tmp_path):
    folder = small_idx_folder(tmp_path / "idx")
    write_idx(folder / "train-images-idx3-ubyte", np.zeros((20, 6, 5)), magic=0x12345678)
    with pytest.raises(DatasetError, match=r"wrong magic number 0x12345678.*0x00000803"):
        open_dataset(DatasetSpec(str(folder)))


def test_images_and_labels_swapped(tmp_path):
    folder = small_idx_folder(tmp_path / "idx")
    shutil.copy(folder / "train-labels-idx1-ubyte", folder / "train-images-idx3-ubyte")
    with pytest.raises(DatasetError, match="swapped"):
        open_dataset(DatasetSpec(str(folder)))


def test_truncated_data(tmp_path):
    folder = small_idx_folder(tmp_path / "idx")
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((10, 6, 5)), cut=7)
    with pytest.raises(DatasetError, match=r"truncated.*t10k-images|t10k-images.*truncated"):
        open_dataset(DatasetSpec(str(folder)))


def test_truncated_gzip(tmp_path):
    folder = small_idx_folder(tmp_path / "idx", compress=True)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DatasetError, match="gzip data is damaged or cut short"):
        open_dataset(DatasetSpec(str(folder)))


def test_image_and_label_counts_differ(tmp_path):
    folder = small_idx_folder(tmp_path / "idx")
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(19))
    with pytest.raises(DatasetError, match="20 images but train-labels-idx1-ubyte holds 19 labels"):
        open_dataset(DatasetSpec(str(folder)))


def test_images_without_labels(tmp_path):
    folder = small_idx_folder(tmp_path / "idx")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="no t10k-labels-idx1-ubyte"):
        open_dataset(DatasetSpec(str(folder)))


def test_read_idx_checks_header_length(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(struct.pack(">I", IMAGES_MAGIC) + b"\x00\x00")
    with pytest.raises(DatasetError, match="header is cut short"):
        read_idx(p, IMAGES_MAGIC)


def test_reading_reports_progress_in_bytes(mnist_dir):
    seen = []
    open_dataset(DatasetSpec(str(mnist_dir)), progress=seen.append)
    reads = [p for p in seen if p.what.startswith("reading t10k-images")]
    assert reads and reads[-1].done == reads[-1].total == 10_000 * 28 * 28
    assert all(p.done <= p.total for p in reads)
