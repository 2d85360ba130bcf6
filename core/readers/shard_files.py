"""Where shards live: a local folder or a URL, listed and read through pyarrow's filesystem layer.

Every shard reader (``save_to_disk`` folders, Hub-style Parquet, WebDataset tars) names its files
as a :class:`Location` and opens them here, so that ``s3://bucket/data`` or ``gs://…`` works
wherever pyarrow has that filesystem, and local paths go the same way. Split names come from
file names (``train-00000-of-00004.parquet``, ``test-000.tar``) or from a split folder.

    python -c "from dataloupe.core.readers.shard_files import expand_braces; \
print(expand_braces('shards/train-{00000..00003}.tar'))"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from dataloupe.core.errors import DatasetError

SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "test": "test",
    "testing": "test",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
}
"""Words in a shard's name (or its folder's) that name its split, and the split each means."""
_LEADING_WORD = re.compile(r"^([A-Za-z]+)(?:[-_.]|$)")
_BRACES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Location:
    """A file or folder on some filesystem: pyarrow's ``FileSystem`` and the path within it."""

    fs: Any
    """A ``pyarrow.fs.FileSystem``."""
    path: str
    """The path as that filesystem writes it (no scheme; "/" separators)."""
    url: str = ""
    """The scheme and host part of a remote source ("s3://bucket"), "" for local files."""

    @property
    def name(self) -> str:
        """The last part of the path."""
        return PurePosixPath(self.path).name

    @property
    def is_local(self) -> bool:
        return not self.url

    def child(self, name: str) -> Location:
        return Location(self.fs, f"{self.path.rstrip('/')}/{name}", self.url)

    def parent(self) -> Location:
        return Location(self.fs, str(PurePosixPath(self.path).parent), self.url)

    def __str__(self) -> str:
        return f"{self.url}{self.path}" if self.url else self.path


def is_url(source: str) -> bool:
    """Whether ``source`` is a URL ("s3://…", "gs://…", "file:///…"): opened through ``FileSystem.from_uri``.

    ``file://`` URLs take that path too, so that the code remote storage runs is tested on local files."""
    return "://" in source


def locate(source: str) -> Location:
    """The :class:`Location` of a local path or a URL that pyarrow can open."""
    import pyarrow.fs as pafs

    if is_url(source):
        try:
            fs, path = pafs.FileSystem.from_uri(source)
        except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for an unknown scheme
            raise DatasetError(
                f"{source}: pyarrow cannot open this URL ({e}). Use a scheme this pyarrow build supports "
                "(s3://, gs://, hdfs://), or copy the shards to a local folder."
            ) from e
        return Location(fs, path, source[: source.index("://") + 3] + path_host(source, path))
    import os

    path = os.path.abspath(os.path.expanduser(source))
    return Location(pafs.LocalFileSystem(), path.replace(os.sep, "/"))


def path_host(source: str, path: str) -> str:
    """The part between the scheme and the path in ``source``, for display ("" for s3://bucket/…)."""
    rest = source[source.index("://") + 3 :]
    return rest[: len(rest) - len(path)] if rest.endswith(path) else ""


def expand_braces(pattern: str) -> list[str]:
    """``train-{00000..00003}.tar`` → four names; ``{a,b}`` alternatives too (as WebDataset writes shard sets)."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    head, body, tail = pattern[: match.start()], match[1], pattern[match.end() :]
    if ".." in body:
        low, _, high = body.partition("..")
        if not (low.isdigit() and high.isdigit()):
            raise DatasetError(f"{pattern}: a range must be two whole numbers, {{00000..00003}}.")
        width = len(low) if low.startswith("0") else 0
        options = [str(n).zfill(width) for n in range(int(low), int(high) + 1)]
    else:
        options = body.split(",")
    return [name for option in options for name in expand_braces(head + option + tail)]


def has_braces(source: str) -> bool:
    return _BRACES.search(source) is not None


def file_size(loc: Location) -> int | None:
    """The size of a file, or None when there is no such file."""
    import pyarrow.fs as pafs

    try:
        info = loc.fs.get_file_info(loc.path)
    except OSError as e:
        raise DatasetError(f"{loc}: cannot reach it ({e}).") from e
    return info.size if info.type == pafs.FileType.File else None


def is_folder(loc: Location) -> bool:
    import pyarrow.fs as pafs

    try:
        return loc.fs.get_file_info(loc.path).type == pafs.FileType.Directory
    except OSError:
        return False


def list_files(loc: Location, recursive: bool = False) -> list[Location]:
    """The files in a folder (sorted by path; hidden ones left out)."""
    import pyarrow.fs as pafs

    try:
        infos = loc.fs.get_file_info(pafs.FileSelector(loc.path, allow_not_found=True, recursive=recursive))
    except OSError as e:
        raise DatasetError(f"{loc}: cannot list it ({e}).") from e
    files = [
        Location(loc.fs, info.path, loc.url)
        for info in infos
        if info.type == pafs.FileType.File and not info.base_name.startswith((".", "_"))
    ]
    return sorted(files, key=lambda f: f.path)


def read_text(loc: Location) -> str | None:
    """A small text file's contents, or None when it does not exist."""
    if file_size(loc) is None:
        return None
    with loc.fs.open_input_stream(loc.path) as f:
        return f.read().decode("utf-8-sig", errors="replace")


