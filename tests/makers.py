"""Small datasets made on the fly for tests (imported by conftest and by tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


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
