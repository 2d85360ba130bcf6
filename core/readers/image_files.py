"""Image files listed at open and decoded on demand, in bounded memory.

:func:`list_images` walks class folders, following symbolic links but never into a loop,
never to one file twice, and never into another class's folder (a file belongs to the class
folder it is really in), and can be cancelled. :class:`ImageFiles` holds one split's
paths and labels (nothing decoded) and reads sample ``i`` when it is asked for: an image
over the pixel limit is refused from its header, never decoded, and a file that cannot be
decoded is recorded and skipped (the next readable image of the same class stands in, so
labels stay true). :class:`DecodedCache` keeps decoded images up to a fixed byte budget.

    python -c "from dataloupe.core.readers.image_files import list_images; print(list_images('.', ['x']))"
"""

from __future__ import annotations

import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from dataloupe.core.errors import DatasetError
from dataloupe.core.memory import return_large_blocks_to_the_system
from dataloupe.core.progress import ProgressCallback, check_cancel, report

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
"""torchvision's ``ImageFolder`` list (``torchvision.datasets.folder.IMG_EXTENSIONS``): a folder counts the
samples the user's ImageFolder will train on. Other files (a ``.gif`` placeholder among the photos)
are skipped and counted as other files."""
MAX_PIXELS = 89_478_485
"""Pillow's own decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``): larger images are skipped."""
CACHE_BYTES = 128 * 2**20
"""Decoded images kept in memory, at most, across every split of a folder."""
EXAMPLES = 5
"""Paths kept as examples of skipped files: counts grow with the folder, example lists do not."""

# Pillow reports what it dislikes about a file as warnings (EXIF, palettes, large images). Those
# files are counted and named by the "readable" check; the raw warning never reaches the terminal.
warnings.filterwarnings("ignore", module=r"PIL(\.|$)")
warnings.filterwarnings("ignore", message=r".*(decompression bomb|DecompressionBomb).*")


return_large_blocks_to_the_system()  # decoded images come and go in blocks of a few MB


class Unreadable(Exception):  # noqa: N818 - an outcome for one file, caught where samples are read
    """One file cannot be used as an image; ``str()`` says why ("truncated", "not an image")."""


@dataclass
class Listing:
    """What :func:`list_images` found under one folder."""

    paths: list[str] = field(default_factory=list)
    """Image files, in class order then path order."""
    labels: list[int] = field(default_factory=list)
    """Class index of each path."""
    other_files: int = 0
    """Files without an image extension, skipped."""
    other_examples: list[str] = field(default_factory=list)
    """A few of those, for the message."""
    links_skipped: int = 0
    """Links that led back into a folder already listed (a loop) or to a file already listed."""
    links_into_classes: int = 0
    """Links into another class's folder, or to a folder that holds class folders (``a/up -> ..``)."""


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _into_other_classes(real: str, own: str, class_roots: list[str]) -> bool:
    """Whether a link whose target is ``real`` leads out of the class folder ``own`` into another class's
    folder, or to a folder above one (the dataset's root, a split, ``/``)."""
    if _inside(real, own):
        return False
    return any(_inside(real, root) or _inside(root, real) for root in class_roots)


def _file_id(st: os.stat_result) -> int:
    return (st.st_dev << 64) | st.st_ino


