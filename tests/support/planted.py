"""A small image dataset with defects planted where the deep checks must find them.

Three classes of 16×16 grey images: each a class pattern (a horizontal bar, a vertical bar, a
ring) over smooth noise of its own, so that two samples of one class are never near copies.
Then: three training labels flipped, two test images replaced by shifted, brighter copies of
training images, two training images replaced by blank grey ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

SIDE = 16
PER_CLASS = {"train": 60, "test": 30}
FLIPS = (5, 77, 140)
"""Training samples whose label is moved to the next class."""
COPIES = {3: 10, 50: 100}
"""Test sample → the training sample it is a shifted, brighter copy of."""
BLANKS = (20, 120)
"""Training samples replaced by near-blank grey images."""


@dataclass
class Planted:
    x: dict[str, np.ndarray]
    """Per split: N×16×16 uint8."""
    y: dict[str, np.ndarray]
    """Per split: the labels as given (with the flips)."""


def _templates() -> np.ndarray:
    t = np.zeros((3, SIDE, SIDE))
    t[0, 6:10, :] = 1
    t[1, :, 6:10] = 1
    yy, xx = np.mgrid[:SIDE, :SIDE]
    r = np.hypot(yy - 7.5, xx - 7.5)
    t[2][(r > 4) & (r < 7)] = 1
    return t


def planted(seed: int = 0) -> Planted:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    t = _templates()
    x, y = {}, {}
    for split, per in PER_CLASS.items():
        labels = np.repeat(np.arange(3), per)
        rng.shuffle(labels)
        coarse = torch.rand(len(labels), 1, 8, 8)
        noise = F.interpolate(coarse, size=(SIDE, SIDE), mode="bilinear", align_corners=False)[:, 0].numpy()
        images = 0.45 * t[labels] + 0.55 * noise
        images[:, :2] = images[:, -2:] = images[:, :, :2] = images[:, :, -2:] = (
            0  # a dark frame, as digits have
        )
        x[split] = np.clip(images * 230, 0, 255).astype(np.uint8)
        y[split] = labels.astype(np.int64)
    for i in FLIPS:
        y["train"][i] = (y["train"][i] + 1) % 3
    for i in BLANKS:
        x["train"][i] = np.clip(128 + rng.normal(0, 1, (SIDE, SIDE)), 0, 255).astype(np.uint8)
    for t_i, s_i in COPIES.items():
        shifted = np.roll(x["train"][s_i].astype(np.float64), (1, -1), (0, 1))
        x["test"][t_i] = np.clip(shifted * 1.1 + 15, 0, 255).astype(np.uint8)
        y["test"][t_i] = y["train"][s_i]
    return Planted(x, y)


def one_thread():
    """torch on one thread while a test trains fold models, as ``dataloupe`` itself runs on a 2-core
    machine (``dataloupe.core.threads``): two threads on a busy machine made the tests 4× slower.
    Used as an autouse fixture by the deep tests."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def write_planted_folder(root: Path, data: Planted) -> dict[tuple[str, int], str]:
    """The planted images as PNG files, ``root/split/class/NNN.png``; returns each sample's path
    relative to ``root``."""
    from PIL import Image

    paths = {}
    for split in data.x:
        for i, (img, label) in enumerate(zip(data.x[split], data.y[split], strict=True)):
            rel = Path(split) / str(int(label)) / f"{i:03d}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / rel)
            paths[(split, i)] = str(rel)
    return paths
