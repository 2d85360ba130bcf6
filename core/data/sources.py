"""Where a dataset comes from: a built-in name or a path, and the options that go with it.

Torch-free on purpose: the app lists the built-in datasets and shows the default
root on its first screen, before torch has finished importing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dataloupe.core.errors import DatasetError

BUNDLED = "digits"
"""The dataset that ships with the install and needs no network."""


@dataclass(frozen=True)
class BuiltinInfo:
    """A dataset known by name."""

    name: str
    """Name on the command line and in the app: "fashion-mnist"."""
    title: str
    """Display name: "Fashion-MNIST"."""
    torchvision_class: str | None
    """Class in ``torchvision.datasets``, or None for the bundled dataset."""
    about: str
    """One line for the chooser: size, image shape, classes."""


BUILTINS: dict[str, BuiltinInfo] = {
    b.name: b
    for b in (
        BuiltinInfo(
            BUNDLED,
            "digits (bundled)",
            None,
            "1,797 handwritten digits, 8×8, 10 classes; ships with the install",
        ),
        BuiltinInfo("mnist", "MNIST", "MNIST", "70,000 handwritten digits, 28×28 grey, 10 classes"),
        BuiltinInfo(
            "fashion-mnist", "Fashion-MNIST", "FashionMNIST", "70,000 clothing images, 28×28 grey, 10 classes"
        ),
        BuiltinInfo(
            "kmnist", "KMNIST", "KMNIST", "70,000 cursive Japanese characters, 28×28 grey, 10 classes"
        ),
        BuiltinInfo("cifar10", "CIFAR-10", "CIFAR10", "60,000 photos, 32×32 colour, 10 classes"),
        BuiltinInfo("cifar100", "CIFAR-100", "CIFAR100", "60,000 photos, 32×32 colour, 100 classes"),
        BuiltinInfo("svhn", "SVHN", "SVHN", "99,289 house-number digits, 32×32 colour, 10 classes"),
        BuiltinInfo("usps", "USPS", "USPS", "9,298 postal digits, 16×16 grey, 10 classes"),
    )
}

Reader = Literal[
    "builtin",
    "digits",
    "folder",
    "idx",
    "csv",
    "parquet",
    "custom",
    "code",
    "arrow",
    "parquet-shards",
    "webdataset",
    "remote",
]
"""Which reader opens a source (``custom``: torch datasets wrapped by ``dataloupe.core.data.datasets.from_datasets``;
``code``: a Dataset or DataLoader named in the user's own code, ``file.py:NAME``; ``arrow``: a folder written
by ``datasets``' ``save_to_disk``; ``parquet-shards``: Hub-style Parquet shards; ``webdataset``: tar shards;
``remote``: a URL, whose layout is learned by listing it when it is opened)."""

STREAM_LIMIT = 10_000
"""Samples taken from the start of a stream (an ``IterableDataset``) to describe and check it."""

_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_CODE_SOURCE = re.compile(rf"^(?P<module>.+\.py|{_NAME}):(?P<name>{_NAME})$")


def code_source(source: str) -> tuple[str, str] | None:
    """``(file or module, NAME)`` when ``source`` names something in Python code, else None.

    ``path/to/file.py:NAME`` and ``package.module:NAME``; NAME may be dotted (``mod:Data.train``).
    """
    match = _CODE_SOURCE.match(source.strip())
    if match is None:
        return None
    return match["module"], match["name"]


SPLITS = ("train", "test")
"""The split names every source maps to."""


def default_root() -> Path:
    """The per-user folder where torchvision datasets are kept (and downloaded to).

    ``DATALOUPE_ROOT`` overrides it.
    """
    env = os.environ.get("DATALOUPE_ROOT")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("dataloupe", appauthor=False) / "datasets"


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to open a dataset: what the command line or the dataset pane asks for."""

    source: str = BUNDLED
    """A built-in name (see :data:`BUILTINS`), a path to a folder or a .csv file, or ``file.py:NAME``."""
    root: Path | None = None
    """Folder for torchvision datasets; None means :func:`default_root`."""
    download: bool = False
    """Fetch a torchvision dataset that is not under ``root`` yet."""
    label: str | None = None
    """Tables only: the label column (default: the last column)."""
    threshold: float | None = None
    """Tables only: split a numeric label into two classes, low (<= T) and high (> T)."""
    resize: str | None = None
    """Images only: "64" (shorter side to 64, then a centre crop to 64×64) or "64x48" (exactly W×H)."""
    max_pixels: int | None = None
    """Image folders: images with more pixels than this are skipped, never decoded (default: Pillow's limit)."""
    keys: tuple[str, str] | None = None
    """Dict samples from user code: the input key and the label key (``--keys INPUT,LABEL``)."""
    limit: int = STREAM_LIMIT
    """Streams from user code: samples taken from the start to describe and check it (``--limit``)."""
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    """Reserved for source-specific options; not part of the identity."""

    @property
    def resolved_root(self) -> Path:
        """``root``, or the default root when none was given."""
        return Path(self.root).expanduser() if self.root else default_root()

    @property
    def is_builtin(self) -> bool:
        """True for a name in :data:`BUILTINS`."""
        return self.source.lower() in BUILTINS

    def __post_init__(self) -> None:
        if self.resize is not None:
            object.__setattr__(self, "resize", parse_resize(self.resize))
        if self.max_pixels is not None and int(self.max_pixels) < 1:
            raise DatasetError(f"--max-pixels must be a positive whole number, got {self.max_pixels!r}.")

    def reader(self) -> Reader:
        """Which reader opens this source: digits, builtin, code, csv, parquet, idx or folder.

        Raises :class:`DatasetError` for a path that does not exist or that no reader
        understands, with a message that says what was expected.
        """
        if self.is_builtin:
            return "digits" if self.source.lower() == BUNDLED else "builtin"
        if "://" in self.source:
            return "remote"
        path = Path(self.source).expanduser()
        if not path.exists() and code_source(self.source) is not None:
            return "code"
        if not path.exists() and _BRACES.search(self.source) and self.source.lower().endswith(".tar"):
            return "webdataset"  # a brace pattern of shards: train-{00000..00003}.tar
        if not path.exists():
            names = ", ".join(BUILTINS)
            raise DatasetError(
                f"{self.source}: no such file or folder, and not a built-in dataset name.\n"
                f"Give a built-in name ({names}), a folder of images in class sub-folders, "
                "a folder of IDX files, a .csv file, a save_to_disk folder, Parquet or .tar shards (or "
                "shards/train-{00000..00003}.tar), or a Dataset in your code as file.py:NAME or package.module:NAME."
            )
        if path.is_file():
            if path.suffix.lower() in (".csv", ".txt", ".tsv") or path.name.lower().endswith(".csv.gz"):
                return "csv"
            if path.suffix.lower() in (".parquet", ".pq"):
                return "parquet"
            if path.suffix.lower() == ".tar":
                return "webdataset"
            if path.suffix.lower() == ".py":
                raise DatasetError(
                    f"{path}: a Python file, but which of its names is the data? Add it after a colon: "
                    f"{self.source}:NAME, where NAME is a Dataset, a DataLoader, a (train, test) pair, "
                    "a dict with train and test keys, or a function that returns one."
                )
            raise DatasetError(
                f"{path}: a file, but not a .csv table, a .parquet file or a .tar shard. Pass a table, a shard, "
                "or the folder that holds IDX files, image class sub-folders or shards."
            )
        if looks_like_idx_folder(path):
            return "idx"
        return shard_layout(path) or "folder"


