"""Tables read with pyarrow: CSV in one multi-threaded parse, and Parquet.

Features go straight from arrow columns into the float32 train and test arrays, column by
column, so memory stays near the table's numeric size (no list of strings, no ``float()`` per
cell). A CSV that pyarrow cannot read cleanly (a ragged row, text in a feature column, an
empty label) returns None, and :mod:`dataloupe.core.readers.table` reads it line by line to say exactly
where it is wrong.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('table.parquet')).describe())"
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.readers.thresholds import threshold_classes

MAX_FLOAT_CLASSES = 20
"""More distinct non-integer label values than this looks like a regression target."""


@dataclass
class ArrowColumns:
    """A table's features and labels, as arrow read them."""

    table: object
    """The ``pyarrow.Table`` (features still in arrow memory)."""
    features: list[str]
    """Feature column names, in table order."""
    label: str
    """The label column's name."""


def read_csv_arrow(path: Path, sep: str, label: str | None = None) -> object | None:
    """The CSV as a ``pyarrow.Table``, or None when pyarrow cannot parse it cleanly.

    The first block is read to learn the columns; numeric feature columns (every column but the
    label, ``label`` or the last) are then read as float32, the type they are kept in: half the
    memory of float64 while the file is parsed, on one thread and with malloc's pool (what the
    parse frees is reused for the float32 arrays). A later cell that is not a number makes the read fail, as type inference would, and
    the line reader then names it.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.types as pt

    parse = pacsv.ParseOptions(delimiter=sep)
    pool = pa.system_memory_pool()  # malloc: what the parse frees is reused for the float32 arrays
    try:
        with open(path, "rb") as f:  # the column types, from the first rows (a block, as arrow infers them)
            head = f.read(1 << 20)
        if len(head) == 1 << 20 and b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
        schema = pacsv.read_csv(
            io.BytesIO(head),
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True),
            read_options=pacsv.ReadOptions(use_threads=False),
        ).schema
        names = [str(n).strip() for n in schema.names]
        chosen = label if label is not None else (names[-1] if names else None)
        numeric = {
            raw: pa.float32()
            for raw, name, kind in zip(schema.names, names, schema.types, strict=True)
            if name != chosen and (pt.is_integer(kind) or pt.is_floating(kind))
        }
        return pacsv.read_csv(
            path,
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(
                null_values=[""], strings_can_be_null=True, column_types=numeric
            ),
            # one block at a time: parsing blocks on every core at once took +250 MB for 1M rows
            read_options=pacsv.ReadOptions(use_threads=False),
            memory_pool=pool,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError):
        return None


def read_parquet_table(path: Path) -> object:
    """The Parquet file as a ``pyarrow.Table``; a :class:`DatasetError` naming the file otherwise."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(f"{path}: cannot be read as Parquet ({e}). Write it again, or pass a .csv.") from e


def columns_of(path: Path, table, label: str | None) -> ArrowColumns:
    """Pick the label column (``label`` or the last) and the features; DatasetError for a missing label."""
    names = [str(n).strip() for n in table.column_names]
    table = table.rename_columns(names)
    if len(names) < 2:
        raise DatasetError(f"{path}: only one column ({names[0]!r}); a table needs features and a label.")
    if len(table) == 0:
        raise DatasetError(f"{path}: a header but no rows. Add data rows below the header line.")
    chosen = label if label is not None else names[-1]
    if chosen not in names:
        cols = ", ".join(repr(h) for h in names)
        raise DatasetError(
            f"{path}: no column named {chosen!r}. The columns are {cols}; pass one with --label."
        )
    return ArrowColumns(table, [n for n in names if n != chosen], chosen)


def non_numeric_feature(cols: ArrowColumns) -> str | None:
    """The first feature column that is not numbers, or None."""
    import pyarrow.types as pt

    for name in cols.features:
        t = cols.table.column(name).type
        if not (pt.is_integer(t) or pt.is_floating(t) or pt.is_boolean(t) or pt.is_null(t)):
            return name
    return None


def arrow_labels(cols: ArrowColumns, threshold: float | None) -> tuple[np.ndarray, list[str], str] | None:
    """Integer targets, class names and a note; None when only a line-by-line read can say what is wrong."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pt

    column = cols.table.column(cols.label)
    if column.null_count:
        return None
    numeric = pt.is_integer(column.type) or pt.is_floating(column.type)
    if threshold is not None:
        if not numeric:
            return None
        return threshold_classes(column.to_numpy().astype(np.float64, copy=False), threshold)
    if numeric:
        if pt.is_integer(column.type):  # arrow's hash table: no sorted copies of a million labels
            uniq = np.sort(pc.unique(column).to_numpy())
            targets = pc.index_in(column, value_set=pa.array(uniq)).to_numpy(zero_copy_only=False)
            return targets.astype(np.int64, copy=False), [str(int(v)) for v in uniq], ""
        values = column.to_numpy()
        if bool(np.all(np.mod(values, 1) == 0)):
            uniq, targets = np.unique(values.astype(np.int64), return_inverse=True)
            return targets.astype(np.int64), [str(int(v)) for v in uniq], ""
        distinct = len(np.unique(values))
        if distinct > MAX_FLOAT_CLASSES:
            raise DatasetError(
                f"the label column {cols.label!r} holds {distinct:,} distinct non-integer numbers; that looks "
                "like a regression target. Pass --threshold T to make two classes, or --label another column."
            )
        return None  # a few decimal classes: named by their text, which the line reader keeps
    if not pt.is_string(column.type) and not pt.is_large_string(column.type):
        return None
    trimmed = pc.utf8_trim_whitespace(column)
    if bool(pc.any(pc.equal(trimmed, "")).as_py()):
        return None
    classes = sorted(pc.unique(trimmed).to_pylist())
    targets = pc.index_in(trimmed, value_set=pa.array(classes)).to_numpy(zero_copy_only=False)
    return targets.astype(np.int64), classes, ""


def feature_splits(
    cols: ArrowColumns,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The float32 train and test feature arrays, filled column by column, and the count of empty cells."""
    import pyarrow as pa

    xtr = np.empty((len(train_idx), len(cols.features)), np.float32)
    xte = np.empty((len(test_idx), len(cols.features)), np.float32)
    missing = 0
    for j, name in enumerate(cols.features):
        check_cancel(cancel)
        report(progress, "converting columns", j, len(cols.features))
        column = cols.table.column(name)
        missing += column.null_count
        values = column.cast(pa.float32()).to_numpy(zero_copy_only=False)  # nulls become NaN
        xtr[:, j] = values[train_idx]
        xte[:, j] = values[test_idx]
        del column, values
        # the converted column's arrow memory goes now, not when the whole table does
        cols.table = cols.table.remove_column(cols.table.schema.get_field_index(name))
    report(progress, "converting columns", len(cols.features), len(cols.features))
    return xtr, xte, missing
