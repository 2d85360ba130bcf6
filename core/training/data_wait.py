"""How much of a training loop's time goes to waiting for data rather than computing.

Measured on the host around the two halves of each step: the time spent inside the loader's
``next()`` is waiting; the time from the batch's arrival to the end of the step is computing. On a
GPU the host runs ahead of the device until the device's queue is full, so over many steps the
host's computing time follows the device's. The share is taken over the last :data:`WINDOW` steps,
and given only once :data:`MIN_STEPS` have run (the first batches pay for start-up).

    timer = DataWait()
    for batch in timer.timed(loader):
        train_step(batch)
        timer.stepped()
    print(timer.share(), timer.warning("cuda"))
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Batch = TypeVar("Batch")

WINDOW = 200
"""Steps over which the share is measured: recent enough to follow a change, long enough to be steady."""
MIN_STEPS = 20
"""Steps before a share is given."""
WARN_ABOVE = 0.5
"""Share of the time spent waiting for data above which the run is starved by its loader."""


class DataWait:
    """Splits each step's time into waiting for data and computing."""

    def __init__(self, window: int = WINDOW, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        """Seconds, as a monotonic clock gives them."""
        self._steps: deque[tuple[float, float]] = deque(maxlen=window)
        self._waiting = 0.0
        self._computing = 0.0
        self._wait = 0.0
        self._arrived: float | None = None

    def timed(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        """``batches``, timing each ``next()``; call :meth:`stepped` after each step."""
        it = iter(batches)
        while True:
            start = self.clock()
            try:
                batch = next(it)
            except StopIteration:
                return
            self._arrived = self.clock()
            self._wait = self._arrived - start
            yield batch

    def stepped(self) -> None:
        """The step on the last batch is done."""
        if self._arrived is None:
            return
        computing = self.clock() - self._arrived
        self._arrived = None
        if len(self._steps) == self._steps.maxlen:
            old_wait, old_computing = self._steps[0]
            self._waiting -= old_wait
            self._computing -= old_computing
        self._steps.append((self._wait, computing))
        self._waiting += self._wait
        self._computing += computing

    def share(self) -> float | None:
        """The part of the recent steps' time spent waiting for data, 0..1 (None before :data:`MIN_STEPS`)."""
        total = self._waiting + self._computing
        if len(self._steps) < MIN_STEPS or total <= 0:
            return None
        return min(1.0, max(0.0, self._waiting / total))


def data_wait_warning(share: float | None, device: str) -> str | None:
    """What to do when the loader takes more than half the time (``device`` as torch names it), else None."""
    if share is None or share <= WARN_ABOVE:
        return None
    if device.startswith("cuda"):
        return f"the GPU waits for data {share:.0%} of the time: raise num_workers or hold the data on the device"
    return f"training waits for data {share:.0%} of the time: raise num_workers or hold the data in memory"


def split_words(share: float) -> str:
    """The split for a status line: ``waiting for data 12% · computing 88%``."""
    return f"waiting for data {share:.0%} · computing {1 - share:.0%}"
