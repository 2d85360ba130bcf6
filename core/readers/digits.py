"""The bundled dataset: scikit-learn's handwritten digits, 1,797 real 8×8 images.

Values are whole numbers 0..16 as stored by scikit-learn. There is no test split in
the original, so one is held out here: 20% of each class, seed 0, the same every run.
"""

from __future__ import annotations

import numpy as np
import torch

from core.datasets import DatasetHandle, build_handle, in_memory_split, stratified_split
from core.pipeline import Pipeline
from core.sources import DatasetSpec

TEST_FRACTION = 0.2
SEED = 0


def open_digits(spec: DatasetSpec | None = None) -> DatasetHandle:
    """Load the digits and split them 80/20, stratified, with a fixed seed."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32)).unsqueeze(1)  # N×1×8×8, 0..16
    targets = bunch.target.astype(np.int64)
    train_idx, test_idx = stratified_split(targets, TEST_FRACTION, SEED)
    splits = {
        "train": in_memory_split(images[train_idx], targets[train_idx], "load_digits()"),
        "test": in_memory_split(images[test_idx], targets[test_idx], "load_digits()"),
    }
    pipeline = Pipeline(
        kind="image",
        low=(0.0,),
        high=(16.0,),
        mean=(0.0,),
        std=(1.0,),
        pixel_name="Scale(÷16 → 0..1)",
    )
    return build_handle(
        name="digits",
        kind="digits",
        classes=[str(d) for d in range(10)],
        splits=splits,
        pipeline=pipeline,
        notes=[
            f"test split: {len(test_idx):,} of {len(targets):,} ({TEST_FRACTION:.0%} of each class) held out "
            f"by dataloupe, stratified, seed {SEED}",
            "stored values are whole numbers 0..16 (scikit-learn's load_digits)",
        ],
        location="scikit-learn (bundled, offline)",
        spec=spec,
    )