def list_images(
    folder: str | os.PathLike,
    classes: list[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    seen: set[int] | None = None,
    class_roots: list[str] | None = None,
) -> Listing:
    """Every image file under ``folder/<class>/`` (at any depth), following links without loops.

    ``seen`` holds the identities (device, inode) of folders and files already listed; pass one
    set for every split of a dataset so that a file reached twice is counted once. ``class_roots``
    holds the real paths of every class folder of the dataset (every split's): a link into one of
    them other than the class being listed, or above them, is skipped and counted, so that each file
    is listed by the class folder it is really in. By default, the ``classes`` under ``folder``.
    """
    seen = set() if seen is None else seen
    if class_roots is None:
        class_roots = [os.path.realpath(os.path.join(folder, c)) for c in classes if c]
    out = Listing()
    what = f"listing files in {Path(folder).name}"
    for label, name in enumerate(classes):
        if not name:  # a class this folder does not have
            continue
        stack = [os.path.join(folder, name)]
        own = os.path.realpath(stack[0])
        files: list[str] = []
        while stack:
            check_cancel(cancel)
            current = stack.pop()
            try:
                st = os.stat(current)
            except OSError:
                continue
            if _file_id(st) in seen:
                out.links_skipped += 1
                continue
            seen.add(_file_id(st))
            try:
                entries = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError:
                continue
            subdirs = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink() and _into_other_classes(os.path.realpath(entry.path), own, class_roots):
                    out.links_into_classes += 1
                    continue
                try:
                    is_dir = entry.is_dir()  # follows links
                except OSError:
                    continue
                if is_dir:
                    subdirs.append(entry.path)
                    continue
                if entry.name.lower().endswith(IMAGE_EXTENSIONS):
                    try:
                        ident = (
                            _file_id(entry.stat())
                            if entry.is_symlink()
                            else (st.st_dev << 64) | entry.inode()
                        )
                    except OSError:
                        continue  # a dangling link
                    if ident in seen:
                        out.links_skipped += 1
                        continue
                    seen.add(ident)
                    files.append(entry.path)
                elif entry.is_file():
                    out.other_files += 1
                    if len(out.other_examples) < EXAMPLES:
                        out.other_examples.append(entry.path)
            stack.extend(reversed(subdirs))
            report(progress, what, len(out.paths) + len(files), None)
        files.sort()
        out.paths.extend(files)
        out.labels.extend([label] * len(files))
    report(progress, what, len(out.paths), len(out.paths))
    return out


def image_header(path: str) -> tuple[str, tuple[int, int]]:
    """The PIL mode and (width, height) of an image, from its header alone (nothing is decoded)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.mode, img.size
    except Image.DecompressionBombError as e:
        raise Unreadable(f"too large to open safely ({e})") from None
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds; any of them means "not usable"
        raise Unreadable(_reason(e)) from None


def decode_image(path: str, mode: str, max_pixels: int) -> torch.Tensor:
    """One image as a C×H×W uint8 tensor in ``mode`` ("L" or "RGB"); :class:`Unreadable` otherwise.

    The header is read first: an image over ``max_pixels`` is refused before any pixel is decoded.
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            w, h = img.size
            if w * h > max_pixels:
                raise Unreadable(
                    f"{w:,}×{h:,} = {w * h / 1e6:.0f} megapixels, over the {max_pixels:,}-pixel limit"
                )
            converted = img.convert(mode)  # decodes
    except Unreadable:
        raise
    except Image.DecompressionBombError as e:
        raise Unreadable(f"too large to open safely ({e})") from None
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds; any of them means "not usable"
        raise Unreadable(_reason(e)) from None
    return pixels_chw(converted)


def pixels_chw(image) -> torch.Tensor:
    """A PIL image in mode "L" or "RGB" as a C×H×W uint8 tensor (what torchvision's ``pil_to_tensor``
    returns, without importing torchvision, whose import pulls in torch._dynamo: 1.5 s)."""
    array = np.array(image, dtype=np.uint8)  # a writable copy: H×W, or H×W×C
    tensor = torch.from_numpy(array)
    return tensor.unsqueeze(0) if array.ndim == 2 else tensor.permute(2, 0, 1)


def _reason(e: Exception) -> str:
    text = str(e)
    if "cannot identify image file" in text:
        return "not an image"
    if "truncated" in text or "broken data stream" in text:
        return "truncated"
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class DecodedCache:
    """Decoded images by key, least recently used dropped first, within ``budget`` bytes. Thread-safe."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        """Bytes of decoded pixels kept at most."""
        self.used = 0
        """Bytes kept now."""
        self._items: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> torch.Tensor | None:
        with self._lock:
            t = self._items.get(key)
            if t is not None:
                self._items.move_to_end(key)
            return t

    def put(self, key: tuple, t: torch.Tensor) -> None:
        size = t.numel() * t.element_size()
        if size > self.budget:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = t
            self.used += size
            while self.used > self.budget:
                _, old = self._items.popitem(last=False)
                self.used -= old.numel() * old.element_size()


class ImageFiles:
    """One split's image files: paths and labels, decoded one at a time when a sample is read."""

    def __init__(
        self,
        name: str,
        paths: list[str],
        labels: np.ndarray,
        mode: str,
        cache: DecodedCache,
        max_pixels: int = MAX_PIXELS,
    ) -> None:
        self.name = name
        """The split: "train" or "test"."""
        self.paths = paths
        """Every image file, by sample index."""
        self.labels = labels
        """int64 class of each file."""
        self.mode = mode
        """PIL mode every image is converted to: "L" (grey) or "RGB"."""
        self.cache = cache
        """Decoded images shared by every split of the folder."""
        self.max_pixels = max_pixels
        """Images with more pixels are skipped, never decoded."""
        self.bad: dict[int, str] = {}
        """Files found unreadable so far, by index, with the reason."""
        self.other_files = 0
        """Files beside the images without an image extension, skipped when listing."""
        self.other_examples: list[str] = []
        """A few of those."""
        self.root = ""
        """The split's folder, to write paths short."""
        self._lock = threading.Lock()
        self._by_class: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def _decode_now(self, i: int) -> torch.Tensor:
        """Sample ``i`` decoded from its file, past the cache; :class:`Unreadable` for a bad file.
        Readers whose images are not files (shards) replace this alone."""
        return decode_image(self.paths[i], self.mode, self.max_pixels)

    def decode(self, i: int) -> torch.Tensor:
        """Sample ``i`` decoded (from the cache when it is there); :class:`Unreadable` for a bad file."""
        key = (self.name, i)
        t = self.cache.get(key)
        if t is None:
            t = self._decode_now(i)
            self.cache.put(key, t)
        return t

    def check(self, i: int) -> str | None:
        """Decode file ``i`` fully, without keeping it: None when it is fine, else why it is not (recorded)."""
        if i in self.bad:
            return self.bad[i]
        try:
            if self.cache.get((self.name, i)) is None:
                self._decode_now(i)
        except Unreadable as e:
            self._mark(i, str(e))
            return str(e)
        return None

    def read(self, i: int) -> tuple[torch.Tensor, int]:
        """Sample ``i`` and its label; a bad file is skipped for the next readable one of its class."""
        label = int(self.labels[i])
        if i not in self.bad:
            try:
                return self.decode(i), label
            except Unreadable as e:
                self._mark(i, str(e))
        for j in self._same_class_after(i, label):
            if j in self.bad:
                continue
            try:
                return self.decode(j), label
            except Unreadable as e:
                self._mark(j, str(e))
        raise DatasetError(
            f"{self.name}: no image of class {label} can be read (the last tried: {self.paths[i]}, "
            f"{self.bad.get(i, 'unreadable')}). Replace those files or remove the class folder."
        )

    def _mark(self, i: int, reason: str) -> None:
        with self._lock:
            self.bad[i] = reason

    def _same_class_after(self, i: int, label: int) -> np.ndarray:
        members = self._by_class.get(label)
        if members is None:
            members = np.flatnonzero(self.labels == label)
            self._by_class[label] = members
        k = int(np.searchsorted(members, i))
        return np.concatenate([members[k + 1 :], members[:k]])


def scan_files(
    files: list[ImageFiles],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    on_file: Callable[[], None] | None = None,
) -> None:
    """Decode every file of ``files`` once, recording the unreadable ones; progress counts files done."""
    total = sum(len(f) for f in files)
    done = 0
    for f in files:
        for i in range(len(f)):
            if done % 32 == 0:
                check_cancel(cancel)
                report(progress, "reading every image file", done, total)
            f.check(i)
            done += 1
            if on_file is not None:
                on_file()
    report(progress, "reading every image file", total, total)
