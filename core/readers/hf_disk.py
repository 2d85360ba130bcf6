"""A folder written by Hugging Face ``datasets``' ``save_to_disk``: a ``Dataset`` or a ``DatasetDict``.

A ``DatasetDict`` folder holds ``dataset_dict.json`` (the split names) and a folder per split; a
split (or a lone ``Dataset``) folder holds ``state.json`` (its Arrow files), ``dataset_info.json``
(its features) and the Arrow IPC stream files. Those are read with pyarrow, memory-mapped, without
the ``datasets`` package: opening maps the files and reads the label column; an image is decoded
when its sample is read. Class names come from the label's ``ClassLabel``.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('path/to/saved')).describe())"
"""

from __future__ import annotations

import threading

from dataloupe.core.data.datasets import DatasetHandle
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.readers.arrow_rows import (
    ArrowRows,
    class_label_columns,
    class_label_names,
    column_numpy,
    hf_features,
    image_columns,
)
from dataloupe.core.readers.shard_files import Location, choose_splits, locate, read_json
from dataloupe.core.readers.shard_images import class_labels, guess_columns, image_handle, no_label_error
from dataloupe.core.readers.shard_tables import table_handle


def is_saved_dataset(folder: Location) -> bool:
    """Whether ``folder`` is a ``save_to_disk`` folder (a DatasetDict's or a Dataset's)."""
    from dataloupe.core.readers.shard_files import file_size

    return file_size(folder.child("dataset_dict.json")) is not None or (
        file_size(folder.child("state.json")) is not None
        and file_size(folder.child("dataset_info.json")) is not None
    )


def _read_arrow(f: Location):
    """An Arrow IPC stream file as a table: memory-mapped when local, so nothing is copied."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    try:
        source = pa.memory_map(f.path) if f.is_local else f.fs.open_input_file(f.path)
        try:
            return ipc.open_stream(source).read_all()
        except pa.ArrowInvalid:  # an Arrow file (random-access format) rather than a stream
            return ipc.open_file(source).read_all()
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a damaged file
        raise DatasetError(
            f"{f}: cannot be read as Arrow ({e}). The file may be cut short (an interrupted copy): "
            "save the dataset again with save_to_disk."
        ) from e


def _split_table(folder: Location, cancel: threading.Event | None):
    """One split folder's table (every Arrow file it lists, in order) and its features."""
    import pyarrow as pa

    state = read_json(folder.child("state.json"))
    if not isinstance(state, dict):
        raise DatasetError(
            f"{folder}: no state.json, so not a split saved by save_to_disk. Point to the folder that "
            "holds dataset_dict.json, or to a split folder."
        )
    info = read_json(folder.child("dataset_info.json")) or {}
    names = [d.get("filename") for d in state.get("_data_files") or [] if isinstance(d, dict)]
    tables = []
    for name in names:
        check_cancel(cancel)
        tables.append(_read_arrow(folder.child(name)))
    features = info.get("features") if isinstance(info, dict) else None
    if not tables:
        return None, features or {}
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    return table, features or hf_features(table.schema.metadata)


def open_saved_dataset(
    spec: DatasetSpec, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> DatasetHandle:
    """Open a ``save_to_disk`` folder: Arrow files memory-mapped, labels read at open, images when read."""
    root = locate(spec.source)
    listed = read_json(root.child("dataset_dict.json"))
    if listed is not None:
        split_names = listed.get("splits") if isinstance(listed, dict) else None
        if not split_names:
            raise DatasetError(f"{root}/dataset_dict.json names no splits. Save the DatasetDict again.")
        chosen, notes = choose_splits({n: [n] for n in split_names})
        folders = {s: root.child(names[0]) for s, names in chosen.items()}
    else:
        state = read_json(root.child("state.json")) or {}
        own = str(state.get("_split") or "")
        chosen, notes = choose_splits({own: [own]})
        folders = {s: root for s in chosen}
    report(progress, "mapping the Arrow files", 0, None)
    tables, features = {}, {}
    for s, folder in folders.items():
        tables[s], split_features = _split_table(folder, cancel)
        features = features or split_features
    first = next((t for t in tables.values() if t is not None), None)
    if first is None:
        raise DatasetError(
            f"{root}: every split is empty (no Arrow files). Save the dataset with samples in it."
        )
    schema = first.schema
    columns = list(schema.names)
    x_col, y_col = guess_columns(
        columns, spec.keys, image_columns(schema, features), class_label_columns(features)
    )
    declared = class_label_names(features, y_col)
    where = str(root)
    if x_col is None:
        present = {s: t for s, t in tables.items() if t is not None}
        return table_handle(where, spec, present, "arrow", y_col, declared, notes, progress, cancel)
    if y_col is None:
        raise no_label_error(where, columns)
    raw = {
        s: column_numpy((t if t is not None else first.slice(0, 0)).column(y_col)) for s, t in tables.items()
    }
    targets, classes, note = class_labels(where, raw, declared)
    if note:
        notes.append(note)
    splits = {}
    for s, t in tables.items():
        if s not in targets:  # every label -1: unlabelled, left out
            continue
        origin = folders[s].name if folders[s] != root else root.name
        rows = ArrowRows(t if t is not None else first.slice(0, 0), x_col, origin)
        splits[s] = (rows, targets[s], origin)
    notes.insert(0, f"image column {x_col!r}, label column {y_col!r}" + (" (ClassLabel)" if declared else ""))
    return image_handle(
        name=root.name,
        reader="arrow",
        classes=classes,
        splits=splits,
        notes=notes,
        location=where,
        spec=spec,
        cancel=cancel,
    )
