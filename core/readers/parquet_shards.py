"""Hugging Face Hub-style Parquet shards: ``data/train-00000-of-00004.parquet`` and its siblings.

The source is a folder holding ``data/`` or the shards themselves (or one Parquet file, or a URL
that pyarrow can list). Each shard's split comes from its name; the shards of a split are read
together with ``pyarrow.dataset``. Opening reads the shards' footers (row counts) and the label
column alone; an image is decoded when its sample is read. The class names come from the
``ClassLabel`` in the schema's ``huggingface`` metadata, else from the labels seen. A shard set
with no image column is a table.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('path/to/hub-dataset')).describe())"
"""

from __future__ import annotations

import threading

from dataloupe.core.data.datasets import DatasetHandle
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.readers.arrow_rows import (
    ParquetRows,
    class_label_columns,
    class_label_names,
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


def _dataset(files: list[Location], cancel: threading.Event | None):
    """The shards as one ``pyarrow.dataset``, every footer read; a message naming a shard that is not Parquet."""
    import pyarrow.dataset as pads

    fs = files[0].fs
    try:
        dataset = pads.dataset([f.path for f in files], filesystem=fs, format="parquet")
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a damaged file
        raise _damaged(files[0], e) from e
    fragments = list(dataset.get_fragments())
    for frag, f in zip(fragments, files, strict=True):
        check_cancel(cancel)
        try:
            frag.ensure_complete_metadata()
        except Exception as e:  # noqa: BLE001
            raise _damaged(f, e) from e
    return dataset, fragments


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
    report(progress, f"reading {plural(len(files), 'shard')}' footers", 0, None)
    opened = {s: _dataset(fs, cancel) for s, fs in grouped.items()}
    first = next(iter(opened.values()))[0]
    schema = first.schema
    features = hf_features(schema.metadata)
    names = [n for n in schema.names]
    x_col, y_col = guess_columns(
        names, spec.keys, image_columns(schema, features), class_label_columns(features)
    )
    declared = class_label_names(features, y_col)
    where = str(root)
    if x_col is None:
        report(progress, "reading the table", 0, None)
        tables = {s: ds.to_table() for s, (ds, _) in opened.items()}
        return table_handle(where, spec, tables, "parquet-shards", y_col, declared, notes, progress, cancel)
    if y_col is None:
        raise no_label_error(where, names)
    raw = {}
    for s, (ds, _) in opened.items():
        check_cancel(cancel)
        report(progress, f"reading the {s} labels", 0, None)
        try:
            raw[s] = ds.to_table(columns=[y_col]).column(y_col).to_numpy(zero_copy_only=False)
        except Exception as e:  # noqa: BLE001
            raise DatasetError(f"{where}: the label column {y_col!r} cannot be read ({e}).") from e
    targets, classes, note = class_labels(where, raw, declared)
    if note:
        notes.append(note)
    splits = {}
    for s, (_, fragments) in opened.items():
        shard_names = [_relative(root, f) for f in grouped[s]]
        rows = ParquetRows(fragments, shard_names, x_col)
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
