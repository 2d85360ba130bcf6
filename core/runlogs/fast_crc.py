"""TensorBoard's record checksums computed in C: the one patch dataloupe applies to TensorBoard.

Without TensorFlow, TensorBoard reads event files with its stand-in
``tensorboard.compat.tensorflow_stub.pywrap_tensorflow.PyRecordReader_New``, which checks two
CRC32C checksums per record with a byte-by-byte loop in pure Python: nearly half of the
time it takes to read a million records. :func:`install` replaces that module's ``crc32c``
and ``masked_crc32c`` with functions that return exactly the same values, computed by the
``google-crc32c`` package's C extension. The reader looks the function up in its module at
every record, so every reader, open or not, uses the fast one from then on; anything else
(a corrupted record, a truncated one) behaves as before.

When ``google_crc32c`` is missing, or is its pure-Python fallback (``implementation`` other
than ``"c"``), nothing is patched and TensorBoard's own functions stay. With TensorFlow
installed TensorBoard uses TensorFlow's C++ reader, which never calls the patched functions.

    python -c "from dataloupe.core.runlogs.fast_crc import install; print(install()(b'123456789'))"
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

MaskedCrc = Callable[[bytes], int]
"""A function from record bytes to their masked CRC32C (as stored in a TFRecord)."""

_MASK = 0xFFFFFFFF
_MASK_DELTA = 0xA282EAD8  # TFRecord's masking constant

_installed: MaskedCrc | None = None
"""The masked CRC in use once :func:`install` has run."""
_lock = threading.Lock()  # readers start on worker threads: patch once, never wrap the fast one


def mask(crc: int) -> int:
    """A CRC32C masked as TFRecord stores it: rotated right by 15 bits, plus a constant (mod 2³²)."""
    return ((((crc >> 15) | (crc << 17)) & _MASK) + _MASK_DELTA) & _MASK


def c_crc32c() -> Callable[[bytes], int] | None:
    """``google_crc32c.value`` when its C extension is present, else None."""
    try:
        import google_crc32c
    except ImportError:
        return None
    if getattr(google_crc32c, "implementation", None) != "c":
        return None
    return google_crc32c.value


def fast_functions(value: Callable[[bytes], int], stub: Any) -> tuple[Callable[[Any], int], MaskedCrc]:
    """(crc32c, masked_crc32c) built on ``value``, falling back to ``stub``'s own for the inputs
    ``value`` refuses (bytearray, memoryview, a list of ints), so that they accept all it does."""
    slow_crc32c, slow_masked = stub.crc32c, stub.masked_crc32c

    def crc32c(data: Any) -> int:
        try:
            return value(data)
        except TypeError:
            return slow_crc32c(data)

    def masked_crc32c(data: Any) -> int:
        try:
            crc = value(data)
        except TypeError:
            return slow_masked(data)
        return ((((crc >> 15) | (crc << 17)) & _MASK) + _MASK_DELTA) & _MASK

    return crc32c, masked_crc32c


def install() -> MaskedCrc:
    """Patch TensorBoard's stand-in reader to use the C CRC (once; later calls just return).

    Returns the masked CRC function to use: the fast one, or TensorBoard's own when
    ``google_crc32c``'s C extension is not there."""
    global _installed
    with _lock:
        if _installed is None:
            from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as stub

            value = c_crc32c()
            if value is not None:
                stub.crc32c, stub.masked_crc32c = fast_functions(value, stub)
            _installed = stub.masked_crc32c
        return _installed
