"""Ending a DataLoader iterator's worker processes without waiting on them.

A ``DataLoader`` with ``num_workers > 0`` ends its worker processes when its iterator is freed. When
that iterator is freed inside a garbage collection (it hangs off a reference cycle: an exception's
traceback, a widget tree), its queues are finalized first and the workers never get the signal to
stop: the collection then blocks for two timeouts of 5 s per iterator, in whichever thread it ran,
the UI's included. So every iterator dataloupe abandons is released here: its workers are told to
stop in a background thread, while its queues are still alive, and nothing waits for them.
"""

from __future__ import annotations

import threading
from typing import Any


def release(iterator: Any) -> None:
    """Stop ``iterator``'s worker processes in the background; nothing for an iterator without workers."""
    shutdown = getattr(iterator, "_shutdown_workers", None)  # torch's multi-process iterator only
    if shutdown is None or getattr(iterator, "_shutdown", True):
        return
    threading.Thread(target=shutdown, name="dataloupe-loader-shutdown", daemon=True).start()


def release_all(box: list[Any]) -> None:
    """Release the iterators in ``box`` and empty it (a ``weakref.finalize`` callback holds the box)."""
    for iterator in box:
        release(iterator)
    box.clear()
