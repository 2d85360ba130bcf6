"""The bundled dataset: scikit-learn's handwritten digits, 1,797 real 8×8 images.

Values are whole numbers 0..16 as stored by scikit-learn. There is no test split in
the original, so one is held out here: 20% of each class, seed 0, the same every run.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch

from dataloupe.core.data.datasets import DatasetHandle, build_handle, in_memory_split, stratified_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.settings import HOLDOUT_SEED, TEST_FRACTION


@functools.lru_cache(maxsize=1)
def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images (N×8×8, 0..16) and their labels, as ``sklearn.datasets.load_digits`` gives them.

    Reads the data file that ships inside scikit-learn directly when it is where scikit-learn
    keeps it: importing ``sklearn.datasets`` costs over a second, and this runs before the
    first sample can be drawn. Falls back to ``load_digits()`` otherwise; a test checks both agree.
    Parsed once per process (the text takes 20 ms; the file never changes) and read-only.
    """
    images, labels = _read_digits()
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",")
            return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images, bunch.target.astype(np.int64)


def open_digits(spec: DatasetSpec | None = None) -> DatasetHandle:
    """Load the digits and split them 80/20, stratified, with a fixed seed."""
    images_np, targets = load_digits_arrays()
    images = torch.from_numpy(images_np.astype(np.float32)).unsqueeze(1)  # N×1×8×8, 0..16
    train_idx, test_idx = stratified_split(targets, TEST_FRACTION, HOLDOUT_SEED)
    splits = {
        "train": in_memory_split(images[train_idx], targets[train_idx], "load_digits()"),
        "test": in_memory_split(images[test_idx], targets[test_idx], "load_digits()"),
    }
    pipeline = Pipeline.for_images(1, high=16.0, pixel_name="Scale(÷16 → 0..1)")
    return build_handle(
        name="digits",
        reader="digits",
        classes=[str(d) for d in range(10)],
        splits=splits,
        pipeline=pipeline,
        notes=[
            f"test split: {len(test_idx):,} of {len(targets):,} ({TEST_FRACTION:.0%} of each class) held out "
            f"by dataloupe, stratified, seed {HOLDOUT_SEED}",
            "stored values are whole numbers 0..16 (scikit-learn's load_digits)",
        ],
        location="scikit-learn (bundled, offline)",
        spec=spec,
    )
