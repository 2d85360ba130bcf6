"""A CSV or Parquet table with a label column.

The separator (``,``, ``;`` or tab) is detected from the header. The label column is
``--label`` or the last column; ``--threshold T`` turns a numeric label into two
classes, low (≤ T) and high (> T). Every other column is a numeric feature; an
empty cell is read as NaN (the checklist reports it). A table has no test split of its
own, so 20% of each class is held out with a fixed seed, and the screen says so.
"""

from __future__ import annotations

import csv
import io
import math
import threading
from pathlib import Path

import numpy as np
import torch

from dataloupe.core.data.datasets import DatasetHandle, build_handle, in_memory_split, stratified_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.memory import trim_freed_memory
from dataloupe.core.progress import ProgressCallback, report
from dataloupe.core.readers.arrow_table import (
    arrow_labels,
    columns_of,
    feature_splits,
    non_numeric_feature,
    read_csv_arrow,
    read_parquet_table,
)
from dataloupe.core.readers.files import read_bytes
from dataloupe.core.readers.thresholds import threshold_classes
from dataloupe.core.settings import HOLDOUT_SEED, TEST_FRACTION
from dataloupe.core.wording import plural


def detect_separator(header_line: str) -> str:
    """``;``, tab or ``,``: whichever splits the header into the most fields."""
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _read_text(path: Path) -> str:
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_csv_lines(
    path: Path, spec: DatasetSpec
) -> tuple[np.ndarray, list[str], str, np.ndarray, list[str], str, int]:
    """The table read line by line, every cell checked: the slow path that names the line of any fault."""
    text = _read_text(path)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise DatasetError(
            f"{path}: the file is empty. A table needs a header row and at least one data row."
        )
    sep = detect_separator(lines[first])
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows = [(n, row) for n, row in enumerate(reader, start=1) if any(cell.strip() for cell in row)]
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    body = rows[1:]
    if not body:
        raise DatasetError(f"{path}: a header but no rows. Add data rows below the header line.")
    if len(header) < 2:
        raise DatasetError(
            f"{path}: only one column ({header[0]!r}) with separator {sep!r}; a table needs features and a label."
        )
    label_col = spec.label if spec.label is not None else header[-1]
    if label_col not in header:
        cols = ", ".join(repr(h) for h in header)
        raise DatasetError(
            f"{path}: no column named {label_col!r}. The columns are {cols}; pass one with --label."
        )
    li = header.index(label_col)
    feature_idx = [i for i in range(len(header)) if i != li]
    features = [header[i] for i in feature_idx]

    x = np.empty((len(body), len(feature_idx)), dtype=np.float32)
    label_cells: list[str] = []
    missing = 0
    for r, (line_no, row) in enumerate(body):
        if len(row) != len(header):
            raise DatasetError(
                f"{path}, line {line_no}: {len(row)} fields, but the header has {len(header)} "
                f"(separator {sep!r}). Fix or remove that row."
            )
        for j, i in enumerate(feature_idx):
            cell = row[i].strip()
            if not cell:
                x[r, j] = math.nan
                missing += 1
                continue
            try:
                x[r, j] = float(cell)
            except ValueError:
                raise DatasetError(
                    f"{path}, line {line_no}, column {header[i]!r}: {cell!r} is not a number. "
                    "Features must be numeric: encode that column as numbers, or drop it."
                ) from None
        label_cells.append(row[li].strip())

    targets, classes, label_note = _labels(path, label_col, label_cells, spec.threshold, body)
    return x, features, label_col, targets, classes, label_note, missing


