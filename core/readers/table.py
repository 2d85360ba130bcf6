"""A CSV table with a label column.

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
from pathlib import Path

import numpy as np
import torch

from core.datasets import DatasetHandle, build_handle, in_memory_split, stratified_split
from core.errors import DatasetError
from core.pipeline import Pipeline
from core.readers.files import read_bytes
from core.settings import HOLDOUT_SEED, TEST_FRACTION
from core.sources import DatasetSpec
from core.wording import plural


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


def format_threshold(t: float) -> str:
    """4.5 → "4.5", 5.0 → "5"."""
    return f"{t:g}"


def open_csv(spec: DatasetSpec) -> DatasetHandle:
    """Read the table, check every row, and split it 80/20 stratified."""
    path = Path(spec.source).expanduser()
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
    train_idx, test_idx = stratified_split(targets, TEST_FRACTION, HOLDOUT_SEED)
    xt = torch.from_numpy(x)
    splits = {
        "train": in_memory_split(xt[train_idx], targets[train_idx], path.name),
        "test": in_memory_split(xt[test_idx], targets[test_idx], path.name),
    }
    train_x = x[train_idx]
    with np.errstate(all="ignore"):
        low = np.nan_to_num(np.nanmin(train_x, axis=0), nan=0.0) if len(train_x) else np.zeros(x.shape[1])
        high = np.nan_to_num(np.nanmax(train_x, axis=0), nan=1.0) if len(train_x) else np.ones(x.shape[1])
    pipeline = Pipeline(
        sample_type="table",
        low=tuple(float(v) for v in low),
        high=tuple(float(v) for v in high),
        mean=(0.0,) * len(features),
        std=(1.0,) * len(features),
    )
    notes = [
        f"label: column {label_col!r}{label_note}; {len(features)} feature columns, separator {sep!r}",
        f"test split: {len(test_idx):,} of {len(targets):,} rows ({TEST_FRACTION:.0%} of each class) held out "
        f"by dataloupe, stratified, seed {HOLDOUT_SEED}",
    ]
    if missing:
        notes.append(f"{plural(missing, 'empty cell')} read as NaN")
    return build_handle(
        name=path.name,
        reader="csv",
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
        t = format_threshold(threshold)
        targets = (values > threshold).astype(np.int64)
        return targets, [f"low (≤ {t})", f"high (> {t})"], f" split at {t} into low (≤ {t}) and high (> {t})"
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
