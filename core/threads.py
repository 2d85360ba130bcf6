"""How many CPU threads torch uses: chosen once, at start-up, for the whole process.

torch's own default is one thread per core. On a machine that others share that
collapses: with two threads on a busy two-core machine, an epoch that takes 0.2 s with
one thread took up to 25 s, because each step waits for the slowest of its threads
(``tests/bench/bench_training.py --load`` measures it). The small models dataloupe
trains gain little from more threads, so the default is half the cores, at most
:data:`MAX_DEFAULT_THREADS`. ``--threads N`` or ``OMP_NUM_THREADS`` choose another.

The count is a process-wide setting: it is set here, in the main thread before any work
starts, never from a worker (a worker changing it would change every other worker's).
This module does not import torch: before torch loads it sets ``OMP_NUM_THREADS``, which
torch reads when it does.

:data:`GIVE_WAY` is the other process-wide setting: the thread that answers the user raises it
while it does, and the loops that train call :meth:`GiveWay.wait` between two steps, so that a
key is answered without sharing the GIL with a training step (see :class:`GiveWay`).

    python -c "from dataloupe.core.threads import default_threads; print(default_threads())"
"""

from __future__ import annotations

import os
import sys
import threading
import time

from dataloupe.core.errors import SettingsError

MAX_DEFAULT_THREADS = 4
"""More threads than this buy the tutorials' MLP nothing, even on a quiet machine."""
ENV = "OMP_NUM_THREADS"
"""The variable torch reads for its thread count when it loads."""


def default_threads(cores: int | None = None) -> int:
    """Half the cores (at least 1, at most :data:`MAX_DEFAULT_THREADS`): ``cores`` or this machine's."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_THREADS, cores // 2))


def set_threads(requested: int = 0) -> int:
    """Set the process's torch thread count once, at start-up, and return it.

    ``requested`` 0 means the default: ``OMP_NUM_THREADS`` when the user set it, else
    :func:`default_threads`. Call it from the main thread before any worker starts.
    """
    if requested < 0:
        raise SettingsError(f"threads {requested}: use 0 (the default) or a positive number.")
    n = requested or _from_environment() or default_threads()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    else:
        os.environ[ENV] = str(n)  # torch reads it when it loads, whichever thread imports it
    return n


def _from_environment() -> int:
    try:
        return max(0, int(os.environ.get(ENV, "")))
    except ValueError:
        return 0


GIVE_WAY_LIMIT = 0.5
"""Seconds after being raised that :data:`GIVE_WAY` counts as lowered whatever happens: a side that
forgot to lower it, or a key whose answer takes long, holds a loop up this long at most."""


class GiveWay:
    """A process-wide "the user is waiting" signal from the interactive thread to the computing ones.

    Python runs one thread at a time (the GIL). While a model trains in a thread, the thread that
    draws the screen gets the GIL back only when the training thread lets it go, and a key took
    twice as long to reach the screen as the same work on a quiet process (14 ms of the UI thread's
    CPU took 29 ms). With this, ``bench_keys.py`` went from p50 38 ms and p95 65 ms while training
    to 25-27 and 44-45 ms (the same build otherwise). The interactive side :meth:`raise_` s it when a key
    arrives and :meth:`lower` s it once the screen shows the answer; a training loop that calls
    :meth:`wait` between two steps sleeps meanwhile, releasing the GIL. A key costs training a few
    milliseconds; nothing else changes. The watch reader waits for it between two runs' logs too.
    A script never raises it, and :meth:`wait` is then one attribute read.
    """

    def __init__(self, limit: float = GIVE_WAY_LIMIT) -> None:
        self.limit = limit
        """Seconds after :meth:`raise_` that it counts as lowered anyway."""
        self._down = threading.Event()
        self._down.set()
        self._raised_at = 0.0
        self.raised = 0
        """Times it was raised (tests read it)."""
        self.waited = 0
        """Times a loop waited for it (tests read it)."""

    @property
    def up(self) -> bool:
        """It is raised, and not for longer than :attr:`limit`: loops wait at their next step."""
        return not self._down.is_set() and time.monotonic() - self._raised_at < self.limit

    def raise_(self) -> None:
        """The user waits for this thread: loops wait between steps until :meth:`lower`."""
        self.raised += 1
        self._raised_at = time.monotonic()
        self._down.clear()

    def lower(self) -> None:
        """The answer is on screen: loops go on."""
        self._down.set()

    def wait(self) -> None:
        """Between two steps of a loop: while it is raised, sleep (releasing the GIL) until it is
        lowered, or until :attr:`limit` seconds after it was raised."""
        if self._down.is_set():
            return
        left = self.limit - (time.monotonic() - self._raised_at)
        if left > 0:
            self.waited += 1
            self._down.wait(left)


GIVE_WAY = GiveWay()
"""The process's one :class:`GiveWay` (the GIL it is about is the process's)."""
