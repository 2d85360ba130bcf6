"""WebDataset tar shards: a folder of ``.tar`` files, one ``.tar``, or ``shards/train-{00000..00003}.tar``.

A sample is the members that share a key; its input is the image member (``jpg``, ``jpeg``,
``png``, ``webp``) or a ``.npy``, its label the ``cls`` or ``label`` member or the ``label`` field
of its ``json`` (``--keys INPUT,LABEL`` names others). Each shard is indexed once when the
dataset opens (:mod:`dataloupe.core.readers.tar_index`), reading the headers and the label
members only; a sample is then one read at its offset. Class names come from a ``classes.txt``
(one per line) or a ``dataset.json`` (``{"classes": [...]}``) beside the shards, else from the
labels seen. The shard's split comes from its name (``train-…``, ``test-…``).

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('shards/train-{00000..00003}.tar')).describe())"
"""

from __future__ import annotations

import threading

import numpy as np

from dataloupe.core.data.datasets import DatasetHandle
from dataloupe.core.data.samples import INPUT_KEYS, LABEL_KEYS
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.readers.shard_files import (
    Location,
    expand_braces,
    file_size,
    group_by_split,
    has_braces,
    is_folder,
    list_files,
    locate,
    read_json,
    read_text,
)
from dataloupe.core.readers.shard_images import class_labels, image_handle
from dataloupe.core.readers.tar_index import ShardIndex, as_arrays, index_tar
from dataloupe.core.wording import plural

IMAGE_KEYS = ("jpg", "jpeg", "png", "webp")
"""Member extensions read as the input image, in this order."""
INPUT_MEMBERS = (*IMAGE_KEYS, "npy", *INPUT_KEYS)
"""Every member extension tried as the input."""
LABEL_MEMBERS = ("cls", *LABEL_KEYS)
"""Member extensions (and ``json`` fields) tried as the label."""


def tar_shards(source: str) -> tuple[Location, list[Location]]:
    """The folder the shards are in, and the shards: a brace pattern's, a folder's ``.tar`` files, or one file."""
    if has_braces(source):
        names = expand_braces(source)
        shards = [locate(n) for n in names]
        missing = [s for s in shards if file_size(s) is None]
        if missing:
            raise DatasetError(
                f"{source}: {len(missing):,} of the {len(shards):,} shards it names do not exist "
                f"(e.g. {missing[0]}). Check the range."
            )
        return shards[0].parent(), shards
    root = locate(source)
    if not is_folder(root):
        if file_size(root) is None:
            raise DatasetError(f"{source}: no such file or folder.")
        return root.parent(), [root]
    shards = [f for f in list_files(root) if f.path.lower().endswith(".tar")]
    if not shards:
        compressed = [f for f in list_files(root) if f.path.lower().endswith((".tar.gz", ".tgz"))]
        hint = " Compressed shards cannot be read at random: decompress them (gunzip)." if compressed else ""
        raise DatasetError(f"{root}: no .tar shards.{hint}")
    return root, shards


def declared_classes(folder: Location) -> list[str] | None:
    """Class names from ``classes.txt`` or ``dataset.json`` beside the shards, or None."""
    text = read_text(folder.child("classes.txt"))
    if text is not None:
        names = [line.strip() for line in text.splitlines() if line.strip()]
        return names or None
    meta = read_json(folder.child("dataset.json"))
    if isinstance(meta, dict):
        for key in ("classes", "class_names", "names", "labels"):
            if isinstance(meta.get(key), list) and meta[key]:
                return [str(n) for n in meta[key]]
    return None


