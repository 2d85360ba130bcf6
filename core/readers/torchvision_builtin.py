"""torchvision's built-in datasets: MNIST, Fashion-MNIST, KMNIST, CIFAR-10/100, SVHN, USPS.

They are opened through torchvision (``datasets.MNIST(root, train=...)`` and so on),
never re-implemented: the reader builds each split with ``download=False``, reads
samples through the class's own ``__getitem__`` (a PIL image, turned into a uint8
C×H×W tensor), and uses its ``data`` and ``targets`` arrays for counting and for
the trainer's in-memory path. Downloads go through :mod:`dataloupe.core.readers.download`.
"""

from __future__ import annotations

import gzip
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import torch

from dataloupe.core.data.datasets import DatasetHandle, SplitData, build_handle
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.data.sources import BUILTINS, DatasetSpec
from dataloupe.core.errors import Cancelled, DatasetError, DownloadError
from dataloupe.core.progress import ProgressCallback, report
from dataloupe.core.readers.download import Resource, fetch, mirror_urls

MNIST_FAMILY = ("MNIST", "FashionMNIST", "KMNIST")


def _tv_class(class_name: str):
    import torchvision.datasets as tvd

    return getattr(tvd, class_name)


def resources(class_name: str, root: Path) -> list[Resource]:
    """Every file ``class_name`` needs under ``root``, from torchvision's own class attributes."""
    cls = _tv_class(class_name)
    if class_name in MNIST_FAMILY:
        raw = root / class_name / "raw"
        return [
            Resource(mirror_urls(tuple(m + name for m in cls.mirrors), name), raw / name, md5)
            for name, md5 in cls.resources
        ]
    if class_name in ("CIFAR10", "CIFAR100"):
        return [Resource(mirror_urls((cls.url,), cls.filename), root / cls.filename, cls.tgz_md5)]
    if class_name in ("SVHN", "USPS"):
        return [
            Resource(mirror_urls((url,), filename), root / filename, md5)
            for url, filename, md5 in cls.split_list.values()
        ]
    raise DatasetError(f"no download recipe for {class_name}")


def _present(class_name: str, res: Resource, root: Path) -> bool:
    """Whether a resource is already usable, so nothing needs fetching."""
    if class_name in MNIST_FAMILY:
        return res.path.exists() or res.path.with_suffix("").exists()
    if class_name in ("CIFAR10", "CIFAR100"):
        return (root / _tv_class(class_name).base_folder).is_dir() or res.path.exists()
    return res.path.exists()


def _unpack(class_name: str, res: Resource, root: Path) -> None:
    """Put a fetched archive into the form torchvision reads without downloading."""
    if class_name in MNIST_FAMILY:
        target = res.path.with_suffix("")
        if res.path.exists() and not target.exists():
            part = target.with_name(target.name + ".part")
            try:
                with gzip.open(res.path, "rb") as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(part, target)
            except (OSError, EOFError) as e:
                part.unlink(missing_ok=True)
                raise DatasetError(
                    f"{res.path}: cannot decompress it ({e}). Delete it and download again, or put an "
                    f"uncompressed {target.name} beside it."
                ) from e
    elif (
        class_name in ("CIFAR10", "CIFAR100")
        and not (root / _tv_class(class_name).base_folder).is_dir()
        and res.path.exists()
    ):
        from torchvision.datasets.utils import extract_archive

        extract_archive(str(res.path), str(root))


def _what_to_do(info_title: str, class_name: str, root: Path, files: list[Resource]) -> str:
    where = files[0].path.parent if files else root
    names = ", ".join(r.name for r in files)
    return (
        f"To use {info_title} without a network, put its files ({names}) under {where}/ "
        f"and open it again with --root {root}; or choose the bundled dataset (dataloupe digits), "
        "which needs no download."
    )


