"""Rows of an Arrow table or of Parquet shards, read one sample at a time, and Hugging Face's features.

:class:`ArrowRows` reads a table held in a memory map (a ``save_to_disk`` folder's Arrow files):
nothing is copied until a sample is asked for. :class:`ParquetRows` keeps only the row counts of
each shard's row groups, and reads the row group that holds a sample when it is asked for, keeping
the last few within a byte budget. Both give the encoded image bytes of an image column
(``{bytes, path}`` structs, as the ``datasets`` library writes them, or plain binary).

    python -c "from dataloupe.core.readers.arrow_rows import hf_features; print(hf_features(None))"
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from dataloupe.core.data.samples import INPUT_KEYS
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers.image_files import Unreadable

BINARY_IMAGES = (*INPUT_KEYS, "jpg", "jpeg", "png", "webp")
"""Names of binary columns read as encoded images (the last four: WebDataset tars converted to Parquet)."""
ROW_GROUP_BYTES = 64 * 2**20
"""Encoded image bytes of the Parquet row groups kept in memory, at most, per split."""
OPEN_SHARDS = 64
"""Parquet shards kept open for reading, at most, per split."""


def column_numpy(column) -> np.ndarray:
    """A pyarrow (chunked) column as numpy: integers and floats from their buffers, anything else as objects.

    pyarrow's own ``to_numpy`` imports pandas where it is installed: 0.5 s before the first sample.
    """
    import pyarrow.types as pt

    chunks = getattr(column, "chunks", [column])
    parts = []
    for chunk in chunks:
        kind = chunk.type
        if chunk.null_count == 0 and (pt.is_integer(kind) or pt.is_floating(kind)):
            dtype = np.dtype(
                {"halffloat": "float16", "float": "float32", "double": "float64"}.get(str(kind), str(kind))
            )
            data = chunk.buffers()[1]
            parts.append(np.frombuffer(data, dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize))
        else:
            parts.append(np.array(chunk.to_pylist(), dtype=object))
    if not parts:
        return np.zeros(0, np.int64)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def hf_features(metadata: dict[bytes, bytes] | None) -> dict[str, Any]:
    """The ``features`` that the ``datasets`` library writes into a schema's ``huggingface`` metadata, or {}."""
    if not metadata or b"huggingface" not in metadata:
        return {}
    try:
        info = json.loads(metadata[b"huggingface"])
    except (ValueError, UnicodeDecodeError):
        return {}
    return (info.get("info") or {}).get("features") or {}


def class_label_names(features: dict[str, Any], column: str | None) -> list[str] | None:
    """The names of a ``ClassLabel`` column (``features[column].names``), or None."""
    feature = features.get(column) if column else None
    if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and feature.get("names"):
        return [str(n) for n in feature["names"]]
    return None


def class_label_columns(features: dict[str, Any]) -> list[str]:
    """Columns declared as ``ClassLabel``, in feature order."""
    return [c for c, f in features.items() if isinstance(f, dict) and f.get("_type") == "ClassLabel"]


def image_columns(schema, features: dict[str, Any]) -> list[str]:
    """Columns holding encoded images: an ``Image`` feature, a ``{bytes, path}`` struct, or binary named like an input."""
    import pyarrow.types as pt

    found = []
    for field in schema:
        feature = features.get(field.name)
        declared = isinstance(feature, dict) and feature.get("_type") == "Image"
        struct = pt.is_struct(field.type) and field.type.get_field_index("bytes") >= 0
        binary = (pt.is_binary(field.type) or pt.is_large_binary(field.type)) and field.name in BINARY_IMAGES
        if declared or struct or binary:
            found.append(field.name)
    return found


