"""A folder of images in class sub-folders (``FOLDER/cat/001.png``), as torchvision's ImageFolder reads it.

If the folder holds ``train/`` and ``test/`` (or ``val/``) sub-folders, those are the
splits, and classes are matched by folder name across them. Opening lists the files and
nothing more (see :mod:`dataloupe.core.readers.image_files`): memory holds paths and labels, and
images are decoded when a sample is read, within a fixed cache. The checklist's
"readable" item decodes every file once, in the background, and names the ones that
cannot be read; wherever samples are read, such a file is skipped.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('path/to/folder')).describe())"
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from dataloupe.core.data.datasets import DatasetHandle, SplitData, build_handle
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback
from dataloupe.core.readers.image_files import (
    MAX_PIXELS,
    DecodedCache,
    ImageFiles,
    Unreadable,
    image_header,
    list_images,
)
from dataloupe.core.wording import plural

SPLIT_DIRS = {"train": ("train", "training"), "test": ("test", "val", "valid", "validation")}
MOMENT_FILES = 256
"""Images read at open to estimate the mean and std (evenly spread); the rest wait for a sample read."""
MOMENT_VALUES = 2**24
"""...or fewer, once this many pixel values are read: seven 1024×768 photos, or all 256 small images."""
GREY_MODES = {"L", "1", "I", "I;16", "F", "LA"}
"""PIL modes read as one grey channel."""


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


def _mode_of(listed: dict[str, list[str]]) -> str:
    """Grey ("L") when the first readable image is grey, else "RGB"; read from headers only."""
    for paths in listed.values():
        for path in paths[:32]:
            try:
                mode, _ = image_header(path)
            except Unreadable:
                continue
            return "L" if mode in GREY_MODES else "RGB"
    return "RGB"


def open_image_folder(
    spec: DatasetSpec,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """List an image-class folder: paths and labels only; images are decoded when read."""
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

    seen: set[int] = set()
    present = {s: [c if (d / c).is_dir() else "" for c in class_names] for s, d in split_dirs.items()}
    class_roots = [os.path.realpath(d / c) for s, d in split_dirs.items() for c in present[s] if c]
    listings = {
        s: list_images(d, present[s], progress, cancel, seen, class_roots) for s, d in split_dirs.items()
    }
    # a class missing from one split lists nothing there ("" is skipped below)
    counts = np.zeros(len(class_names), dtype=np.int64)
    for listing in listings.values():
        counts += np.bincount(np.asarray(listing.labels, dtype=np.int64), minlength=len(class_names))
    other = sum(listing.other_files for listing in listings.values())
    empty = [class_names[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        where = ", ".join(f"{folder}/{c}" if len(split_dirs) == 1 else c for c in empty[:5])
        extra = f" ({plural(other, 'non-image file')} skipped)" if other else ""
        raise DatasetError(
            f"{folder}: class folder{'s' if len(empty) > 1 else ''} {where} "
            f"{'have' if len(empty) > 1 else 'has'} no images{extra}. "
            "Add images to it or remove the folder."
        )

    mode = _mode_of({s: listing.paths for s, listing in listings.items()})
    cache = DecodedCache()
    max_pixels = spec.max_pixels or MAX_PIXELS
    splits: dict[str, SplitData] = {}
    for split, listing in listings.items():
        if not listing.paths:
            continue
        targets = np.asarray(listing.labels, dtype=np.int64)
        files = ImageFiles(split, listing.paths, targets, mode, cache, max_pixels)
        files.other_files, files.other_examples = listing.other_files, listing.other_examples
        files.root = str(folder)
        splits[split] = SplitData(
            length=len(files),
            read=files.read,
            targets=targets,
            origin=str(split_dirs[split]),
            files=files,
        )

    notes: list[str] = []
    if len(split_dirs) == 1:
        notes.append(f"no test split: make {folder}/train/ and {folder}/test/ (or val/) to hold one out")
    else:
        notes.append("splits: " + ", ".join(f"{s} = {d.name}/" for s, d in split_dirs.items()))
    if other:
        examples = [p for listing in listings.values() for p in listing.other_examples]
        notes.append(
            f"skipped {plural(other, 'non-image file')}, as torchvision's ImageFolder would "
            f"(e.g. {os.path.relpath(examples[0], folder)})"
        )
    links = sum(listing.links_skipped for listing in listings.values())
    if links:
        notes.append(
            f"{plural(links, 'link')} not followed: each led to a folder or file already listed (a loop or a copy)"
        )
    into_classes = sum(listing.links_into_classes for listing in listings.values())
    if into_classes:
        notes.append(
            f"{plural(into_classes, 'link')} into other classes skipped: a file belongs to the class folder "
            "it is really in"
        )
    if spec.max_pixels:
        notes.append(f"images over {spec.max_pixels:,} pixels are skipped (--max-pixels)")
    notes.append(
        "images are decoded when read; the checklist's readable item reads every file and names the bad ones"
    )
    pipeline = Pipeline.for_images(1 if mode == "L" else 3)
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
        moment_samples=MOMENT_FILES,
        moment_values=MOMENT_VALUES,
    )
