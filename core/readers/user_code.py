"""A Dataset or DataLoader from the user's own code: ``path/to/file.py:NAME`` or ``package.module:NAME``.

The file's folder and the current folder are importable, as ``python file.py`` would have them. NAME
may be a map-style Dataset, an ``IterableDataset`` (a stream: its first ``spec.limit`` samples are
read), a DataLoader (kept on the handle, so batches come from that very loader), a ``(train, test)``
tuple or list, a dict with ``train`` and ``test`` (or ``val``/``valid``/``validation``) keys, or a
zero-argument function returning one of these. Samples are read by :class:`dataloupe.core.data.samples.SampleReader`.

Whenever the user's code raises (importing it, calling NAME, ``__getitem__``, iterating the loader),
:class:`~dataloupe.core.errors.UserCodeError` carries their own traceback, their file and line, as its message.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
print(open_dataset(DatasetSpec('mydata.py:train_set')).describe())"
"""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from dataloupe.core.data.datasets import DatasetHandle, SplitData, build_handle
from dataloupe.core.data.pipeline import OWN_TRANSFORM, Pipeline
from dataloupe.core.data.samples import SampleReader, describe, feature_class_names
from dataloupe.core.data.sources import DatasetSpec, code_source
from dataloupe.core.errors import DatasetError, UserCodeError
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.user_calls import MISSING, look_up, required_arguments, run_user
from dataloupe.core.wording import duration, plural

TEST_KEYS = ("test", "val", "valid", "validation")
"""Keys of a dict that name its held-out split, tried in this order."""
EXPECTED = (
    "a Dataset, a DataLoader, a (train, test) tuple or list, a dict with train and test (or val) keys, "
    "or a function without arguments that returns one of these"
)
"""What NAME should be, for messages."""
LABEL_REPORT_EVERY = 64
"""Samples read between two progress reports (and cancel checks) when labels are read one by one."""


def _is_dataset(obj: Any) -> bool:
    if isinstance(obj, Dataset):
        return True
    plain = (str, bytes, list, tuple, dict, np.ndarray, torch.Tensor, type)
    return hasattr(obj, "__getitem__") and hasattr(obj, "__len__") and not isinstance(obj, plain)


def _is_data(obj: Any) -> bool:
    return isinstance(obj, DataLoader) or _is_dataset(obj)


def _what_module_offers(module: Any) -> str:
    found = []
    for key, value in vars(module).items():
        if key.startswith("_") or inspect.ismodule(value):
            continue
        if _is_data(value) or (inspect.isfunction(value) and value.__module__ == module.__name__):
            found.append(f"{key} ({describe(value).removeprefix('a ').removeprefix('an ')})")
    return ", ".join(found[:10]) if found else "nothing that looks like data"


def resolve(source: str) -> tuple[Any, str]:
    """What ``file.py:NAME`` or ``module:NAME`` names, called when it is a function, and where it lives."""
    parsed = code_source(source)
    if parsed is None:
        raise DatasetError(f"{source}: expected path/to/file.py:NAME or package.module:NAME.")
    target, name = parsed
    module, location, obj = look_up(target, name)
    if obj is MISSING:
        raise DatasetError(
            f"{target} has no {name!r}. It defines: {_what_module_offers(module)}. "
            f"Name one of them after the colon; it should be {EXPECTED}."
        )
    if _is_data(obj) or isinstance(obj, torch.nn.Module):
        return obj, location
    if isinstance(obj, type) and not issubclass(obj, Dataset):
        raise DatasetError(f"{source} is the class {obj.__qualname__}, not data: expected {EXPECTED}.")
    if callable(obj):
        needed = required_arguments(obj)
        if needed:
            raise DatasetError(
                f"{source} is a function that needs arguments ({', '.join(needed)}): dataloupe calls it "
                "without any. Give them defaults, or wrap it in a function without arguments."
            )
        obj = run_user(f"calling {name}()", obj)
    return obj, location