_BRACES = re.compile(r"\{[^{}]*\}")
SHARD_SUFFIXES = {".parquet": "parquet-shards", ".pq": "parquet-shards", ".tar": "webdataset"}
"""File suffixes of shard sets, and the reader of each."""


def shard_layout(folder: Path) -> Reader | None:
    """Which shard reader a local folder needs (``arrow``, ``parquet-shards``, ``webdataset``), or None.

    Looks at file names only: ``dataset_dict.json`` or ``state.json`` beside ``dataset_info.json``
    (``save_to_disk``), then ``.parquet`` files in ``data/`` or the folder itself, then ``.tar`` files.
    """
    if (folder / "dataset_dict.json").is_file() or (
        (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file()
    ):
        return "arrow"
    for where in (folder / "data", folder):
        if not where.is_dir():
            continue
        with os.scandir(where) as entries:
            suffixes = {os.path.splitext(e.name)[1].lower() for e in entries if e.is_file()}
        for suffix, reader in SHARD_SUFFIXES.items():
            if suffix in suffixes:
                return reader  # type: ignore[return-value]
        if where.name == "data" and any(
            p.suffix.lower() in (".parquet", ".pq") for p in where.glob("*/*.parquet")
        ):
            return "parquet-shards"
    return None


IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The IDX file names of each split (each may also end in .gz)."""


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``folder``, plain or gzip-compressed; accepts the ``.``-for-``-`` variant."""
    for name in (stem, stem.replace("-idx", ".idx"), stem + ".gz", stem.replace("-idx", ".idx") + ".gz"):
        p = folder / name
        if p.is_file():
            return p
    return None


def looks_like_idx_folder(folder: Path) -> bool:
    """True when ``folder`` holds at least one IDX image file of a known split."""
    return any(find_idx_file(folder, images) for images, _ in IDX_NAMES.values())


def parse_resize(text: str | int) -> str:
    """``--resize`` written as dataloupe stores it: "64" (shorter side, then a centre crop) or "64x48" (W×H).

    Accepts "64", "64x48", "64×48" and "64,48"; raises :class:`DatasetError` with what to type otherwise.
    """
    raw = str(text).strip().lower().replace("×", "x").replace(",", "x").replace(" ", "")
    parts = raw.split("x")
    if not all(p.isdigit() and 0 < int(p) <= 16_384 for p in parts) or len(parts) > 2:
        raise DatasetError(
            f"--resize {text!r}: write one size, 64 (shorter side to 64, then a centre crop to 64×64), "
            "or width x height, 64x48 (exactly 64 wide and 48 high); each from 1 to 16,384."
        )
    return "x".join(str(int(p)) for p in parts)


def resize_size(resize: str) -> tuple[int, int]:
    """(height, width) of an image after ``resize`` ("64" → (64, 64), "64x48" → (48, 64))."""
    parts = [int(p) for p in resize.split("x")]
    return (parts[0], parts[0]) if len(parts) == 1 else (parts[1], parts[0])