def read_json(loc: Location) -> Any:
    """A JSON file's contents, None when it does not exist; a :class:`DatasetError` when it is not JSON."""
    text = read_text(loc)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{loc}: not valid JSON ({e}). Write it again, or remove it.") from e


def split_of(path: str) -> str | None:
    """The split a shard belongs to, from its name or its folder's: "train", "test", "validation", or None."""
    parts = PurePosixPath(path).parts
    match = _LEADING_WORD.match(parts[-1])
    if match and match[1].lower() in SPLIT_WORDS:
        return SPLIT_WORDS[match[1].lower()]
    if len(parts) > 1 and parts[-2].lower() in SPLIT_WORDS:
        return SPLIT_WORDS[parts[-2].lower()]
    return None


def group_by_split(files: list[Location]) -> tuple[dict[str, list[Location]], list[str]]:
    """Shards grouped into "train" and "test" by their names, and notes on how (see :func:`choose_splits`)."""
    named: dict[str, list[Location]] = {}
    for f in files:
        named.setdefault(split_of(f.path) or "", []).append(f)
    return choose_splits(named, "shard")


def choose_splits(named: dict[str, list], what: str = "split") -> tuple[dict[str, list], list[str]]:
    """Items by split name ("" or an unknown word: no split named) mapped to "train" and "test", and notes.

    Items under no split name are the training split when no item names one, else left out. A
    validation split becomes the test split when there is no test split; otherwise it is left out.
    """
    known: dict[str, list] = {}
    unnamed: list = []
    for name, items in named.items():
        split = SPLIT_WORDS.get(name.lower()) if name else None
        if split is None:
            unnamed.extend(items)
        else:
            known.setdefault(split, []).extend(items)
    if not known:
        return {"train": unnamed}, [f"no test split: no {what} is named train, test or validation"]
    notes: list[str] = []
    if unnamed:
        example = getattr(unnamed[0], "name", unnamed[0])
        notes.append(
            f"{len(unnamed):,} {what}(s) named for no split left out (e.g. {example}); "
            "name them train, test or validation"
        )
    if "validation" in known:
        if "test" not in known:
            known["test"] = known.pop("validation")
            notes.append("the validation split is the test split")
        else:
            known.pop("validation")
            notes.append("the validation split is left out: the test split is used")
    if "test" not in known:
        notes.append(f"no test split: no {what} is named test or validation")
    return {s: known[s] for s in ("train", "test") if s in known}, notes


def remote_layout(source: str) -> str:
    """Which shard reader a URL needs, learned from its name or by listing it: ``webdataset``,
    ``parquet-shards`` or ``arrow``; a :class:`DatasetError` when it holds none of those."""
    lowered = source.lower()
    if lowered.endswith(".tar"):
        return "webdataset"
    if lowered.endswith((".parquet", ".pq")):
        return "parquet-shards"
    root = locate(source)
    if (
        file_size(root.child("dataset_dict.json")) is not None
        or file_size(root.child("state.json")) is not None
    ):
        return "arrow"
    names = [f.path.lower() for f in list_files(root, recursive=True)]
    if any(n.endswith((".parquet", ".pq")) for n in names):
        return "parquet-shards"
    if any(n.endswith(".tar") for n in names):
        return "webdataset"
    raise DatasetError(
        f"{source}: no save_to_disk folder, Parquet shards or .tar shards there. Point to the folder that "
        "holds them (remote storage opens these three kinds)."
    )