def _first_line(path: Path) -> str | None:
    """The first non-blank line of the file (gzip or not), read without loading the whole file."""
    import gzip

    with open(path, "rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
            for line in f:
                if line.strip():
                    return line
    except (OSError, EOFError) as e:
        raise DatasetError(f"{path}: cannot read it ({e}).") from e
    return None


def open_csv(
    spec: DatasetSpec, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> DatasetHandle:
    """Read the table with pyarrow (line by line when it has faults to name), and split it 80/20 stratified."""
    path = Path(spec.source).expanduser()
    first = _first_line(path)
    if first is None:
        raise DatasetError(
            f"{path}: the file is empty. A table needs a header row and at least one data row."
        )
    sep = detect_separator(first)
    report(progress, f"reading {path.name}", 0, None)
    table = read_csv_arrow(path, sep, spec.label)
    trim_freed_memory()  # the parse's buffers, before the arrays are built
    if table is not None:
        cols = columns_of(path, table, spec.label)
        labels = arrow_labels(cols, spec.threshold) if non_numeric_feature(cols) is None else None
        if labels is not None:
            del table  # cols holds it; _from_arrow lets it go before the mean and std are measured
            return _from_arrow(path, spec, "csv", cols, labels, f"separator {sep!r}", progress, cancel)
    x, features, label_col, targets, classes, label_note, missing = _read_csv_lines(path, spec)
    train_idx, test_idx = stratified_split(targets, TEST_FRACTION, HOLDOUT_SEED)
    return _finish(
        path,
        spec,
        "csv",
        x[train_idx],
        x[test_idx],
        targets,
        train_idx,
        test_idx,
        classes,
        label_note,
        (features, label_col),
        f"separator {sep!r}",
        missing,
    )


def open_parquet(
    spec: DatasetSpec, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
) -> DatasetHandle:
    """Read a Parquet table: label column ``--label`` or the last; every other column a numeric feature."""
    path = Path(spec.source).expanduser()
    report(progress, f"reading {path.name}", 0, None)
    cols = columns_of(path, read_parquet_table(path), spec.label)
    bad = non_numeric_feature(cols)
    if bad is not None:
        raise DatasetError(
            f"{path}, column {bad!r}: {cols.table.column(bad).type} values, not numbers. "
            "Features must be numeric: encode that column as numbers, or drop it."
        )
    labels = arrow_labels(cols, spec.threshold)
    if labels is None:
        raise DatasetError(
            f"{path}: the label column {cols.label!r} has empty values, or text with --threshold, or a few "
            "decimal values; give every row a label (whole numbers or names), or --label another column."
        )
    return _from_arrow(path, spec, "parquet", cols, labels, "Parquet", progress, cancel)


def _from_arrow(path, spec, reader, cols, labels, how, progress, cancel) -> DatasetHandle:
    """Split the labels, fill the float32 train and test arrays from the arrow columns, finish the handle."""
    targets, classes, label_note = labels
    train_idx, test_idx = stratified_split(targets, TEST_FRACTION, HOLDOUT_SEED)
    xtr, xte, missing = feature_splits(cols, train_idx, test_idx, progress, cancel)
    names = (cols.features, cols.label)
    cols.table = None  # the arrow memory goes before the mean and std are measured
    trim_freed_memory()
    return _finish(
        path, spec, reader, xtr, xte, targets, train_idx, test_idx, classes, label_note, names, how, missing
    )


def _finish(
    path: Path,
    spec: DatasetSpec,
    reader: str,
    xtr: np.ndarray,
    xte: np.ndarray,
    targets: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    classes: list[str],
    label_note: str,
    names: tuple[list[str], str],
    how: str,
    missing: int,
) -> DatasetHandle:
    """Splits, the min-max pipeline from the training rows, notes, and the handle."""
    features, label_col = names
    splits = {
        "train": in_memory_split(torch.from_numpy(xtr), targets[train_idx], path.name, train_idx),
        "test": in_memory_split(torch.from_numpy(xte), targets[test_idx], path.name, test_idx),
    }
    with np.errstate(all="ignore"):
        if not len(xtr):
            low, high = np.zeros(xtr.shape[1]), np.ones(xtr.shape[1])
        else:  # nanmin copies the whole array to set NaNs aside: only for the columns that have one
            low, high = xtr.min(axis=0), xtr.max(axis=0)
            for j in np.flatnonzero(np.isnan(low) | np.isnan(high)):
                low[j], high[j] = np.nanmin(xtr[:, j]), np.nanmax(xtr[:, j])
            low, high = np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=1.0)
    pipeline = Pipeline(
        sample_type="table",
        low=tuple(float(v) for v in low),
        high=tuple(float(v) for v in high),
        mean=(0.0,) * len(features),
        std=(1.0,) * len(features),
    )
    notes = [
        f"label: column {label_col!r}{label_note}; {len(features)} feature columns, {how}",
        f"test split: {len(test_idx):,} of {len(targets):,} rows ({TEST_FRACTION:.0%} of each class) held out "
        f"by dataloupe, stratified, seed {HOLDOUT_SEED}",
    ]
    if missing:
        notes.append(f"{plural(missing, 'empty cell')} read as NaN")
    return build_handle(
        name=path.name,
        reader=reader,
        classes=classes,
        splits=splits,
        pipeline=pipeline,
        notes=notes,
        location=str(path),
        feature_names=features,
        spec=spec,
    )


def _labels(
    path: Path, column: str, cells: list[str], threshold: float | None, body
) -> tuple[np.ndarray, list[str], str]:
    """Integer targets 0..C-1, class names, and a note on how the label was read."""
    missing = [r for r, cell in enumerate(cells) if _non_finite(cell)]
    if missing:
        r = missing[0]
        raise DatasetError(
            f"{path}, line {body[r][0]}: the label column {column!r} holds {cells[r]!r}, which is not a class "
            f"({len(missing):,} row{'s' if len(missing) != 1 else ''} like it). Every row needs a label: fill "
            "those labels or drop the rows."
        )
    if threshold is not None:
        values = np.empty(len(cells))
        for r, cell in enumerate(cells):
            try:
                values[r] = float(cell)
            except ValueError:
                raise DatasetError(
                    f"{path}, line {body[r][0]}, column {column!r}: {cell!r} is not a number, so --threshold "
                    "cannot split it. Drop --threshold to use the labels as class names."
                ) from None
        return threshold_classes(values, threshold)
    if any(not c for c in cells):
        r = next(i for i, c in enumerate(cells) if not c)
        raise DatasetError(
            f"{path}, line {body[r][0]}: the label column {column!r} is empty. Every row needs a label."
        )
    try:
        numeric = [float(c) for c in cells]
    except ValueError:
        numeric = None
    if numeric is not None and all(v.is_integer() for v in numeric):
        uniq = sorted(set(int(v) for v in numeric))
        index = {v: k for k, v in enumerate(uniq)}
        targets = np.array([index[int(v)] for v in numeric], dtype=np.int64)
        return targets, [str(v) for v in uniq], ""
    if numeric is not None and len(set(numeric)) > 20:
        raise DatasetError(
            f"{path}: the label column {column!r} holds {len(set(numeric)):,} distinct non-integer numbers; "
            "that looks like a regression target. Pass --threshold T to make two classes, or --label another column."
        )
    uniq_s = sorted(set(cells))
    index_s = {v: k for k, v in enumerate(uniq_s)}
    return np.array([index_s[c] for c in cells], dtype=np.int64), uniq_s, ""


def _non_finite(cell: str) -> bool:
    """Whether a label cell reads as NaN or ±Inf ("nan", "inf", "-Infinity")."""
    try:
        return not math.isfinite(float(cell))
    except ValueError:
        return False
