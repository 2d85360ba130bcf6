"""One reader per kind of source; :func:`open_dataset` picks the one a spec names.

- ``digits``: scikit-learn's bundled 8×8 digits (offline).
- ``torchvision_builtin``: MNIST, Fashion-MNIST, KMNIST, CIFAR-10/100, SVHN, USPS through torchvision.
- ``download``: fetching their files with progress, atomically.
- ``idx``: raw IDX files.
- ``table``, ``arrow_table``: a CSV or Parquet table with a label column (read with pyarrow).
- ``image_folder``: a folder of images in class sub-folders.
- ``user_code``: a Dataset or DataLoader from the user's own code (``file.py:NAME``).
- ``hf_disk``: a folder written by Hugging Face ``datasets``' ``save_to_disk`` (Arrow files, memory-mapped).
- ``parquet_shards``: Hub-style Parquet shards (``data/train-00000-of-00004.parquet``).
- ``webdataset``: WebDataset tar shards (a folder, one ``.tar``, or ``train-{00000..00003}.tar``).
- ``shard_files`` (local or remote files through pyarrow's filesystems), ``shard_images`` (samples in
  shards decoded on demand), ``arrow_rows``, ``tar_index`` and ``shard_tables``: what those three share.

Each reader builds a :class:`dataloupe.core.data.datasets.DatasetHandle` with ``dataloupe.core.data.datasets.build_handle``;
imports go one way, from here to the readers to ``dataloupe.core.data.datasets``, never back.

    python -c "from dataloupe.core.readers import open_dataset; from dataloupe.core.data.sources import DatasetSpec; \
h = open_dataset(DatasetSpec('digits')); print(h.describe()); print(h.split('train').info(0))"
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.progress import ProgressCallback

if TYPE_CHECKING:  # the readers import torch; each is imported when its source is opened
    from dataloupe.core.data.datasets import DatasetHandle


def open_dataset(
    spec: DatasetSpec,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DatasetHandle:
    """Open the dataset ``spec`` names. Raises :class:`~dataloupe.core.errors.DatasetError` with a message for the user."""
    reader = spec.reader()
    if reader == "digits":
        from dataloupe.core.readers.digits import open_digits

        return open_digits(spec)
    if reader == "builtin":
        from dataloupe.core.readers.torchvision_builtin import open_builtin

        return open_builtin(spec, progress=progress, cancel=cancel)
    if reader == "code":
        from dataloupe.core.readers.user_code import open_user_code

        return open_user_code(spec, progress=progress, cancel=cancel)
    if reader == "csv":
        from dataloupe.core.readers.table import open_csv

        return open_csv(spec, progress=progress, cancel=cancel)
    if reader == "remote":
        from dataloupe.core.readers.shard_files import remote_layout

        reader = remote_layout(spec.source)
    if reader == "parquet":
        from dataloupe.core.readers.parquet_shards import has_image_column

        if not has_image_column(spec):
            from dataloupe.core.readers.table import open_parquet

            return open_parquet(spec, progress=progress, cancel=cancel)
        reader = "parquet-shards"
    if reader == "arrow":
        from dataloupe.core.readers.hf_disk import open_saved_dataset

        return open_saved_dataset(spec, progress=progress, cancel=cancel)
    if reader == "parquet-shards":
        from dataloupe.core.readers.parquet_shards import open_parquet_shards

        return open_parquet_shards(spec, progress=progress, cancel=cancel)
    if reader == "webdataset":
        from dataloupe.core.readers.webdataset import open_webdataset

        return open_webdataset(spec, progress=progress, cancel=cancel)
    if reader == "idx":
        from dataloupe.core.readers.idx import open_idx_folder

        return open_idx_folder(spec, progress=progress, cancel=cancel)
    from dataloupe.core.readers.image_folder import open_image_folder

    return open_image_folder(spec, progress=progress, cancel=cancel)
