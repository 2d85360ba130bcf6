"""Data as users keep it: ``save_to_disk`` folders, Hub-style Parquet shards and WebDataset tars.

The fixtures are written by the real libraries (``datasets`` and ``webdataset``, in the test extra),
once per module, and each reader is compared with what that library reads back: the counts, the
class names and every pixel. Bad inputs are made by damaging those files.
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter

import numpy as np
import pytest

from dataloupe.core.checks.files import check_readable
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers import open_dataset
from dataloupe.core.readers.shard_files import expand_braces
from dataloupe.core.stats.classes import class_counts

from support.inprocess import run_main

NAMES = ["ants", "bees"]
SIZES = {"train": 24, "test": 8}


def _pictures(n: int, seed: int, mode: str) -> tuple[list, list[int]]:
    """``n`` small PIL images whose brightness follows the class, and their labels (classes alternate)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    shape = (8, 6, 3) if mode == "RGB" else (8, 6)
    labels = [int(v) for v in rng.integers(0, 2, n)]
    images = [Image.fromarray(rng.integers(0, 120, shape, dtype=np.uint8) + 100 * y, mode) for y in labels]
    return images, labels


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A DatasetDict of RGB images and a ClassLabel, saved with save_to_disk, and its Parquet export in shards."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image

    root = tmp_path_factory.mktemp("hf")
    features = Features({"image": Image(), "label": ClassLabel(names=NAMES)})
    parts = {}
    for k, (split, n) in enumerate(SIZES.items()):
        images, labels = _pictures(n, k, "RGB")
        parts[split] = Dataset.from_dict({"image": images, "label": labels}, features=features)
    dd = DatasetDict(parts)
    dd.save_to_disk(str(root / "disk"), num_shards={"train": 2, "test": 1})
    shards = {"train": 3, "test": 2}
    for split, n in shards.items():
        for k in range(n):
            path = root / "hub" / "data" / f"{split}-{k:05d}-of-{n:05d}.parquet"
            dd[split].shard(n, k, contiguous=True).to_parquet(str(path))
    return root, dd


@pytest.fixture(scope="module")
def tars(tmp_path_factory):
    """WebDataset tars of grey PNGs with cls labels (3 train shards, 1 test), written by webdataset.TarWriter."""
    import webdataset as wds

    root = tmp_path_factory.mktemp("wds") / "shards"
    root.mkdir()
    for split, n in (("train", 3), ("test", 1)):
        for k in range(n):
            images, labels = _pictures(6, 10 + k + 5 * (split == "test"), "L")
            with wds.TarWriter(str(root / f"{split}-{k:05d}.tar")) as sink:
                for i, (image, label) in enumerate(zip(images, labels, strict=True)):
                    sink.write({"__key__": f"{split}{k}_{i:03d}", "png": image, "cls": label})
    (root / "classes.txt").write_text("\n".join(NAMES) + "\n")
    return root


def _stored(split, i: int) -> np.ndarray:
    """Sample ``i`` as stored, H×W×C (or H×W for one channel), as PIL gives it."""
    x = split.raw(i)[0].numpy()
    return x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)


def _assert_like_datasets(handle, dd) -> None:
    assert handle.classes == NAMES
    assert handle.split_names == ["train", "test"]
    for name in SIZES:
        split, theirs = handle.split(name), dd[name]
        assert len(split) == len(theirs)
        assert split.targets.tolist() == theirs["label"]
        for i in range(len(theirs)):
            assert np.array_equal(_stored(split, i), np.asarray(theirs[i]["image"])), (name, i)


def test_a_save_to_disk_folder_reads_as_datasets_reads_it(saved):
    root, dd = saved
    spec = DatasetSpec(str(root / "disk"))
    assert spec.reader() == "arrow"
    handle = open_dataset(spec)
    _assert_like_datasets(handle, dd)
    assert handle.reader == "arrow" and "(ClassLabel)" in handle.describe()


def test_one_saved_split_folder_opens_alone(saved):
    root, dd = saved
    handle = open_dataset(DatasetSpec(str(root / "disk" / "test")))
    assert len(handle.split(handle.default_split())) == len(dd["test"]) and handle.classes == NAMES