def _cell_bytes(array, j: int, where: str) -> bytes:
    """The encoded bytes at ``array[j]``: a binary value, or a struct's ``bytes`` (its ``path`` when bytes are empty)."""
    import pyarrow.types as pt

    if pt.is_struct(array.type):
        data = array.field("bytes")[j].as_py()
        if data is None:
            path = array.field("path")[j].as_py() if array.type.get_field_index("path") >= 0 else None
            if not path:
                raise Unreadable("no image: both bytes and path are empty")
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError as e:
                raise Unreadable(
                    f"the image is not in the shard, and its path {path} cannot be read ({e})"
                ) from None
        return data
    data = array[j].as_py()
    if data is None:
        raise Unreadable("no image: the cell is empty")
    return data


class ArrowRows:
    """One split's image column in an Arrow table (memory-mapped): sample ``i``'s bytes on request."""

    def __init__(self, table, column: str, origin: str) -> None:
        self.column = table.column(column)
        """The image column, chunk by chunk as stored."""
        self.origin = origin
        """The split's folder, for :meth:`where`."""
        sizes = [len(c) for c in self.column.chunks]
        self._starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def payload(self, i: int) -> bytes:
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        return _cell_bytes(self.column.chunk(k), i - int(self._starts[k]), self.where(i))

    def where(self, i: int) -> str:
        return f"{self.origin}, row {i}"


class ParquetRows:
    """One split's image column across Parquet shards, read a row group at a time and kept within a budget."""

    def __init__(
        self, shards: list, metadata: list, names: list[str], column: str, budget: int = ROW_GROUP_BYTES
    ) -> None:
        self.shards = shards
        """Each shard's :class:`~dataloupe.core.readers.shard_files.Location`."""
        self.metadata = metadata
        """Each shard's ``pyarrow.parquet.FileMetaData`` (its footer, read once)."""
        self.names = names
        """Each shard's path, for :meth:`where`."""
        self.column = column
        """The image column's name."""
        self.budget = budget
        groups = [
            (s, g, meta.row_group(g).num_rows)
            for s, meta in enumerate(metadata)
            for g in range(meta.num_row_groups)
        ]
        self._groups = groups
        self._starts = np.concatenate([[0], np.cumsum([n for _, _, n in groups])]).astype(np.int64)
        shard_rows = [meta.num_rows for meta in metadata]
        self._shard_starts = np.concatenate([[0], np.cumsum(shard_rows)]).astype(np.int64)
        self._kept: OrderedDict[int, Any] = OrderedDict()
        self._kept_bytes = 0
        self._open: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _file(self, s: int):
        """Shard ``s`` opened for reading (a few are kept open), its footer not read again."""
        import pyarrow.parquet as pq

        f = self._open.get(s)
        if f is None:
            loc = self.shards[s]
            f = pq.ParquetFile(loc.fs.open_input_file(loc.path), metadata=self.metadata[s])
            self._open[s] = f
            if len(self._open) > OPEN_SHARDS:
                self._open.popitem(last=False)
        return f

    def _group(self, k: int):
        with self._lock:
            array = self._kept.get(k)
            if array is not None:
                self._kept.move_to_end(k)
                return array
            shard, group, _ = self._groups[k]
            try:
                table = self._file(shard).read_row_group(group, columns=[self.column])
            except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a damaged shard
                raise DatasetError(
                    f"{self.names[shard]}: row group {group} cannot be read ({e}). The shard may be cut short "
                    "or damaged: copy it again."
                ) from e
            array = table.column(self.column).combine_chunks()
            self._kept[k] = array
            self._kept_bytes += array.nbytes
            while self._kept_bytes > self.budget and len(self._kept) > 1:
                _, old = self._kept.popitem(last=False)
                self._kept_bytes -= old.nbytes
            return array

    def payload(self, i: int) -> bytes:
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        return _cell_bytes(self._group(k), i - int(self._starts[k]), self.where(i))

    def where(self, i: int) -> str:
        s = int(np.searchsorted(self._shard_starts, i, side="right")) - 1
        return f"{self.names[s]}, row {i - int(self._shard_starts[s])}"
