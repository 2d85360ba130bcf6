"""Image folders with links between classes: a file belongs to the class folder it is really in.

A link from one class folder into another (a folder or a single file), or to the dataset's root
(``a/up -> ..``), used to let the first class claim the other's files, so that ``check`` refused
with "class folder b has no images" although b held them. Such links are skipped and counted.
"""

from __future__ import annotations

import numpy as np

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset

from support.inprocess import run_main
from support.makers import write_image_folder


def test_links_into_other_classes_are_skipped_and_counted(tmp_path):
    folder = write_image_folder(tmp_path / "pets", {"a": 3, "b": 20, "c": 4})
    (folder / "a" / "bees").symlink_to(folder / "b")  # a class folder under another class
    (folder / "a" / "up").symlink_to("..")  # the root, which holds every class
    (folder / "a" / "stolen.png").symlink_to(folder / "c" / "000.png")  # one file of another class
    (folder / "a" / "again").symlink_to(".")  # a loop inside its own class: followed once, as before
    handle = open_dataset(DatasetSpec(str(folder)))
    files = handle.splits["train"].files
    assert np.bincount(handle.split("train").targets).tolist() == [3, 20, 4]
    assert all(f"/{handle.classes[t]}/" in path for path, t in zip(files.paths, files.labels, strict=True))
    assert (
        "3 links into other classes skipped: a file belongs to the class folder it is really in"
        in handle.notes
    )
    done = run_main("check", str(folder))
    assert "has no images" not in done.stderr and "class table" not in done.stderr
    assert done.returncode in (0, 1), done.stderr


def test_a_link_from_the_train_split_into_the_test_split_is_skipped(tmp_path):
    root = tmp_path / "d"
    write_image_folder(root / "train", {"a": 3, "b": 2})
    write_image_folder(root / "test", {"a": 2, "b": 2})
    (root / "train" / "a" / "held-out").symlink_to(root / "test" / "a")  # test images would leak into train
    handle = open_dataset(DatasetSpec(str(root)))
    assert np.bincount(handle.split("train").targets).tolist() == [3, 2]
    assert np.bincount(handle.split("test").targets).tolist() == [2, 2]
    assert any(n.startswith("1 link into other classes skipped") for n in handle.notes)
