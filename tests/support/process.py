"""Process tuning for the test workers: torch's threads shared between workers, and Pilot's idle wait.

Both are called once from ``conftest.py``, before any test module imports torch or textual.
"""

from __future__ import annotations

import os


def share_the_cores() -> None:
    """Under pytest-xdist, give each worker its share of the cores for torch's threads.

    Every worker (and every program a test starts, which inherits the environment) would
    otherwise run as many threads as the machine has cores, and two workers on two cores would
    spend their time preempting each other. Set before torch is imported; an explicit
    ``OMP_NUM_THREADS`` wins.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        os.environ.setdefault("MKL_NUM_THREADS", str(threads))


def wait_for_the_event_loop_only() -> None:
    """Make Pilot's "wait until idle" wait for the app's event loop, not for the whole process.

    ``pilot.press`` waits for idle twice per key and ``pilot.pause()`` once; Textual judges idle by
    the process's CPU time, up to 1 s each. While a worker thread is busy (a training run, a count)
    the process never idles, so every key cost 2 s, during which that thread ran flat out and took
    the core from the other test worker. The question the wait answers is whether the app has
    handled what it was sent: the event loop's own thread time answers it. Workers are awaited by
    ``settle`` and ``wait_for``, as before.
    """
    import asyncio
    import time

    import textual._wait
    import textual.app
    import textual.pilot

    granularity, idle = textual._wait.SLEEP_GRANULARITY, textual._wait.SLEEP_IDLE

    async def wait_for_idle(min_sleep: float = granularity, max_sleep: float = 1) -> None:
        start = time.monotonic()
        while True:
            cpu = time.thread_time()
            await asyncio.sleep(granularity)
            busy = time.thread_time() - cpu
            elapsed = time.monotonic() - start
            if elapsed >= max_sleep or (elapsed > min_sleep and busy < idle):
                return

    textual.app.wait_for_idle = wait_for_idle
    textual.pilot.wait_for_idle = wait_for_idle
