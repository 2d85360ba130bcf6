"""Images kept inside shards (Arrow, Parquet, tar), decoded on demand like an image folder's files.

A shard reader hands over each split as a :class:`RowSource` (the encoded bytes of sample ``i``
and where it lives) with the labels it read without decoding a picture. :class:`ShardImages`
is an :class:`~dataloupe.core.readers.image_files.ImageFiles` whose "files" are those rows: the same
cache, the same skipping of an unreadable sample, the same "readable" check. :func:`image_handle`
finishes the handle for all three readers.

    python -c "from dataloupe.core.readers.shard_images import guess_columns; \
print(guess_columns(['img', 'label', 'id'], None, image_columns=['img']))"
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch

from dataloupe.core.data.datasets import DatasetHandle, SplitData, build_handle
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.samples import INPUT_KEYS, LABEL_KEYS, to_stored
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers.image_files import (
    MAX_PIXELS,
    DecodedCache,
    ImageFiles,
    Unreadable,
    decode_image,
    image_header,
)
from dataloupe.core.readers.image_folder import GREY_MODES, MOMENT_FILES, MOMENT_VALUES
from dataloupe.core.wording import plural


class RowSource(Protocol):
    """One split's encoded samples, wherever they are kept."""

    def __len__(self) -> int: ...

    def payload(self, i: int) -> bytes:
        """The encoded input of sample ``i`` (PNG/JPEG/WebP bytes, or a ``.npy`` file's bytes)."""
        ...

    def where(self, i: int) -> str:
        """Where sample ``i`` is kept, for the user: "data/train-00000-of-00004.parquet, row 17"."""
        ...


class Places(Sequence):
    """Where each sample lives, written when asked for (``ImageFiles.paths`` without a list of strings)."""

    def __init__(self, source: RowSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self.source.where(j) for j in range(*i.indices(len(self)))]
        return self.source.where(int(i))


def decode_npy(data: bytes) -> torch.Tensor:
    """A ``.npy`` sample as a stored tensor; :class:`Unreadable` when it is not one."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
        return to_stored(array)
    except Unreadable:
        raise
    except Exception as e:  # noqa: BLE001 - numpy raises several kinds for a damaged file
        raise Unreadable(f"not a .npy array ({type(e).__name__}: {e})") from None


class ShardImages(ImageFiles):
    """One split's samples kept in shards; read, decoded and cached one at a time."""

    def __init__(
        self,
        name: str,
        source: RowSource,
        labels: np.ndarray,
        mode: str,
        cache: DecodedCache,
        max_pixels: int = MAX_PIXELS,
        kind: str = "image",
    ) -> None:
        super().__init__(name, Places(source), labels, mode, cache, max_pixels)  # type: ignore[arg-type]
        self.source = source
        """Where the encoded samples are read from."""
        self.kind = kind
        """"image" (PNG, JPEG, WebP… bytes) or "npy"."""

    def _decode_now(self, i: int) -> torch.Tensor:
        try:
            data = self.source.payload(i)
        except DatasetError:
            raise
        except Exception as e:  # noqa: BLE001 - a shard that cannot be read at this row
            raise Unreadable(f"cannot be read ({type(e).__name__}: {e})") from None
        if self.kind == "npy":
            return decode_npy(data)
        return decode_image(io.BytesIO(data), self.mode, self.max_pixels)  # type: ignore[arg-type]


def guess_columns(
    names: list[str], keys: tuple[str, str] | None, image_columns: list[str], label_columns: list[str] = ()
) -> tuple[str | None, str | None]:
    """The input and label columns (or tar member extensions): ``keys`` when given, else the usual guesses.

    ``image_columns`` hold encoded images (preferred in :data:`INPUT_KEYS` order); ``label_columns``
    are declared class labels (a ``ClassLabel``), preferred over a name guess. The input is None when
    no column holds images (a table), the label None when none looks like one.
    """
    if keys is not None:
        missing = [k for k in keys if k not in names]
        if missing:
            raise DatasetError(
                f"--keys names {', '.join(missing)}, but the columns are {', '.join(names)}. "
                "Give --keys INPUT,LABEL with two of those."
            )
        return keys
    ranked = [k for k in INPUT_KEYS if k in image_columns] + [c for c in image_columns if c not in INPUT_KEYS]
    x = ranked[0] if ranked else None
    y = next(iter(label_columns), None) or next(
        (k for k in (*LABEL_KEYS, "cls") if k in names and k != x), None
    )
    return x, y


def no_label_error(where: str, names: list[str]) -> DatasetError:
    return DatasetError(
        f"{where}: no column looks like a label (tried {', '.join(LABEL_KEYS)}; the columns are "
        f"{', '.join(names)}). Name the input and the label with --keys INPUT,LABEL."
    )