# ---------------------------------------------------------------------- what NAME is
def split_objects(obj: Any, source: str) -> tuple[dict[str, Any], DataLoader | None]:
    """The Dataset of each split ("train", maybe "test") and the user's training DataLoader, if any."""
    if isinstance(obj, torch.nn.Module):
        raise DatasetError(
            f"{source} is a model ({describe(obj)}), not data: expected {EXPECTED}. "
            "Point dataloupe at the data the model trains on."
        )
    parts: dict[str, Any]
    if _is_data(obj):
        parts = {"train": obj}
    elif isinstance(obj, tuple | list) and len(obj) == 2 and all(_is_data(o) for o in obj):
        parts = {"train": obj[0], "test": obj[1]}
    elif isinstance(obj, dict) and "train" in obj:
        parts = {"train": obj["train"]}
        test_key = next((k for k in TEST_KEYS if k in obj), None)
        if test_key is not None:
            parts["test"] = obj[test_key]
        for key, value in parts.items():
            if not _is_data(value):
                raise DatasetError(
                    f"{source}[{key!r}] is {describe(value)}: expected a Dataset or DataLoader."
                )
    elif isinstance(obj, dict):
        have = ", ".join(str(k) for k in obj) or "no keys"
        raise DatasetError(
            f"{source} is a dict with keys {have}: expected a train key (and test, val, valid or validation)."
        )
    else:
        raise DatasetError(f"{source} is {describe(obj)}: expected {EXPECTED}.")
    loader = parts["train"] if isinstance(parts["train"], DataLoader) else None
    datasets = {k: v.dataset if isinstance(v, DataLoader) else v for k, v in parts.items()}
    return datasets, loader


def class_names_of(dataset: Any) -> list[str] | None:
    """Class names from the dataset's ``classes`` or ``class_to_idx`` (or its parent's, for a Subset)."""
    for ds in (dataset, getattr(dataset, "dataset", None)):
        if ds is None:
            continue
        classes = getattr(ds, "classes", None)
        if isinstance(classes, list | tuple) and classes:
            return [str(c) for c in classes]
        mapping = getattr(ds, "class_to_idx", None)
        if isinstance(mapping, dict) and mapping:
            return [str(k) for k, _ in sorted(mapping.items(), key=lambda kv: kv[1])]
    return None


def _targets_of(dataset: Any, length: int) -> np.ndarray | None:
    """int64 labels from a ``targets`` or ``labels`` attribute with one entry per sample (a Subset's
    from its parent's), or None."""
    parent, indices = getattr(dataset, "dataset", None), getattr(dataset, "indices", None)
    if parent is not None and indices is not None and not isinstance(parent, IterableDataset):
        try:
            whole = _targets_of(parent, len(parent))
            if whole is not None and len(indices) == length:
                return whole[np.asarray(indices, dtype=np.int64)]
        except Exception:  # noqa: BLE001 - not a Subset after all: read the samples instead
            pass
    for attr in ("targets", "labels"):
        values = getattr(dataset, attr, None)
        if values is None or isinstance(values, str) or not hasattr(values, "__len__"):
            continue
        try:
            array = np.asarray(values.cpu() if isinstance(values, torch.Tensor) else values)
        except Exception:  # noqa: BLE001 - an attribute of another kind: read the samples instead
            continue
        if array.ndim == 1 and len(array) == length and np.issubdtype(array.dtype, np.integer):
            return array.astype(np.int64)
    return None


# ---------------------------------------------------------------------- reading splits
def _map_split(
    name: str,
    dataset: Any,
    reader: SampleReader,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    notes: list[str],
) -> SplitData:
    if not hasattr(dataset, "__len__"):
        raise DatasetError(
            f"the {name} Dataset ({type(dataset).__name__}) has no __len__: a map-style Dataset needs "
            "__len__ and __getitem__. Add __len__, or make it an IterableDataset (a stream)."
        )
    length = run_user(f"asking len() of the {name} Dataset", len, dataset)

    def read(i: int) -> tuple[torch.Tensor, int]:
        sample = run_user(f"reading sample {i} of the {name} split", dataset.__getitem__, i)
        try:
            return reader(sample)
        except DatasetError as e:
            raise DatasetError(f"sample {i} of the {name} split: {e}") from None

    targets = _targets_of(dataset, length)
    if targets is None and length:
        t0 = time.perf_counter()
        targets = np.empty(length, np.int64)
        what = f"reading the {name} labels sample by sample"
        for i in range(length):
            if i % LABEL_REPORT_EVERY == 0:
                check_cancel(cancel)
                report(progress, what, i, length)
            targets[i] = read(i)[1]
        report(progress, what, length, length)
        notes.append(
            f"{name} labels read sample by sample in {duration(time.perf_counter() - t0)} "
            f"({type(dataset).__name__} has no targets or labels attribute with one entry per sample)"
        )
    return SplitData(length=length, read=read, targets=targets, origin=type(dataset).__name__)


