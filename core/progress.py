"""Progress reports and cancellation for long work.

Every long loop in ``core`` takes an optional ``progress`` callback and an optional
``cancel`` event (a ``threading.Event``). The app passes a callback that posts a
message and the worker's own event; a script passes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dataloupe.core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """How far a piece of long work has come."""

    what: str
    """What is being done, for a label: "downloading train-images-idx3-ubyte.gz"."""
    done: float
    """Units finished so far."""
    total: float | None
    """Units in all, or None when unknown."""

    @property
    def fraction(self) -> float | None:
        """Share finished, 0..1, or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]
"""Receives a :class:`Progress`; it must be cheap and thread-safe."""


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def report(progress: ProgressCallback | None, what: str, done: float, total: float | None) -> None:
    """Send one report when there is a callback."""
    if progress is not None:
        progress(Progress(what, done, total))


PROGRESS_INTERVAL = 0.1
"""Seconds between two progress reports that reach the screen: a fast loop cannot flood it."""


class Throttle:
    """Lets a report through at most once per ``interval`` seconds; ``final=True`` always passes."""

    def __init__(self, interval: float = PROGRESS_INTERVAL) -> None:
        self.interval = interval
        """Smallest gap between two reports, in seconds."""
        self._last = float("-inf")

    def ready(self, final: bool = False) -> bool:
        """True when a report may go out now (and records that it did)."""
        now = time.monotonic()
        if final or now - self._last >= self.interval:
            self._last = now
            return True
        return False