def class_labels(
    where: str, per_split: dict[str, np.ndarray], names: list[str] | None
) -> tuple[dict[str, np.ndarray], list[str], str]:
    """int64 labels 0..C-1 of every split, the class names, and a note on where the names came from.

    A split whose every label is -1 (how Hugging Face marks an unlabelled test split) is left out of
    the labels returned, with a note, unless it is the only split.

    ``per_split`` holds each split's raw labels (integers or strings); ``names`` the declared
    class names (a ``ClassLabel``, ``classes.txt``), by which integer labels are taken as they are.
    Without names, the labels seen (over every split) are sorted and numbered.
    """
    raw = list(per_split.values())
    if any(a.dtype.kind in "OUS" for a in raw):  # names as text
        texts = {s: np.asarray(a).astype(str) for s, a in per_split.items()}
        seen = sorted(set().union(*(set(np.unique(t)) for t in texts.values())))
        if names is not None and set(seen) <= set(names):
            classes, note = list(names), ""
        else:
            classes, note = seen, "class names: the labels seen"
        index = {c: k for k, c in enumerate(classes)}
        return {s: np.array([index[v] for v in t], np.int64) for s, t in texts.items()}, classes, note
    if any(a.dtype.kind == "f" for a in raw):
        bad = next(a for a in raw if a.dtype.kind == "f")
        if not np.all(np.isfinite(bad)) or not np.all(np.mod(bad, 1) == 0):
            raise DatasetError(
                f"{where}: the labels are decimal numbers (or empty); a class label is a whole number "
                "0..C-1 or a name. Name another label with --keys INPUT,LABEL."
            )
    ints = {s: np.asarray(a).astype(np.int64) for s, a in per_split.items()}
    unlabelled = [s for s, y in ints.items() if len(y) and (y == -1).all()]
    if unlabelled and len(unlabelled) < len(ints):
        for s in unlabelled:
            del ints[s]
        note = f"the {' and '.join(unlabelled)} split is left out: every label is -1 (Hugging Face's mark for no label)"
    else:
        note = ""
    if names is not None:
        for split, y in ints.items():
            outside = (y < 0) | (y >= len(names))
            if outside.any():
                first = int(y[np.argmax(outside)])
                hint = " (-1 is how Hugging Face marks a sample with no label)" if first == -1 else ""
                n = int(outside.sum())
                raise DatasetError(
                    f"{where}: {plural(n, 'sample')} of the {split} split {'has' if n == 1 else 'have'} label "
                    f"{first}, outside the {len(names)} declared classes 0..{len(names) - 1}{hint}. "
                    "Label every sample, or remove that split."
                )
        return ints, list(names), note
    seen_values = np.unique(np.concatenate([y for y in ints.values()])) if ints else np.array([], np.int64)
    remap = {s: np.searchsorted(seen_values, y).astype(np.int64) for s, y in ints.items()}
    seen_note = "class names: the labels seen (no class names declared)"
    return remap, [str(int(v)) for v in seen_values], "; ".join(n for n in (note, seen_note) if n)


def _mode_of(sources: list[ShardImages]) -> str:
    """ "L" when the first readable image is grey, else "RGB"; read from headers only."""
    for files in sources:
        for i in range(min(len(files), 32)):
            try:
                mode, _ = image_header(io.BytesIO(files.source.payload(i)))  # type: ignore[arg-type]
            except Unreadable:
                continue
            return "L" if mode in GREY_MODES else "RGB"
    return "RGB"


def image_handle(
    *,
    name: str,
    reader: str,
    classes: list[str],
    splits: dict[str, tuple[RowSource, np.ndarray, str]],
    notes: list[str],
    location: str,
    spec: DatasetSpec,
    kind: str = "image",
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """The handle of a shard set: each split a ``(rows, labels, origin)``; samples decoded when read."""
    empty = [s for s, (rows, _, _) in splits.items() if len(rows) == 0]
    for s in empty:
        notes.append(f"the {s} split has no samples ({splits[s][2]}) and is left out")
    splits = {s: v for s, v in splits.items() if s not in empty}
    if not splits:
        raise DatasetError(
            f"{location}: every split is empty ({', '.join(empty) or 'no shards'}). Write samples into the "
            "shards, or point to the folder that holds them."
        )
    cache = DecodedCache()
    max_pixels = spec.max_pixels or MAX_PIXELS
    files = {
        s: ShardImages(s, rows, labels, "RGB", cache, max_pixels, kind)
        for s, (rows, labels, _) in splits.items()
    }
    if kind == "image":
        mode = _mode_of(list(files.values()))
        for f in files.values():
            f.mode = mode
        pipeline = Pipeline.for_images(1 if mode == "L" else 3)
    else:
        first = next(iter(files.values())).read(0)[0]
        if first.ndim != 3:
            raise DatasetError(f"{location}: the .npy samples are {tuple(first.shape)}, not images (C×H×W).")
        pipeline = Pipeline.for_images(first.shape[0], high=255.0 if first.dtype == torch.uint8 else 1.0)
    data = {
        s: SplitData(length=len(f), read=f.read, targets=f.labels, origin=splits[s][2], files=f)
        for s, f in files.items()
    }
    notes.append(
        "images are decoded when read; the checklist's readable item reads every one and names the bad ones"
    )
    return build_handle(
        name=name,
        reader=reader,
        classes=classes,
        splits=data,
        pipeline=pipeline,
        notes=notes,
        location=location,
        spec=spec,
        cancel=cancel,
        moment_samples=MOMENT_FILES,
        moment_values=MOMENT_VALUES,
    )
