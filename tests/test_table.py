"""The CSV reader: the real wine tables, separators, labels, thresholds, and bad tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers import open_dataset


def write(tmp_path, text: str, name: str = "t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def all_targets(handle) -> np.ndarray:
    return np.concatenate([handle.splits[s].targets for s in handle.split_names])


def test_red_wine_threshold_makes_two_classes(red_wine):
    handle = open_dataset(DatasetSpec(str(red_wine), threshold=4.5))
    assert handle.classes == ["low (≤ 4.5)", "high (> 4.5)"]
    assert np.bincount(all_targets(handle)).tolist() == [63, 1536]
    assert handle.feature_names[0] == "fixed acidity" and len(handle.feature_names) == 11
    x, y = handle.split("train")[0]
    assert tuple(x.shape) == (11,) and str(x.dtype) == "torch.float32"
    # stratified: the test split keeps the share of the rare class
    test = handle.split("test").targets
    assert len(test) == 320 and 10 <= int((test == 0).sum()) <= 15


def test_white_wine_integer_labels_become_sorted_classes(white_wine):
    handle = open_dataset(DatasetSpec(str(white_wine)))
    assert handle.classes == ["3", "4", "5", "6", "7", "8", "9"]
    assert sum(handle.splits[s].length for s in handle.split_names) == 4898


def test_comma_separator_and_named_label(tmp_path):
    p = write(tmp_path, "a,b,kind,c\n1,2,cat,3\n4,5,dog,6\n7,8,cat,9\n1,1,dog,1\n2,2,cat,2\n")
    handle = open_dataset(DatasetSpec(str(p), label="kind"))
    assert handle.classes == ["cat", "dog"]
    assert handle.feature_names == ["a", "b", "c"]
    assert len(handle.split("train")) + len(handle.split("test")) == 5


def test_scaled_pipeline_maps_train_range_to_unit_interval(red_wine):
    handle = open_dataset(DatasetSpec(str(red_wine), threshold=5.5))
    x, _ = handle.split("train").tensors()
    assert float(x.min()) == pytest.approx(0.0, abs=1e-6) and float(x.max()) == pytest.approx(1.0, abs=1e-6)
    raw = handle.split("train", handle.pipeline.with_(mode="raw")).tensors()[0]
    assert float(raw.max()) > 200  # total sulfur dioxide is stored as is


@pytest.mark.parametrize(
    ("text", "kw", "message"),
    [
        ("", {}, "the file is empty"),
        ("a;b;quality\n", {}, "a header but no rows"),
        ("a;b;quality\n1;2;5\n", {"label": "taste"}, "no column named 'taste'.*'a', 'b', 'quality'.*--label"),
        ("a;b;quality\n1;2;5\n1;x;6\n", {}, r"line 3, column 'b': 'x' is not a number"),
        ("a;b;quality\n1;2;5\n1;2\n", {}, r"line 3: 2 fields, but the header has 3"),
        ("a;b;quality\n1;2;good\n", {"threshold": 4.5}, "'good' is not a number, so --threshold"),
        ("a;b;quality\n1;2;\n", {}, "label column 'quality' is empty"),
    ],
)
def test_bad_tables_get_clear_messages(tmp_path, text, kw, message):
    p = write(tmp_path, text)
    with pytest.raises(DatasetError, match=message):
        open_dataset(DatasetSpec(str(p), **kw))


def test_empty_cells_are_nan_and_noted(tmp_path):
    p = write(tmp_path, "a,b,y\n1,,0\n2,3,1\n4,5,0\n6,7,1\n")
    handle = open_dataset(DatasetSpec(str(p)))
    assert "1 empty cell read as NaN" in handle.notes
    values = np.concatenate([handle.splits[s].array.numpy() for s in handle.split_names])
    assert np.isnan(values).sum() == 1


# ---------------------------------------------------------------------- pyarrow: Parquet and large CSV
def test_parquet_reads_like_the_csv(tmp_path, red_wine):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(red_wine, parse_options=pacsv.ParseOptions(delimiter=";"))
    pq.write_table(table, tmp_path / "red.parquet")
    from_csv = open_dataset(DatasetSpec(str(red_wine), threshold=4.5))
    from_parquet = open_dataset(DatasetSpec(str(tmp_path / "red.parquet"), threshold=4.5))
    assert from_parquet.reader == "parquet" and from_parquet.classes == from_csv.classes
    assert from_parquet.feature_names == from_csv.feature_names
    for split in ("train", "test"):
        assert np.array_equal(from_parquet.splits[split].targets, from_csv.splits[split].targets)
        assert np.allclose(from_parquet.splits[split].array.numpy(), from_csv.splits[split].array.numpy())


def test_parquet_label_is_the_last_column_unless_named(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"a": [1.0, 2.0, 3.0, 4.0], "kind": ["x", "y", "x", "y"], "n": [0, 1, 0, 1]}),
        tmp_path / "t.parquet",
    )
    with pytest.raises(DatasetError, match="column 'kind'.*not numbers"):  # the label is n, the last
        open_dataset(DatasetSpec(str(tmp_path / "t.parquet")))
    handle = open_dataset(DatasetSpec(str(tmp_path / "t.parquet"), label="kind"))
    assert handle.classes == ["x", "y"] and handle.feature_names == ["a", "n"]
    split = open_dataset(DatasetSpec(str(tmp_path / "t.parquet"), label="kind", threshold=None)).splits
    assert sum(d.length for d in split.values()) == 4


def test_a_large_csv_is_read_by_pyarrow_with_the_same_numbers(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(20_000, 4)).round(4)
    labels = rng.integers(0, 3, 20_000)
    lines = ["a,b,c,d,y"] + [
        ",".join(f"{v:g}" for v in row) + f",{k}" for row, k in zip(values, labels, strict=True)
    ]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    handle = open_dataset(DatasetSpec(str(tmp_path / "big.csv")))
    assert handle.classes == ["0", "1", "2"]
    train = handle.splits["train"]
    from dataloupe.core.data.datasets import stratified_split
    from dataloupe.core.settings import HOLDOUT_SEED, TEST_FRACTION

    train_idx, _ = stratified_split(labels, TEST_FRACTION, HOLDOUT_SEED)
    assert np.allclose(train.array.numpy(), values[train_idx].astype(np.float32))


def test_a_bad_cell_past_the_first_megabyte_is_still_named(tmp_path):
    """Column types come from the first block; a text cell far below it is found and named all the same."""
    rows = 60_000  # about 1.3 MB: the bad row is past the block the types are read from
    lines = ["a,b,label"] + [f"{i % 97}.5,{i % 13},{'cat' if i % 2 else 'dog'}" for i in range(rows)]
    lines[rows - 5] = "1.5,oops,cat"
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=rf"line {rows - 4}, column 'b': 'oops' is not a number"):
        open_dataset(DatasetSpec(str(path)))
    lines[rows - 5] = "1.5,7,cat"
    path.write_text("\n".join(lines) + "\n")
    handle = open_dataset(DatasetSpec(str(path)))  # the fixed file: text labels, numeric features
    assert handle.classes == ["cat", "dog"] and handle.splits["train"].array.dtype == torch.float32


def test_nan_and_inf_cells_are_named_by_their_row_in_the_file(tmp_path):
    """The "finite" check, and training through it, name the rows a user can find in the table."""
    from dataloupe.core.checks import run_checklist
    from dataloupe.core.errors import SettingsError
    from dataloupe.core.settings import TrainConfig
    from dataloupe.core.training.run import TrainingRun

    rng = np.random.default_rng(0)
    bad = {18: "nan", 51: "inf", 77: "-inf"}  # data rows, counted from 1 below the header
    lines = ["a,b,c,y"]
    for row in range(1, 121):
        a, b, c = rng.random(3)
        lines.append(f"{a:.3f},{b:.3f},{bad.get(row, f'{c:.3f}')},{row % 2}")
    handle = open_dataset(DatasetSpec(str(write(tmp_path, "\n".join(lines) + "\n"))))
    evidence = run_checklist(handle).result("finite").evidence
    for split in handle.split_names:
        rows = sorted(int(r) + 1 for r in handle.splits[split].rows if int(r) + 1 in bad)
        if rows:
            word = "row" if len(rows) == 1 else "rows"
            assert f"t.csv {word} {', '.join(map(str, rows))}, counted below the header) in c" in evidence
    with pytest.raises(SettingsError) as info:
        TrainingRun(handle, TrainConfig(epochs=1)).prepare()
    train_rows = [int(r) + 1 for r in handle.splits["train"].rows if int(r) + 1 in bad]
    assert train_rows and all(f"{r}" in str(info.value) for r in train_rows)
    assert "t.csv row" in str(info.value) and "in c" in str(info.value)