@pytest.mark.parametrize("where", ["hub", "hub/data", "url"])
def test_parquet_shards_read_as_datasets_reads_them(saved, where):
    root, dd = saved
    source = (root / "hub").as_uri() if where == "url" else str(root / where)
    spec = DatasetSpec(source)
    assert spec.reader() == ("remote" if where == "url" else "parquet-shards")
    handle = open_dataset(spec)
    _assert_like_datasets(handle, dd)
    where_of = handle.split("train").data.files.paths
    assert where_of[9].endswith("train-00001-of-00003.parquet, row 1")  # shards of 8: the 10th sample


def test_one_parquet_file_with_images_is_a_shard_not_a_table(saved):
    root, dd = saved
    handle = open_dataset(DatasetSpec(str(root / "hub" / "data" / "test-00001-of-00002.parquet")))
    assert handle.reader == "parquet-shards"
    assert handle.split("test").targets.tolist() == dd["test"]["label"][4:]


def _webdataset_reads(pattern: str) -> list[tuple[np.ndarray, int]]:
    import webdataset as wds

    return [
        (np.asarray(s["png"]), int(s["cls"]))
        for s in wds.WebDataset(pattern, shardshuffle=False).decode("l8")
    ]


@pytest.mark.parametrize("how", ["folder", "braces"])
def test_webdataset_tars_read_as_webdataset_reads_them(tars, how):
    source = str(tars) if how == "folder" else str(tars / "train-{00000..00002}.tar")
    handle = open_dataset(DatasetSpec(source))
    assert handle.reader == "webdataset" and handle.classes == NAMES
    theirs = _webdataset_reads(str(tars / "train-{00000..00002}.tar"))
    split = handle.split("train")
    assert split.targets.tolist() == [y for _, y in theirs]
    assert split.raw(0)[0].shape == (1, 8, 6)  # grey PNGs: one channel
    for i, (pixels, _) in enumerate(theirs):
        assert np.array_equal(_stored(split, i), pixels), i
    assert split.data.files.paths[7] == "train-00001.tar: train1_001.png"
    if how == "folder":
        assert [y for _, y in _webdataset_reads(str(tars / "test-00000.tar"))] == handle.split(
            "test"
        ).targets.tolist()
    else:
        assert handle.split_names == ["train"]


def test_class_counts_read_labels_only_never_an_image(saved, tars, monkeypatch):
    from dataloupe.core.readers.shard_images import ShardImages

    root, dd = saved
    handles = [open_dataset(DatasetSpec(str(p))) for p in (root / "disk", root / "hub", tars)]

    def refuse(self, i):
        raise AssertionError("an image was decoded to count classes")

    monkeypatch.setattr(ShardImages, "_decode_now", refuse)
    for handle in handles[:2]:
        assert class_counts(handle.split("train")).tolist() == np.bincount(dd["train"]["label"]).tolist()
    want = Counter(y for _, y in _webdataset_reads(str(tars / "train-{00000..00002}.tar")))
    assert class_counts(handles[2].split("train")).tolist() == [want[0], want[1]]


