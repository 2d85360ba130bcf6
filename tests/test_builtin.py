"""torchvision's built-in datasets: opened through torchvision, downloaded atomically, and failing clearly.

The real data holds only MNIST's test pair and training labels. Roots for torchvision's
MNIST class are built from those files; where a training pair is needed, it is a copy
of the test pair, and the tests say so.
"""

from __future__ import annotations

import gzip
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError, DownloadError
from dataloupe.core.readers import open_dataset

from support.makers import serve_folder

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def mnist_root(tmp_path: Path, mnist_dir: Path, *, compressed: bool) -> Path:
    """ROOT/MNIST/raw holding the real test pair, and (a copy of) it as the training pair."""
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in T10K:
        train_name = name.replace("t10k", "train")
        if compressed:
            shutil.copy(mnist_dir / name, raw / name)
            shutil.copy(mnist_dir / name, raw / train_name)  # training pair = copy of the test pair
        else:
            data = gzip.decompress((mnist_dir / name).read_bytes())
            (raw / name[:-3]).write_bytes(data)
            (raw / train_name[:-3]).write_bytes(data)
    return tmp_path / "root"


def test_torchvision_mnist_opens_a_root_built_from_the_real_files(tmp_path, mnist_dir):
    root = mnist_root(tmp_path, mnist_dir, compressed=False)
    handle = open_dataset(DatasetSpec("mnist", root=root))
    assert handle.reader == "builtin" and handle.name == "MNIST"
    assert handle.classes[7] == "7 - seven"  # torchvision's own class names
    test = handle.split("test")
    assert len(test) == 10_000
    x, y = test[0]
    assert (
        tuple(x.shape) == (1, 28, 28)
        and x.dtype == torch.float32
        and 0.0 <= float(x.min()) <= float(x.max()) <= 1.0
    )
    # the torchvision path and the IDX reader give the same pixels and labels
    idx = open_dataset(DatasetSpec(str(mnist_dir))).split("test")
    assert torch.equal(test.array, idx.array)
    assert np.array_equal(test.targets, idx.targets)
    # samples come through torchvision's __getitem__ (PIL) and match its data array
    for i in (0, 1234, 9999):
        raw, label = test.raw(i)
        assert torch.equal(raw, test.array[i]) and label == int(test.targets[i])


def test_compressed_files_under_raw_are_unpacked_without_a_network(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setenv("DATALOUPE_MIRROR", "http://127.0.0.1:9/")  # any fetch would fail
    root = mnist_root(tmp_path, mnist_dir, compressed=True)
    handle = open_dataset(DatasetSpec("mnist", root=root, download=True))
    assert len(handle.split("train")) == 10_000  # the copy of the test pair
    assert (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file()


def test_missing_dataset_without_download_says_what_to_do(tmp_path):
    with pytest.raises(DatasetError) as info:
        open_dataset(DatasetSpec("kmnist", root=tmp_path))
    text = str(info.value)
    assert "KMNIST is not under" in text and str(tmp_path) in text
    assert "--download" in text and "dataloupe digits" in text
    assert f"{tmp_path}/KMNIST/raw/" in text


def test_failed_download_names_dataset_root_reason_and_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv("DATALOUPE_MIRROR", "http://127.0.0.1:9/")  # nothing listens on port 9
    with pytest.raises(DownloadError) as info:
        open_dataset(DatasetSpec("fashion-mnist", root=tmp_path, download=True))
    text = str(info.value)
    assert text.startswith(f"Could not download Fashion-MNIST to {tmp_path}")
    assert "refused" in text.lower()  # the reason
    assert "put its files" in text and f"{tmp_path}/FashionMNIST/raw/" in text and "dataloupe digits" in text
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []  # no partial file a later run could take for data


@pytest.fixture
def local_mirror(tmp_path, mnist_dir, monkeypatch):
    """An HTTP server on localhost serving the real MNIST files (no training images: they are not here)."""
    served = tmp_path / "served"
    served.mkdir()
    for name in (*T10K, "train-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_dir / name, served / name)
    with serve_folder(served) as base:
        monkeypatch.setenv("DATALOUPE_MIRROR", base)
        yield served


def test_download_fetches_verifies_and_reports_progress(tmp_path, local_mirror):
    from dataloupe.core.readers.download import Resource, fetch, md5sum

    seen = []
    dest = tmp_path / "dl" / "t10k-images-idx3-ubyte.gz"
    url = f"{__import__('os').environ['DATALOUPE_MIRROR']}t10k-images-idx3-ubyte.gz"
    expected_md5 = md5sum(local_mirror / "t10k-images-idx3-ubyte.gz")
    fetch(Resource((url,), dest, expected_md5), progress=seen.append)
    assert dest.read_bytes() == (local_mirror / "t10k-images-idx3-ubyte.gz").read_bytes()
    assert len(seen) > 3 and seen[-1].done == seen[-1].total == dest.stat().st_size
    assert not list(dest.parent.glob("*.part"))


def test_download_from_a_mirror_with_a_missing_file_keeps_only_complete_files(tmp_path, local_mirror):
    # The mirror has the real test pair and training labels (their MD5s match torchvision's) but
    # no training images, so the download must fail on that one file and leave no partial file.
    with pytest.raises(DownloadError, match=r"train-images-idx3-ubyte.gz failed.*404"):
        open_dataset(DatasetSpec("mnist", root=tmp_path / "root", download=True))
    raw = tmp_path / "root" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == []  # train-images is fetched first; nothing else was
    assert not list((tmp_path / "root").rglob("*.part"))


def test_checksum_mismatch_is_refused_and_removed(tmp_path, local_mirror):
    from dataloupe.core.readers.download import Resource, fetch

    url = f"{__import__('os').environ['DATALOUPE_MIRROR']}t10k-labels-idx1-ubyte.gz"
    dest = tmp_path / "x.gz"
    with pytest.raises(DownloadError, match="MD5 checksum does not match"):
        fetch(Resource((url,), dest, "0" * 32))
    assert not dest.exists() and not list(tmp_path.glob("*.part"))


def test_cancelled_download_leaves_nothing(tmp_path, local_mirror):
    from dataloupe.core.errors import Cancelled
    from dataloupe.core.readers.download import Resource, fetch

    cancel = threading.Event()

    def progress(p):
        if p.done > 0:
            cancel.set()

    url = f"{__import__('os').environ['DATALOUPE_MIRROR']}t10k-images-idx3-ubyte.gz"
    dest = tmp_path / "dl" / "y.gz"
    with pytest.raises(Cancelled):
        fetch(Resource((url,), dest, None), progress=progress, cancel=cancel)
    assert list(dest.parent.iterdir()) == []