class TarRows:
    """One split's samples across tar shards: sample ``i`` is one read at a known offset."""

    def __init__(self, shards: list[Location], names: list[str], indexes: list[ShardIndex]) -> None:
        self.shards = shards
        """Each shard's location."""
        self.names = names
        """Each shard's name, for :meth:`where`."""
        self.keys = [k for index in indexes for k in index.keys]
        """Each sample's key."""
        self.inputs = [e for index in indexes for e in index.inputs]
        """Each sample's input extension."""
        arrays = [as_arrays(index) for index in indexes]
        self.offsets = np.concatenate([o for o, _ in arrays]) if arrays else np.zeros(0, np.int64)
        self.sizes = np.concatenate([s for _, s in arrays]) if arrays else np.zeros(0, np.int64)
        self.shard_of = np.concatenate(
            [np.full(len(index.keys), k, np.int32) for k, index in enumerate(indexes)]
            or [np.zeros(0, np.int32)]
        )
        self._files: dict[int, object] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.keys)

    def _file(self, k: int):
        with self._lock:
            f = self._files.get(k)
            if f is None:
                f = self.shards[k].fs.open_input_file(self.shards[k].path)
                self._files[k] = f
            return f

    def payload(self, i: int) -> bytes:
        return self._file(int(self.shard_of[i])).read_at(int(self.sizes[i]), int(self.offsets[i]))

    def where(self, i: int) -> str:
        return f"{self.names[int(self.shard_of[i])]}: {self.keys[i]}.{self.inputs[i]}"


def open_webdataset(
    spec: DatasetSpec, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> DatasetHandle:
    """Index every shard once (headers and labels only), then decode samples when read."""
    import pyarrow as pa

    folder, shards = tar_shards(spec.source)
    input_keys, label_keys = INPUT_MEMBERS, LABEL_MEMBERS
    if spec.keys is not None:
        input_keys, label_keys = (spec.keys[0].lower(),), (spec.keys[1].lower(),)
    grouped, notes = group_by_split(shards)
    total = sum(len(v) for v in grouped.values())
    done = 0
    indexes: dict[str, list[ShardIndex]] = {}
    for split, members in grouped.items():
        indexes[split] = []
        for shard in members:
            check_cancel(cancel)
            report(progress, f"indexing {plural(total, 'shard')}", done, total)
            size = file_size(shard)
            try:
                # a local shard is memory-mapped while it is indexed: its headers are read in place
                with (
                    pa.memory_map(shard.path) if shard.is_local else shard.fs.open_input_file(shard.path) as f
                ):
                    index = index_tar(f, size or 0, str(shard), input_keys, label_keys, cancel)
            except OSError as e:
                raise DatasetError(f"{shard}: cannot read it ({e}).") from e
            if index.note:
                notes.append(index.note)
            indexes[split].append(index)
            done += 1
    report(progress, f"indexing {plural(total, 'shard')}", total, total)
    raw = {}
    for split, found in indexes.items():
        tokens = [t for index in found for t in index.labels]
        try:
            raw[split] = np.asarray(tokens, dtype=np.int64)
        except ValueError:
            raw[split] = np.asarray(tokens, dtype=str)
    where = str(folder) if len(shards) > 1 else str(shards[0])
    targets, classes, note = class_labels(where, raw, declared_classes(folder))
    if note:
        notes.append(note)
    kinds = {e for found in indexes.values() for index in found for e in index.inputs}
    if len(kinds & {"npy"}) and len(kinds) > 1:
        raise DatasetError(
            f"{where}: some samples are .npy arrays and some images ({', '.join(sorted(kinds))}); use one."
        )
    splits = {}
    for split, members in grouped.items():
        if split not in targets:  # every label -1: unlabelled, left out
            continue
        names = [m.name for m in members]
        rows = TarRows(members, names, indexes[split])
        origin = names[0] if len(names) == 1 else f"{len(names)} shards ({names[0]}, …)"
        splits[split] = (rows, targets[split], origin)
    notes.insert(0, f"{plural(total, 'tar shard')}, indexed once: input {'/'.join(sorted(kinds))}")
    return image_handle(
        name=folder.name if len(shards) > 1 else shards[0].name,
        reader="webdataset",
        classes=classes,
        splits=splits,
        notes=notes,
        location=where,
        spec=spec,
        kind="npy" if kinds == {"npy"} else "image",
        cancel=cancel,
    )