def test_keys_name_other_columns_and_members(saved, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import webdataset as wds

    root, dd = saved
    table = pq.read_table(root / "hub" / "data" / "train-00000-of-00003.parquet")
    renamed = table.rename_columns(["picture", "kind"]).append_column("label", pa.array([0] * len(table)))
    pq.write_table(renamed, tmp_path / "train.parquet")
    guessed = open_dataset(DatasetSpec(str(tmp_path / "train.parquet")))
    assert guessed.split("train").targets.tolist() == [0] * len(table)  # "label" is the guess
    named = open_dataset(DatasetSpec(str(tmp_path / "train.parquet"), keys=("picture", "kind")))
    assert named.split("train").targets.tolist() == dd["train"]["label"][:8]
    with pytest.raises(DatasetError, match="--keys names photo, but the columns are picture, kind, label"):
        open_dataset(DatasetSpec(str(tmp_path / "train.parquet"), keys=("photo", "kind")))

    images, labels = _pictures(4, 3, "RGB")
    with wds.TarWriter(str(tmp_path / "odd.tar")) as sink:
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            sink.write({"__key__": f"s{i}", "jpg": image, "json": {"species": NAMES[label]}})
    with pytest.raises(DatasetError, match='s0 has no label.*a s0.json with a "label" field'):
        open_dataset(DatasetSpec(str(tmp_path / "odd.tar")))
    handle = open_dataset(DatasetSpec(str(tmp_path / "odd.tar"), keys=("jpg", "species")))
    assert [handle.classes[y] for y in handle.split("train").targets] == [NAMES[y] for y in labels]


def test_tars_converted_to_parquet_read_their_jpg_and_cls_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    images, labels = _pictures(5, 2, "RGB")
    encoded = []
    for image in images:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        encoded.append(buf.getvalue())
    table = pa.table({"__key__": [f"k{i}" for i in range(5)], "jpg": encoded, "cls": labels})
    pq.write_table(table, tmp_path / "train-00000.parquet")
    handle = open_dataset(DatasetSpec(str(tmp_path)))
    split = handle.split("train")
    assert [handle.classes[y] for y in split.targets] == [str(y) for y in labels]  # names: the labels seen
    assert np.array_equal(_stored(split, 4), np.asarray(images[4]))


def test_shards_with_no_image_column_are_a_table_that_keeps_their_splits(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data").mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 30), ("test", 10)):
        cols = {"a": rng.normal(size=n), "b": rng.normal(size=n), "label": rng.integers(0, 3, n)}
        pq.write_table(pa.table(cols), tmp_path / "data" / f"{split}-00000-of-00001.parquet")
    handle = open_dataset(DatasetSpec(str(tmp_path)))
    assert handle.feature_names == ["a", "b"]
    assert (len(handle.split("train")), len(handle.split("test"))) == (30, 10)
    assert "test split: the 10 rows of the test shards" in handle.notes


# ---------------------------------------------------------------------- bad inputs
def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_a_truncated_parquet_shard_is_named(saved, tmp_path):
    hub = _copy(saved[0] / "hub", tmp_path / "hub")
    shard = hub / "data" / "train-00001-of-00003.parquet"
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(
        DatasetError, match=r"train-00001-of-00003\.parquet: cannot be read as Parquet.*cut short"
    ):
        open_dataset(DatasetSpec(str(hub)))


def test_a_truncated_arrow_file_is_named(saved, tmp_path):
    disk = _copy(saved[0] / "disk", tmp_path / "disk")
    arrow = disk / "test" / "data-00000-of-00001.arrow"
    arrow.write_bytes(arrow.read_bytes()[:300])
    with pytest.raises(
        DatasetError, match=r"data-00000-of-00001\.arrow: cannot be read as Arrow.*save_to_disk"
    ):
        open_dataset(DatasetSpec(str(disk)))


def test_a_truncated_tar_shard_is_named(tars, tmp_path):
    shards = _copy(tars, tmp_path / "shards")
    shard = shards / "train-00001.tar"
    whole = shard.read_bytes()
    for end in (3000, 1600):  # inside a header, inside a member's data
        shard.write_bytes(whole[:end])
        with pytest.raises(
            DatasetError, match=r"train-00001\.tar: cut short\. .*Copy or write the shard again"
        ):
            open_dataset(DatasetSpec(str(shards)))


def test_a_tar_sample_with_no_label_is_named(tmp_path):
    import webdataset as wds

    images, labels = _pictures(3, 0, "L")
    with wds.TarWriter(str(tmp_path / "train-0.tar")) as sink:
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            sample = {"__key__": f"k{i}", "png": image}
            if i != 1:
                sample["cls"] = label
            sink.write(sample)
    with pytest.raises(DatasetError, match=r"train-0\.tar: sample k1 has no label \(members: k1\.png\)"):
        open_dataset(DatasetSpec(str(tmp_path / "train-0.tar")))


def test_image_bytes_that_are_not_an_image_are_named_and_skipped(saved, tmp_path):
    import pyarrow.parquet as pq

    dd = saved[1]
    shard = saved[0] / "hub" / "data" / "train-00000-of-00003.parquet"
    table = pq.read_table(shard)
    cells = table.column("image").to_pylist()
    cells[2] = {"bytes": b"this is no picture", "path": "x.png"}
    column = table.schema.get_field_index("image")
    import pyarrow as pa

    broken = table.set_column(
        column, table.schema.field("image"), pa.array(cells, table.schema.field("image").type)
    )
    pq.write_table(broken, tmp_path / "train-00000-of-00001.parquet")
    handle = open_dataset(DatasetSpec(str(tmp_path)))
    split = handle.split("train")
    x, y = split.raw(2)  # the next readable image of the same class stands in
    assert y == dd["train"]["label"][2]
    labels = dd["train"]["label"][:8]
    same = next(j for j in [*range(3, 8), 0, 1] if labels[j] == y)
    assert np.array_equal(_stored(split, 2), np.asarray(dd["train"][same]["image"]))
    result = check_readable(type("F", (), {"handle": handle, "progress": None, "cancel": None})())
    assert result.verdict == "warn"
    assert "1 of 8 image files cannot be used" in result.evidence
    assert "train-00000-of-00001.parquet, row 2 (not an image)" in result.evidence


def test_an_empty_split_is_left_out_with_a_note_and_all_empty_is_an_error(saved, tmp_path):
    import pyarrow.parquet as pq

    table = pq.read_table(saved[0] / "hub" / "data" / "train-00000-of-00003.parquet")
    (tmp_path / "data").mkdir()
    pq.write_table(table, tmp_path / "data" / "train-00000-of-00001.parquet")
    pq.write_table(table.slice(0, 0), tmp_path / "data" / "test-00000-of-00001.parquet")
    handle = open_dataset(DatasetSpec(str(tmp_path)))
    assert handle.split_names == ["train"]
    assert any(
        n.startswith("the test split has no samples (") and "test-00000-of-00001.parquet" in n
        for n in handle.notes
    )
    (tmp_path / "data" / "train-00000-of-00001.parquet").unlink()
    with pytest.raises(DatasetError, match="every split is empty"):
        open_dataset(DatasetSpec(str(tmp_path)))


def test_unlabelled_test_shards_are_left_out_and_a_label_outside_the_class_label_is_refused(saved, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    hub = _copy(saved[0] / "hub", tmp_path / "hub")
    for shard in (hub / "data").glob("test-*.parquet"):
        table = pq.read_table(shard)
        unlabelled = table.set_column(1, table.schema.field("label"), pa.array([-1] * len(table), pa.int64()))
        pq.write_table(unlabelled, shard)
    handle = open_dataset(DatasetSpec(str(hub)))
    assert handle.split_names == ["train"]
    assert "the test split is left out: every label is -1 (Hugging Face's mark for no label)" in handle.notes
    table = pq.read_table(saved[0] / "hub" / "data" / "test-00000-of-00002.parquet")
    labels = pa.array([-1, 1, 0, 1], pa.int64())
    pq.write_table(
        table.set_column(1, table.schema.field("label"), labels), hub / "data" / "test-00000-of-00002.parquet"
    )
    with pytest.raises(DatasetError, match="5 samples of the test split have label -1.*no label"):
        open_dataset(DatasetSpec(str(hub)))


def test_brace_patterns_expand_as_webdataset_writes_them():
    assert expand_braces("s/train-{00008..00011}.tar") == [f"s/train-{k:05d}.tar" for k in range(8, 12)]
    assert expand_braces("{a,b}-{0..1}.tar") == ["a-0.tar", "a-1.tar", "b-0.tar", "b-1.tar"]


# ---------------------------------------------------------------------- every feature on a shard set
def test_check_train_and_eval_run_on_shards(tars, tmp_path):
    shards = _copy(tars, tmp_path / "shards")
    leaked = shards / "test-00000.tar"  # the test shard, also written as training shard 3: a leak
    shutil.copy(leaked, shards / "train-00003.tar")
    done = run_main("check", str(shards), "--json")
    doc = json.loads(done.stdout)
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["split"]["verdict"] == "fail" and "6 of 6" in checks["split"]["evidence"], checks["split"]
    assert (
        doc["splits"]["train"]["counts"]
        == np.bincount(open_dataset(DatasetSpec(str(shards))).split("train").targets).tolist()
    )
    checkpoint = tmp_path / "model.pt"
    trained = run_main("train", str(tars), "--epochs", "2", "--resize", "4", "--save", str(checkpoint))
    assert trained.returncode == 0, trained.stderr
    evaluated = run_main("eval", str(checkpoint), str(tars), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["samples"] == 6


def test_a_sample_reaches_the_model_scaled_and_batches(saved):
    import torch
    from torch.utils.data import DataLoader

    handle = open_dataset(DatasetSpec(str(saved[0] / "hub"), resize="4"))
    x, y = handle.split("train")[0]
    assert x.shape == (3, 4, 4) and x.dtype == torch.float32
    batch = next(iter(DataLoader(handle.split("train"), batch_size=5)))
    assert batch[0].shape == (5, 3, 4, 4) and batch[1].tolist() == saved[1]["train"]["label"][:5]


def test_npy_members_are_read_as_stored(tmp_path):
    import webdataset as wds

    arrays = [np.full((3, 5, 6), i, np.uint8) for i in range(4)]
    with wds.TarWriter(str(tmp_path / "train-0.tar")) as sink:
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, a)
            sink.write({"__key__": f"k{i}", "npy": buf.getvalue(), "cls": str(i % 2).encode()})
    split = open_dataset(DatasetSpec(str(tmp_path))).split("train")
    assert split.raw(3)[0].tolist() == arrays[3].tolist() and split.targets.tolist() == [0, 1, 0, 1]


def test_the_window_scan_and_the_member_walk_index_a_tar_alike(tars):
    import pyarrow as pa

    from dataloupe.core.readers.tar_index import _block_reader, _index_slowly, _members_at_once, index_tar

    path = str(tars / "train-00001.tar")
    keys = (("png", "npy"), ("cls", "label"))
    with pa.memory_map(path) as f:
        assert _members_at_once(_block_reader(f, f.size()), f.size(), None) is not None  # the fast path ran
        fast = index_tar(f, f.size(), path, *keys)
        slow = _index_slowly(f, f.size(), path, *keys)
    with pa.OSFile(path) as f:  # not memory-mapped: read a window at a time
        windowed = index_tar(f, f.size(), path, *keys)
    assert fast == slow == windowed and len(fast.keys) == 6


async def test_the_app_previews_parquet_shards_with_their_class_names(saved):
    from dataloupe.tui.app import AppOptions, build_app

    from support.pilot import screen_text, settle

    root, dd = saved
    app = build_app(AppOptions(spec=DatasetSpec(str(root / "hub"))))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.handle.reader == "parquet-shards"
        first = NAMES[dd["train"]["label"][0]]
        assert f"label  {dd['train']['label'][0]} ({first})" in screen_text(app)
        await pilot.press("3")
        await settle(app, pilot)
        assert "ants" in screen_text(app) and "bees" in screen_text(app)


def test_a_hugging_face_dataset_in_user_code_shows_its_class_label_names(saved, tmp_path):
    root, dd = saved
    code = tmp_path / "hfdata.py"
    code.write_text(
        "from datasets import load_from_disk\n\n"
        f"data = load_from_disk({str(root / 'disk')!r}).with_format('torch')\n"
    )
    handle = open_dataset(DatasetSpec(f"{code}:data"))
    assert handle.classes == NAMES  # the ClassLabel's names, not 0 and 1
    assert handle.split("train").targets.tolist() == dd["train"]["label"]
    assert open_dataset(DatasetSpec(f"{code}:data", keys=("image", "label"))).classes == NAMES


def test_each_layout_is_told_apart_by_its_file_names(saved, tars, tmp_path):
    root, _ = saved
    assert DatasetSpec(str(root / "disk")).reader() == "arrow"
    assert DatasetSpec(str(root / "disk" / "train")).reader() == "arrow"
    assert DatasetSpec(str(root / "hub")).reader() == "parquet-shards"
    assert DatasetSpec(str(tars)).reader() == "webdataset"
    assert DatasetSpec(str(tars / "test-00000.tar")).reader() == "webdataset"
    assert DatasetSpec(str(tars / "train-{00000..00002}.tar")).reader() == "webdataset"
    assert DatasetSpec("s3://bucket/shards").reader() == "remote"
    (tmp_path / "cats").mkdir()
    assert DatasetSpec(str(tmp_path)).reader() == "folder"  # class sub-folders, as before
    with pytest.raises(
        DatasetError, match=r"(?s)missing\.tar: no such file or folder.*Parquet or \.tar shards"
    ):
        DatasetSpec(str(tmp_path / "missing.tar")).reader()


def test_urls_take_the_remote_path_and_read_the_same(saved, tars):
    root, _ = saved
    for folder in (root / "disk", tars):
        local, remote = open_dataset(DatasetSpec(str(folder))), open_dataset(DatasetSpec(folder.as_uri()))
        assert remote.reader == local.reader and remote.location.startswith("file://")
        for name in local.split_names:
            a, b = local.split(name), remote.split(name)
            assert b.targets.tolist() == a.targets.tolist()
            assert all(np.array_equal(_stored(a, i), _stored(b, i)) for i in range(len(a)))
