"""A shard set with no image column: a table, read as CSV and Parquet tables are.

The splits the shards name are kept (train rows train, test rows test); with no test shards,
20% of each class is held out as for any table. Features and labels go through the table
reader's own code (:mod:`dataloupe.core.readers.arrow_table`, :mod:`dataloupe.core.readers.table`).

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('path/to/parquet-shards')).describe())"
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from dataloupe.core.data.datasets import DatasetHandle, stratified_split
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import ProgressCallback
from dataloupe.core.readers.arrow_table import arrow_labels, columns_of, feature_splits
from dataloupe.core.readers.table import _finish as finish_table
from dataloupe.core.settings import HOLDOUT_SEED, TEST_FRACTION


def table_handle(
    location: str,
    spec: DatasetSpec,
    tables: dict[str, object],
    reader: str,
    label: str | None,
    names: list[str] | None,
    notes: list[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """A table handle from each split's ``pyarrow.Table``; ``names``: the label's declared class names."""
    import pyarrow as pa

    tables = {s: t for s, t in tables.items() if len(t)}  # type: ignore[arg-type]
    if not tables:
        raise DatasetError(f"{location}: every split is empty. Write rows into the shards.")
    order = [s for s in ("train", "test") if s in tables]
    whole = pa.concat_tables([tables[s] for s in order], promote_options="default")  # type: ignore[list-item]
    cols = columns_of(Path(location), whole, spec.label or label)
    labels = arrow_labels(cols, spec.threshold)
    if labels is None:
        raise DatasetError(
            f"{location}: the label column {cols.label!r} has empty values, or text with --threshold; "
            "give every row a label, or --label another column."
        )
    targets, classes, label_note = labels
    if names is not None and spec.threshold is None and all(c.lstrip("-").isdigit() for c in classes):
        if any(not 0 <= int(c) < len(names) for c in classes):
            raise DatasetError(
                f"{location}: labels {', '.join(classes)} fall outside the {len(names)} declared classes."
            )
        classes = [names[int(c)] for c in classes]
    n_train = len(tables[order[0]])  # type: ignore[arg-type]
    if "test" in tables and "train" in tables:
        train_idx, test_idx = np.arange(n_train), np.arange(n_train, len(targets))
    else:
        train_idx, test_idx = stratified_split(targets, TEST_FRACTION, HOLDOUT_SEED)
    xtr, xte, missing = feature_splits(cols, train_idx, test_idx, progress, cancel)
    handle = finish_table(
        Path(location),
        spec,
        reader,
        xtr,
        xte,
        targets,
        train_idx,
        test_idx,
        classes,
        label_note,
        (cols.features, cols.label),
        "no image column, so a table",
        missing,
    )
    if "test" in tables and "train" in tables:
        handle.notes = [
            n
            if not n.startswith("test split:")
            else f"test split: the {len(test_idx):,} rows of the test shards"
            for n in handle.notes
        ]
    handle.notes.extend(notes)
    return handle
