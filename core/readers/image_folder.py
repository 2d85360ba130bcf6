"""A folder of images in class sub-folders (``FOLDER/cat/001.png``), as torchvision's ImageFolder reads it.

If the folder holds ``train/`` and ``test/`` (or ``val/``) sub-folders, those are the
splits, and classes are matched by folder name across them. Files are listed with
torchvision's own ``make_dataset``; every image is then decoded once, in the loading
worker with progress, so that a file that is not an image or is truncated is skipped
and counted instead of failing a batch later. Small folders stay in memory.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import torch

from core.datasets import DatasetHandle, SplitData, build_handle
from core.errors import DatasetError
from core.pipeline import Pipeline
from core.progress import ProgressCallback, check_cancel, report
from core.sources import DatasetSpec
from core.wording import format_shape, plural

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
CACHE_BYTES = 512 * 2**20
"""Decoded images are kept in memory while they take less than this."""
SPLIT_DIRS = {"train": ("train", "training"), "test": ("test", "val", "valid", "validation")}


def _subdirs(folder: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))


def _split_folders(folder: Path) -> dict[str, Path]:
    names = {n.lower(): n for n in _subdirs(folder)}
    found: dict[str, Path] = {}
    for split, options in SPLIT_DIRS.items():
        for option in options:
            if option in names:
                found[split] = folder / names[option]
                break
    return found if "train" in found or "test" in found else {}


def _decode(path: str):
    """Open and fully decode one image (PIL), raising on anything unreadable."""
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        return img.copy()


def open_image_folder(
    spec: DatasetSpec,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """List, verify and (when small) load an image-class folder."""
    from torchvision.datasets.folder import make_dataset
    from torchvision.transforms.functional import pil_to_tensor

    folder = Path(spec.source).expanduser()
    split_dirs = _split_folders(folder) or {"train": folder}
    class_names = sorted({c for d in split_dirs.values() for c in _subdirs(d)})
    if not class_names:
        files = [e.name for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")]
        if not files:
            raise DatasetError(
                f"{folder}: the folder is empty. An image dataset needs one sub-folder per class, "
                f"with the images inside: {folder}/cat/001.png, {folder}/dog/001.png."
            )
        raise DatasetError(
            f"{folder}: {len(files):,} files but no class sub-folders. Put each class's images in a "
            f"sub-folder named after the class: {folder}/cat/001.png."
        )
    class_to_idx = {c: i for i, c in enumerate(class_names)}

    skipped_ext: list[str] = []

    def is_valid_file(path: str) -> bool:
        name = os.path.basename(path)
        if name.startswith("."):
            return False
        if name.lower().endswith(IMAGE_EXTENSIONS):
            return True
        skipped_ext.append(path)
        return False

    listed = {
        s: make_dataset(str(d), class_to_idx, is_valid_file=is_valid_file, allow_empty=True)
        for s, d in split_dirs.items()
    }
    total = sum(len(v) for v in listed.values())

    # Decode everything once: unreadable files are skipped and counted, not fatal.
    broken: list[str] = []
    decoded: dict[str, list] = {}
    kept: dict[str, list[tuple[str, int]]] = {}
    modes: set[str] = set()
    cache_bytes = 0
    done = 0
    for split, items in listed.items():
        decoded[split], kept[split] = [], []
        for path, label in items:
            check_cancel(cancel)
            try:
                img = _decode(path)
            except Exception:  # noqa: BLE001 - PIL raises many kinds; any of them means "not usable"
                broken.append(path)
            else:
                modes.add(img.mode)
                kept[split].append((path, label))
                cache_bytes += img.width * img.height * 3
                decoded[split].append(img if cache_bytes < CACHE_BYTES else None)
            done += 1
            if done % 64 == 0 or done == total:
                report(progress, f"checking images in {folder.name}", done, total)

    grey = modes <= {"L", "1", "I", "I;16", "F"}
    mode, channels = ("L", 1) if grey else ("RGB", 3)

    # Every class must have at least one readable image somewhere.
    counts = np.zeros(len(class_names), dtype=np.int64)
    for items in kept.values():
        for _, label in items:
            counts[label] += 1
    empty = [class_names[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        where = ", ".join(f"{folder}/{c}" if len(split_dirs) == 1 else c for c in empty[:5])
        extra = (
            f" ({len(broken)} unreadable and {len(skipped_ext)} non-image files were skipped)"
            if broken or skipped_ext
            else ""
        )
        raise DatasetError(
            f"{folder}: class folder{'s' if len(empty) > 1 else ''} {where} "
            f"{'have' if len(empty) > 1 else 'has'} no readable images{extra}. "
            "Add images to it or remove the folder."
        )

    splits: dict[str, SplitData] = {}
    shapes: set[tuple[int, ...]] = set()
    for split, items in kept.items():
        if not items:
            continue
        targets = np.array([label for _, label in items], dtype=np.int64)
        paths = [p for p, _ in items]
        tensors = [pil_to_tensor(img.convert(mode)) if img is not None else None for img in decoded[split]]
        shapes.update(tuple(t.shape) for t in tensors if t is not None)
        array = None
        if tensors and all(t is not None for t in tensors) and len({tuple(t.shape) for t in tensors}) == 1:
            array = torch.stack(tensors)

        def read(i: int, paths=paths, targets=targets, tensors=tensors) -> tuple[torch.Tensor, int]:
            t = tensors[i]
            if t is None:
                try:
                    t = pil_to_tensor(_decode(paths[i]).convert(mode))
                except Exception as e:  # noqa: BLE001
                    raise DatasetError(f"{paths[i]}: cannot be read any more ({e}).") from e
            return t, int(targets[i])

        splits[split] = SplitData(
            length=len(items), read=read, targets=targets, array=array, origin=str(split_dirs[split])
        )
        decoded[split] = []

    notes: list[str] = []
    if len(split_dirs) == 1:
        notes.append(f"no test split: make {folder}/train/ and {folder}/test/ (or val/) to hold one out")
    else:
        notes.append("splits: " + ", ".join(f"{s} = {d.name}/" for s, d in split_dirs.items()))
    if skipped_ext:
        example = os.path.relpath(skipped_ext[0], folder)
        notes.append(f"skipped {plural(len(skipped_ext), 'non-image file')} (e.g. {example})")
    if broken:
        example = os.path.relpath(broken[0], folder)
        notes.append(
            f"skipped {plural(len(broken), 'image')} that could not be decoded, truncated or damaged (e.g. {example})"
        )
    if len(shapes) > 1:
        sizes = sorted(shapes, key=lambda s: s[1] * s[2])
        notes.append(
            f"images differ in size ({len(shapes)} shapes, {format_shape(sizes[0])} to "
            f"{format_shape(sizes[-1])}); batches need one size"
        )
    pipeline = Pipeline.for_images(channels)
    return build_handle(
        name=folder.name,
        reader="folder",
        classes=class_names,
        splits=splits,
        pipeline=pipeline,
        notes=notes,
        location=str(folder),
        spec=spec,
        cancel=cancel,
    )
