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

    python -c "from dataloupe.core.threads import default_threads; print(default_threads())"
"""

from __future__ import annotations

import os
import sys

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
