"""Shared fixtures: the real data in ``../shared/data``, small datasets made on the fly, and app helpers.

Real-data tests use ``shared_data``: it skips when ``DATALOUPE_TEST_DATA`` is unset (a
user's clone) and fails when it is set but the files are missing (CI must not skip).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REAL_FILES = (
    "mnist/t10k-images-idx3-ubyte.gz",
    "mnist/t10k-labels-idx1-ubyte.gz",
    "mnist/train-labels-idx1-ubyte.gz",
    "wine/winequality-red.csv",
    "wine/winequality-white.csv",
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real test data; skips only when DATALOUPE_TEST_DATA is unset."""
    env = os.environ.get("DATALOUPE_TEST_DATA")
    if not env:
        pytest.skip("DATALOUPE_TEST_DATA is not set (real-data tests run in CI)")
    root = Path(env)
    missing = [f for f in REAL_FILES if not (root / f).is_file()]
    if missing:
        pytest.fail(f"DATALOUPE_TEST_DATA={env} is set but these files are missing: {', '.join(missing)}")
    return root


@pytest.fixture(scope="session")
def mnist_dir(shared_data: Path) -> Path:
    """../shared/data/mnist: the t10k pair and the training labels, gzip-compressed."""
    return shared_data / "mnist"


@pytest.fixture(scope="session")
def red_wine(shared_data: Path) -> Path:
    return shared_data / "wine" / "winequality-red.csv"


@pytest.fixture(scope="session")
def white_wine(shared_data: Path) -> Path:
    return shared_data / "wine" / "winequality-white.csv"


@pytest.fixture(scope="session")
def digits():
    """The bundled digits, opened once per session."""
    from core.datasets import open_dataset
    from core.sources import DatasetSpec

    return open_dataset(DatasetSpec("digits"))


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path):
    """The 10,000 real MNIST test images through the IDX reader (only a test split)."""
    from core.datasets import open_dataset
    from core.sources import DatasetSpec

    return open_dataset(DatasetSpec(str(mnist_dir)))


def write_image_folder(root: Path, counts: dict[str, int], size=(12, 10), mode="L", seed=0) -> Path:
    """Write ``counts[cls]`` random PNG images per class sub-folder under ``root``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for cls, n in counts.items():
        d = root / cls
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            shape = size if mode == "L" else (*size, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode).save(d / f"{i:03d}.png")
    return root


@pytest.fixture
def image_folder_factory(tmp_path: Path):
    """Make image folders: ``factory({"cat": 5, "dog": 20}, name="pets")``."""

    def make(counts: dict[str, int], name: str = "images", **kw) -> Path:
        return write_image_folder(tmp_path / name, counts, **kw)

    return make


async def settle(app, pilot, rounds: int = 20) -> None:
    """Wait until no worker is running and the screen has caught up with the messages they posted."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
