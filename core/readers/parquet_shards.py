"""Hugging Face Hub-style Parquet shards: ``data/train-00000-of-00004.parquet`` and its siblings.

The source is a folder holding ``data/`` or the shards themselves (or one Parquet file, or a URL
that pyarrow can list). Each shard's split comes from its name; the shards of a split are read
together with ``pyarrow.parquet``. Opening reads the shards' footers (row counts) and the label
column alone; an image is decoded when its sample is read. The class names come from the
``ClassLabel`` in the schema's ``huggingface`` metadata, else from the labels seen. A shard set
with no image column is a table.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('path/to/hub-dataset')).describe())"
"""

from __future__ import annotations

import threading

import numpy as np

from dataloupe.core.data.datasets import DatasetHandle
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.readers.arrow_rows import (
    ParquetRows,
    class_label_columns,
    class_label_names,
    column_numpy,
    hf_features,
    image_columns,
)
from dataloupe.core.readers.shard_files import Location, group_by_split, is_folder, list_files, locate
from dataloupe.core.readers.shard_images import class_labels, guess_columns, image_handle, no_label_error
from dataloupe.core.readers.shard_tables import table_handle
from dataloupe.core.wording import plural

PARQUET_SUFFIXES = (".parquet", ".pq")


def parquet_shards(root: Location) -> list[Location]:
    """The Parquet files of a Hub-style folder (under ``data/`` when it has one), or the file itself."""
    if not is_folder(root):
        return [root]
    data = root.child("data")
    base = data if is_folder(data) else root
    files = [f for f in list_files(base, recursive=True) if f.path.lower().endswith(PARQUET_SUFFIXES)]
    if not files:
        raise DatasetError(
            f"{base}: no .parquet files. Point to the folder that holds data/train-00000-of-….parquet."
        )
    return files


def _relative(root: Location, f: Location) -> str:
    prefix = root.path.rstrip("/") + "/"
    return f.path[len(prefix) :] if f.path.startswith(prefix) else f.name


def _footers(
    files: list[Location], cancel: threading.Event | None, progress: ProgressCallback | None = None
) -> list:
    """Each shard's footer (``pyarrow.parquet.FileMetaData``); a message naming a shard that is not Parquet.

    ``pyarrow.parquet`` rather than ``pyarrow.dataset``: the latter imports pandas where it is
    installed, 0.8 s before the first sample.
    """
    import pyarrow.parquet as pq

    footers = []
    for k, f in enumerate(files):
        check_cancel(cancel)
        report(progress, f"reading {plural(len(files), 'shard')}' footers", k, len(files))
        try:
            with f.fs.open_input_file(f.path) as source:
                footers.append(pq.read_metadata(source))
        except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a damaged file
            raise _damaged(f, e) from e
    return footers


def _column(files: list[Location], footers: list, column: str, where: str):
    """One column of every shard, read alone, as numpy."""
    import pyarrow.parquet as pq

    parts = []
    for f, meta in zip(files, footers, strict=True):
        try:
            with f.fs.open_input_file(f.path) as source:
                parts.append(pq.ParquetFile(source, metadata=meta).read(columns=[column]).column(column))
        except Exception as e:  # noqa: BLE001
            raise DatasetError(f"{f}: the column {column!r} cannot be read ({e}).") from e
    chunks = [column_numpy(p) for p in parts]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.int64)


def _table(files: list[Location], footers: list):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for f, meta in zip(files, footers, strict=True):
        with f.fs.open_input_file(f.path) as source:
            tables.append(pq.ParquetFile(source, metadata=meta).read())
    return pa.concat_tables(tables, promote_options="default")


def _damaged(f: Location, e: Exception) -> DatasetError:
    return DatasetError(
        f"{f}: cannot be read as Parquet ({e}). The shard may be cut short (an interrupted copy or download): "
        "copy it again, or move it out of the folder."
    )


def open_parquet_shards(
    spec: DatasetSpec, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> DatasetHandle:
    """Open Hub-style Parquet shards: images decoded when read, labels and counts read at open."""
    root = locate(spec.source)
    files = parquet_shards(root)
    grouped, notes = group_by_split(files)
    footers = {s: _footers(fs, cancel, progress) for s, fs in grouped.items()}
    schema = next(iter(footers.values()))[0].schema.to_arrow_schema()
    features = hf_features(schema.metadata)
    names = [n for n in schema.names]
    x_col, y_col = guess_columns(
        names, spec.keys, image_columns(schema, features), class_label_columns(features)
    )
    declared = class_label_names(features, y_col)
    where = str(root)
    if x_col is None:
        report(progress, "reading the table", 0, None)
        tables = {s: _table(grouped[s], footers[s]) for s in grouped}
        return table_handle(where, spec, tables, "parquet-shards", y_col, declared, notes, progress, cancel)
    if y_col is None:
        raise no_label_error(where, names)
    raw = {}
    for s in grouped:
        check_cancel(cancel)
        report(progress, f"reading the {s} labels", 0, None)
        raw[s] = _column(grouped[s], footers[s], y_col, where)
    targets, classes, note = class_labels(where, raw, declared)
    if note:
        notes.append(note)
    splits = {}
    for s in targets:  # a split whose every label is -1 (unlabelled) is left out
        shard_names = [_relative(root, f) for f in grouped[s]]
        rows = ParquetRows(grouped[s], footers[s], shard_names, x_col)
        origin = (
            shard_names[0] if len(shard_names) == 1 else f"{len(shard_names)} shards ({shard_names[0]}, …)"
        )
        splits[s] = (rows, targets[s], origin)
    notes.insert(0, f"image column {x_col!r}, label column {y_col!r}" + (" (ClassLabel)" if declared else ""))
    return image_handle(
        name=root.name,
        reader="parquet-shards",
        classes=classes,
        splits=splits,
        notes=notes,
        location=where,
        spec=spec,
        cancel=cancel,
    )


def has_image_column(spec: DatasetSpec) -> bool:
    """Whether a single Parquet file holds an image column (then it opens as a shard, not a table)."""
    import pyarrow.parquet as pq

    root = locate(spec.source)
    try:
        with root.fs.open_input_file(root.path) as f:
            schema = pq.read_schema(f)
    except Exception:  # noqa: BLE001 - the table reader gives the message for a damaged file
        return False
    return bool(image_columns(schema, hf_features(schema.metadata)))
