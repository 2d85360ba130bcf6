"""Image folders: splits from train/ and test/, bad files skipped and counted, and bad folders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import DatasetError
from dataloupe.core.readers import open_dataset

from support.makers import write_image_folder


def test_flat_class_folders_make_one_split(image_folder_factory):
    folder = image_folder_factory({"cat": 3, "dog": 5})
    handle = open_dataset(DatasetSpec(str(folder)))
    assert handle.reader == "folder"
    assert handle.classes == ["cat", "dog"]
    assert handle.split_names == ["train"]
    assert np.bincount(handle.split("train").targets).tolist() == [3, 5]
    assert any("no test split" in n for n in handle.notes)
    x, y = handle.split("train")[0]
    assert tuple(x.shape) == (1, 12, 10) and x.dtype == torch.float32  # grey images keep one channel


def test_train_and_test_subfolders_are_the_splits(tmp_path):
    write_image_folder(tmp_path / "d" / "train", {"a": 4, "b": 2}, mode="RGB")
    write_image_folder(tmp_path / "d" / "val", {"a": 1, "b": 1, "c": 2}, mode="RGB")
    handle = open_dataset(DatasetSpec(str(tmp_path / "d")))
    assert handle.split_names == ["train", "test"]
    assert handle.classes == ["a", "b", "c"]  # matched by name across splits
    assert np.bincount(handle.split("test").targets, minlength=3).tolist() == [1, 1, 2]
    x, _ = handle.split("test")[0]
    assert tuple(x.shape) == (3, 12, 10)


def test_pixels_match_what_pil_decodes(image_folder_factory):
    from PIL import Image

    folder = image_folder_factory({"a": 2})
    handle = open_dataset(DatasetSpec(str(folder)))
    raw, _ = handle.split("train").raw(1)
    expected = np.asarray(Image.open(folder / "a" / "001.png"))
    assert np.array_equal(raw[0].numpy(), expected)


def test_non_images_and_truncated_images_are_skipped_and_counted(image_folder_factory):
    """Opening lists files only; the readable check names the damaged ones, and reads skip them."""
    from dataloupe.core.checks import run_checklist

    folder = image_folder_factory({"cat": 4, "dog": 4})
    (folder / "cat" / "notes.txt").write_text("not an image")
    (folder / "dog" / "broken.png").write_bytes((folder / "dog" / "000.png").read_bytes()[:60])
    (folder / "dog" / "fake.jpg").write_text("plain text with an image's name")
    handle = open_dataset(DatasetSpec(str(folder)))
    assert len(handle.split("train")) == 10  # listed, not decoded
    assert "skipped 1 non-image file, as torchvision's ImageFolder would (e.g. cat/notes.txt)" in " ".join(
        handle.notes
    )
    split = handle.split("train")
    broken = split.data.files.paths.index(str(folder / "dog" / "broken.png"))
    x, y = split[broken]  # skipped: the next readable dog stands in
    assert y == 1 and tuple(x.shape) == (1, 12, 10)
    report = run_checklist(handle)
    result = report.result("readable")
    assert result.verdict == "warn"
    assert "2 of 10 image files cannot be used and are skipped" in result.evidence
    # the dog that stands in for a damaged file is no copy in the folder
    assert "exact copies" not in report.result("split").evidence
    assert (
        "dog/broken.png (truncated)" in result.evidence and "dog/fake.jpg (not an image)" in result.evidence
    )
    assert "1 file without an image extension skipped (e.g. cat/notes.txt)" in result.evidence
    loader = torch.utils.data.DataLoader(split, batch_size=10)
    xb, yb = next(iter(loader))  # a batch over every index, the damaged ones included
    assert xb.shape == (10, 1, 12, 10) and np.bincount(yb.numpy()).tolist() == [4, 6]


def test_progress_is_reported_while_checking_images(image_folder_factory):
    folder = image_folder_factory({"a": 70, "b": 10})
    seen = []
    open_dataset(DatasetSpec(str(folder)), progress=seen.append)
    assert seen and seen[-1].done == seen[-1].total == 80


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="the folder is empty.*one sub-folder per class"):
        open_dataset(DatasetSpec(str(tmp_path / "empty")))


def test_files_without_class_folders(tmp_path):
    folder = tmp_path / "flat"
    write_image_folder(tmp_path, {"flat": 3})
    with pytest.raises(DatasetError, match="3 files but no class sub-folders"):
        open_dataset(DatasetSpec(str(folder)))


def test_empty_class_folder(image_folder_factory):
    folder = image_folder_factory({"cat": 3})
    (folder / "dog").mkdir()
    with pytest.raises(DatasetError, match=r"dog has no images.*Add images to it or remove the folder"):
        open_dataset(DatasetSpec(str(folder)))


def test_class_folder_with_only_broken_images(image_folder_factory):
    folder = image_folder_factory({"cat": 3})
    (folder / "dog").mkdir()
    (folder / "dog" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    split = open_dataset(DatasetSpec(str(folder))).split("train")  # listing does not decode
    with pytest.raises(DatasetError, match="no image of class 1 can be read.*a.png"):
        split[3]


def test_images_of_different_sizes_are_noted(tmp_path):
    from dataloupe.core.checks import run_checklist

    write_image_folder(tmp_path / "d", {"a": 2}, size=(8, 8))
    write_image_folder(tmp_path / "d", {"b": 2}, size=(16, 12), seed=3)
    handle = open_dataset(DatasetSpec(str(tmp_path / "d")))
    shapes = run_checklist(handle).result("shapes")
    assert shapes.verdict == "fail" and "2 shapes" in shapes.evidence and "--resize" in shapes.fix
    assert handle.split("train").array is None  # cannot be stacked


def test_a_file_that_is_not_a_table(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00")
    with pytest.raises(DatasetError, match="not a .csv table"):
        open_dataset(DatasetSpec(str(p)))


def test_a_path_that_does_not_exist(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder, and not a built-in dataset name"):
        open_dataset(DatasetSpec(str(tmp_path / "nope")))


# ---------------------------------------------------------------------- links, size limits, cancel
def _open_within(spec, seconds: float = 30.0):
    """open_dataset in a thread: a listing that loops would otherwise hang the test run."""
    import threading

    out: dict = {}

    def target():
        try:
            out["handle"] = open_dataset(spec)
        except Exception as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "opening the folder did not finish: a link loop?"
    if "error" in out:
        raise out["error"]
    return out["handle"]


def test_symlink_loops_are_not_followed_and_no_file_counts_twice(image_folder_factory):
    folder = image_folder_factory({"cat": 3, "dog": 2})
    (folder / "cat" / "again").symlink_to(folder / "cat")  # a loop: cat/again/again/…
    (folder / "dog" / "up").symlink_to(folder)  # a loop through the top
    (folder / "dog" / "cats").symlink_to(folder / "cat")  # cat's files a second time, under dog
    (folder / "dog" / "same.png").symlink_to(folder / "dog" / "000.png")  # one file, two names
    handle = _open_within(DatasetSpec(str(folder)))
    assert np.bincount(handle.split("train").targets).tolist() == [3, 2]
    assert any("not followed" in n for n in handle.notes)


def test_a_linked_class_folder_is_followed(tmp_path):
    write_image_folder(tmp_path / "elsewhere", {"cat": 4})
    (tmp_path / "d").mkdir()
    write_image_folder(tmp_path / "d", {"dog": 2})
    (tmp_path / "d" / "cat").symlink_to(tmp_path / "elsewhere" / "cat")
    handle = _open_within(DatasetSpec(str(tmp_path / "d")))
    assert handle.classes == ["cat", "dog"] and np.bincount(handle.split("train").targets).tolist() == [4, 2]


def test_listing_can_be_cancelled(image_folder_factory):
    import threading

    from dataloupe.core.errors import Cancelled

    folder = image_folder_factory({"a": 3})
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        open_dataset(DatasetSpec(str(folder)), cancel=cancel)


def test_an_oversized_image_is_skipped_from_its_header_never_decoded(image_folder_factory):
    import resource

    from dataloupe.core.checks import run_checklist

    from support.makers import write_png_header

    folder = image_folder_factory({"cat": 3, "dog": 3})
    write_png_header(folder / "dog" / "huge.png", 12_000, 12_000)  # 144 megapixels, 432 MB decoded
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    handle = open_dataset(DatasetSpec(str(folder)))
    result = run_checklist(handle).result("readable")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.verdict == "warn" and "dog/huge.png (12,000×12,000 = 144 megapixels" in result.evidence
    assert "over the 89,478,485-pixel limit" in result.evidence
    assert grown_mb < 200  # decoding it would take 432 MB
    split = handle.split("train")
    huge = split.data.files.paths.index(str(folder / "dog" / "huge.png"))
    assert tuple(split[huge][0].shape) == (1, 12, 10) and split[huge][1] == 1  # skipped for another dog


def test_max_pixels_skips_smaller_images_too(tmp_path):
    from dataloupe.core.checks import run_checklist

    write_image_folder(tmp_path / "d", {"a": 3, "b": 3}, size=(8, 8))
    write_image_folder(tmp_path / "d", {"b": 1}, size=(40, 40), seed=4)  # b/000.png, now 40×40
    handle = open_dataset(DatasetSpec(str(tmp_path / "d"), max_pixels=1_000))
    result = run_checklist(handle).result("readable")
    assert (
        "1 of 6 image files cannot be used" in result.evidence
        and "over the 1,000-pixel limit" in result.evidence
    )
    assert any("--max-pixels" in n for n in handle.notes)


def test_pillow_warnings_never_reach_the_terminal(image_folder_factory):
    import subprocess
    import sys

    from support.makers import write_png_header

    folder = image_folder_factory({"cat": 3, "dog": 3})
    write_png_header(folder / "dog" / "huge.png", 12_000, 12_000)  # Pillow warns: DecompressionBombWarning
    run = subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "huge.png" in run.stdout
    assert "Warning" not in run.stderr and "Warning" not in run.stdout, run.stderr


def test_a_folder_of_large_images_opens_and_checks_in_bounded_memory(tmp_path):
    """20 RGB photos of 1024×768 (47 MB decoded): the old reader needed about 29 bytes per pixel byte
    (1.4 GB here); now the checklist's own copy of the samples is most of what it adds."""
    import subprocess
    import sys

    from support.makers import write_photo_folder

    write_photo_folder(tmp_path / "big", {"a": 10, "b": 10}, sizes=[(1024, 768)], quality=70)
    script = (
        "import resource, sys, torch\n"
        "from dataloupe.core.readers import open_dataset\nfrom dataloupe.core.data.sources import DatasetSpec\n"
        "from dataloupe.core.checks import run_checklist\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"h = open_dataset(DatasetSpec({str(tmp_path / 'big')!r}))\n"
        "r = run_checklist(h)\n"
        "assert r.result('readable').verdict == 'pass', r.result('readable')\n"
        "print('torchvision' in sys.modules)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    imported_torchvision, grown_mb = out.stdout.split()[-2] == "True", int(out.stdout.split()[-1])
    assert grown_mb < 150, f"peak memory grew by {grown_mb} MB"
    # decoding needs only PIL and numpy; torchvision's import pulls in torch._dynamo (1.5 s, 900 modules)
    assert not imported_torchvision