def open_builtin(
    spec: DatasetSpec,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """Open a torchvision dataset under ``spec.resolved_root``, downloading first when asked."""
    info = BUILTINS[spec.source.lower()]
    class_name = info.torchvision_class
    assert class_name is not None
    root = spec.resolved_root
    needed = resources(class_name, root)
    missing = [r for r in needed if not _present(class_name, r, root)]

    if missing and spec.download:
        for k, res in enumerate(missing, start=1):
            report(progress, f"downloading {res.name} ({k} of {len(missing)})", 0, None)
            try:
                fetch(res, progress, cancel)
            except Cancelled:
                raise
            except DownloadError as e:
                raise DownloadError(
                    f"Could not download {info.title} to {root}: {res.name} failed ({e}).\n"
                    + _what_to_do(info.title, class_name, root, needed)
                ) from None
        missing = []
    for res in needed:
        _unpack(class_name, res, root)

    cls = _tv_class(class_name)
    splits: dict[str, SplitData] = {}
    failures: dict[str, str] = {}
    for split in ("train", "test"):
        report(progress, f"reading {info.title} {split}", 0, None)
        try:
            if class_name == "SVHN":
                ds = cls(str(root), split=split, download=False)
            else:
                ds = cls(str(root), train=(split == "train"), download=False)
        except (RuntimeError, FileNotFoundError, OSError) as e:
            failures[split] = str(e).splitlines()[0]
            continue
        splits[split] = _split_from_torchvision(ds, class_name)

    if not splits:
        hint = (
            "Add --download (in the app: tick download) to fetch it"
            if not spec.download
            else "The download finished but torchvision cannot read it"
        )
        raise DatasetError(
            f"{info.title} is not under {root} ({failures.get('train', 'not found')}). {hint}, "
            f"or change the root.\n" + _what_to_do(info.title, class_name, root, needed)
        )
    notes = [f"read by torchvision.datasets.{class_name}(root={str(root)!r})"]
    for split, reason in failures.items():
        notes.append(f"no {split} split: {reason}")

    classes = _classes(cls, class_name, splits)
    channels = 3 if class_name in ("CIFAR10", "CIFAR100", "SVHN") else 1
    pipeline = Pipeline.for_images(channels)
    return build_handle(
        name=info.title,
        reader="builtin",
        classes=classes,
        splits=splits,
        pipeline=pipeline,
        notes=notes,
        location=str(root),
        spec=spec,
        cancel=cancel,
    )


def _classes(cls, class_name: str, splits: dict[str, SplitData]) -> list[str]:
    names = getattr(cls, "classes", None)
    if class_name == "CIFAR100" or not names:
        any_split = next(iter(splits.values()))
        names = getattr(any_split, "_tv_classes", None) or names
    if not names:
        n = int(max(int(s.targets.max()) for s in splits.values() if s.targets is not None)) + 1
        names = [str(i) for i in range(n)]
    return list(names)


def _split_from_torchvision(ds, class_name: str) -> SplitData:
    """Wrap a torchvision dataset: its own ``__getitem__`` for samples, its arrays for the rest."""
    from torchvision.transforms.functional import pil_to_tensor

    targets = getattr(ds, "targets", None)
    if targets is None:
        targets = getattr(ds, "labels", None)
    targets_np = np.asarray(targets, dtype=np.int64) if targets is not None else None

    data = ds.data
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    if data.ndim == 3:  # N×H×W grey
        array = data.unsqueeze(1)
    elif class_name in ("CIFAR10", "CIFAR100"):  # N×H×W×C
        array = data.permute(0, 3, 1, 2)
    else:  # SVHN is stored N×C×H×W already
        array = data
    array = array.contiguous()

    def read(i: int) -> tuple[torch.Tensor, int]:
        img, label = ds[i]
        return pil_to_tensor(img), int(label)

    split = SplitData(
        length=len(ds), read=read, targets=targets_np, array=array, origin=f"torchvision {class_name}"
    )
    split._tv_classes = getattr(ds, "classes", None)  # type: ignore[attr-defined]
    return split