def _stream_split(
    name: str,
    dataset: Any,
    reader: SampleReader,
    limit: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    notes: list[str],
) -> SplitData:
    samples: list[torch.Tensor] = []
    labels: list[int] = []
    what = f"reading the first {limit:,} samples of the {name} stream"
    stream = run_user(f"starting the {name} stream", iter, dataset)
    while len(samples) < limit:
        if len(samples) % LABEL_REPORT_EVERY == 0:
            check_cancel(cancel)
            report(progress, what, len(samples), limit)
        try:
            sample = run_user(f"reading sample {len(samples)} of the {name} stream", next, stream)
        except UserCodeError as e:
            if isinstance(e.__cause__, StopIteration):
                break
            raise
        try:
            x, y = reader(sample)
        except DatasetError as e:
            raise DatasetError(f"sample {len(samples)} of the {name} stream: {e}") from None
        samples.append(x)
        labels.append(y)
    report(progress, what, limit, limit)
    if not samples:
        raise DatasetError(f"the {name} stream ({type(dataset).__name__}) gave no samples.")
    ended = len(samples) < limit
    notes.append(
        f"{name} is a stream ({type(dataset).__name__}): "
        + (
            f"it ended after {plural(len(samples), 'sample')}, all read"
            if ended
            else f"balance and checks describe a sample of it, its first {len(samples):,} samples (--limit)"
        )
    )
    array = torch.stack(samples) if len({tuple(s.shape) for s in samples}) == 1 else None
    y = np.asarray(labels, dtype=np.int64)

    def read(i: int) -> tuple[torch.Tensor, int]:
        return samples[i], int(y[i])

    return SplitData(length=len(samples), read=read, targets=y, array=array, origin=type(dataset).__name__)


def pipeline_for(first: torch.Tensor) -> Pipeline:
    """The scaling pipeline of samples like ``first``: uint8 images as ToTensor, anything else as returned."""
    if first.ndim == 1:
        n = first.shape[0]
        return Pipeline(
            "table",
            (0.0,) * n,
            (1.0,) * n,
            (0.0,) * n,
            (1.0,) * n,
            mode="raw",
            pixel_name=OWN_TRANSFORM,
        )
    if first.dtype == torch.uint8:
        return Pipeline.for_images(first.shape[0], high=255.0)
    return Pipeline.for_images(first.shape[0], high=1.0, pixel_name=OWN_TRANSFORM)


def open_user_code(
    spec: DatasetSpec,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """Open what ``spec.source`` (``file.py:NAME`` or ``module:NAME``) names in the user's code."""
    report(progress, f"running {spec.source}", 0, None)
    obj, location = resolve(spec.source)
    datasets, loader = split_objects(obj, spec.source)
    reader = SampleReader(spec.keys)
    notes: list[str] = []
    splits: dict[str, SplitData] = {}
    for name, dataset in datasets.items():
        if isinstance(dataset, IterableDataset):
            splits[name] = _stream_split(name, dataset, reader, spec.limit, progress, cancel, notes)
        else:
            splits[name] = _map_split(name, dataset, reader, progress, cancel, notes)
    non_empty = [s for s in splits.values() if s.length]
    if not non_empty:
        raise DatasetError(f"{spec.source}: every split is empty.")
    first = non_empty[0].read(0)[0]
    classes = class_names_of(datasets["train"]) or feature_class_names(datasets["train"], spec.keys)
    if classes is None:
        seen = [int(s.targets.max()) for s in splits.values() if s.targets is not None and s.length]
        classes = [str(k) for k in range(max(seen, default=0) + 1)]
        notes.append(
            f"class names: the labels seen, 0..{len(classes) - 1} (the Dataset has no classes attribute)"
        )
    if loader is not None:
        from dataloupe.core.batching.user_loader import LoaderFacts

        notes.append(f"batches come from {LoaderFacts.read(loader).describe()}")
    handle = build_handle(
        name=spec.source,
        reader="code",
        classes=classes,
        splits=splits,
        pipeline=pipeline_for(first),
        notes=notes,
        location=location,
        spec=spec,
        cancel=cancel,
    )
    handle.loader = loader
    return handle
