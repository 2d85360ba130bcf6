"""Reading a data file whole, gzip-compressed or not (detected by content, not name)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from dataloupe.core.errors import DatasetError


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip; a :class:`DatasetError` that names the file otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"{path}: cannot read it ({e.strerror or e}).") from e
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DatasetError(
                f"{path}: the gzip data is damaged or cut short ({e}). Download the file again, "
                "or decompress a good copy next to it."
            ) from e
    return raw
