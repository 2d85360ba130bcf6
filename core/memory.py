"""Memory: glibc's allocator told to give memory back (best effort, Linux/glibc only), and running out of it
recognised whoever raised it, with a message that says how much was asked for and what to try.

    python -c "from dataloupe.core.memory import trim_freed_memory; trim_freed_memory()"
"""

from __future__ import annotations

import contextlib
import re
import sys


def _libc():
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def return_large_blocks_to_the_system() -> None:
    """Have glibc map allocations of 1 MB and more on their own and unmap them when freed.

    Decoding images of many sizes allocates and frees blocks of a few MB each; glibc's adaptive
    threshold would otherwise keep them in the heap, where they fragment and the peak RSS grows
    with the number of images read rather than with the cache.
    """
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD


def trim_freed_memory() -> None:
    """Return the heap's free pages to the system (``malloc_trim``).

    Parsing a CSV frees many small buffers that glibc keeps: 1M rows left +170 MB resident after
    a 49 MB table was read, and the float32 arrays built next came on top of it.
    """
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)


_ASKED = (
    re.compile(r"you tried to allocate (\d+) bytes"),  # torch's CPU allocator
    re.compile(r"[Tt]ried to allocate (\d+(?:\.\d+)?) ?([KMGT]i?B|bytes|B)\b"),  # CUDA
    re.compile(r"[Uu]nable to allocate (\d+(?:\.\d+)?) ?([KMGT]i?B|B)\b"),  # numpy
)
_UNITS = {"B": 1, "bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_UNITS.update({"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12})
_OUT_OF_MEMORY_TEXT = (
    "out of memory",
    "DefaultCPUAllocator: can't allocate memory",
    "Cannot allocate memory",
    "not enough memory",
)
"""What the allocators' RuntimeErrors say (torch's CPU allocator, CUDA, MPS)."""


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is the machine running out of memory, on the CPU or a GPU, whoever raised it:
    Python's and numpy's ``MemoryError``, torch's ``OutOfMemoryError``, or an allocator's RuntimeError
    (torch's CPU allocator raises a plain RuntimeError)."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and any(s in text for s in _OUT_OF_MEMORY_TEXT)


def requested_bytes(error: BaseException) -> int | None:
    """How many bytes the allocation that failed asked for, when the error says (torch, CUDA, numpy)."""
    text = str(error)
    for pattern in _ASKED:
        found = pattern.search(text)
        if found:
            unit = found.group(2) if found.lastindex and found.lastindex > 1 else "B"
            return int(float(found.group(1)) * _UNITS.get(unit, 1))
    return None


def out_of_memory_message(error: BaseException, doing: str = "", tips: str = "") -> str:
    """The message for running out of memory: where, how much was asked for, and what to try.

    ``doing`` says when ("while building the model"); ``tips`` replaces the usual advice.
    """
    from dataloupe.core.wording import size

    on = " on the GPU" if "CUDA" in str(error) or "cuda" in type(error).__module__ else ""
    asked = requested_bytes(error)
    amount = f" (it asked for {size(asked)} more)" if asked else ""
    when = f" {doing}" if doing else ""
    advice = tips or (
        "Try smaller hidden layers (--hidden), a smaller batch size (--batch-size), fewer samples "
        "(--limit, for your own Dataset), or the DataLoader path"
    )
    return f"out of memory{on}{when}{amount}. {advice}."
