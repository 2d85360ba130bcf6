"""An image folder counts what torchvision's ImageFolder counts: a ``.gif`` among the photos is skipped."""

from __future__ import annotations

from PIL import Image
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.readers import open_dataset
from dataloupe.core.readers.image_files import IMAGE_EXTENSIONS

from support.makers import write_image_folder


def test_the_extensions_are_imagefolders():
    assert set(IMAGE_EXTENSIONS) == set(IMG_EXTENSIONS)


def test_a_gif_placeholder_is_skipped_as_imagefolder_skips_it(tmp_path):
    root = write_image_folder(tmp_path / "insects" / "train", {"ants": 4, "bees": 3})
    Image.new("P", (12, 10)).save(root / "ants" / "imageNotFound.gif")
    handle = open_dataset(DatasetSpec(str(tmp_path / "insects")))
    assert handle.splits["train"].length == len(ImageFolder(str(root))) == 7
    said = " ".join(handle.notes)
    assert (
        "skipped 1 non-image file, as torchvision's ImageFolder would (e.g. train/ants/imageNotFound.gif)"
        in said
    )
