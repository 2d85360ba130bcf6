"""The box beside a run, once a second: CPU, memory, each NVIDIA GPU, and the writer of each watched run.

:class:`SystemSampler` reads CPU and memory through ``psutil``, the GPUs through
:class:`~dataloupe.core.system.gpus.Gpus` and the writers through
:class:`~dataloupe.core.system.writers.WriterFinder`, and returns a :class:`SystemSnapshot`, a frozen
value that can cross to the screen's thread. :meth:`SystemSampler.run` samples until its stop event
is set, handing each snapshot to a callback (the app's strip posts it as a message).

    python -c "from dataloupe.core.system import SystemSampler; s = SystemSampler(); s.sample(); import time; time.sleep(1); print(s.sample())"
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dataloupe.core.system.gpus import Gpus, GpuSample
from dataloupe.core.system.writers import WriterFinder, WriterProcess

SAMPLE_EVERY = 1.0
"""Seconds between two samples."""
MIN_CPU_WINDOW = 0.1
"""Seconds of CPU time a one-off sample measures over at least (``dataloupe watch --once``)."""


@dataclass(frozen=True)
class SystemSnapshot:
    """The box at one moment."""

    taken_at: float
    """Unix time of the sample."""
    cpu_percent: float | None
    """All cores together, 0-100 (None before a first interval was measured)."""
    cpu_count: int
    """Logical cores."""
    memory_used: int
    """Bytes of memory in use (total less what is available)."""
    memory_total: int
    """Bytes of memory."""
    gpus: tuple[GpuSample, ...]
    """Each NVIDIA GPU, numbered as nvidia-smi numbers them; empty where there is none."""
    gpu_note: str | None
    """"no GPU" where there is none or no NVIDIA driver; None otherwise."""
    cuda_visible: str | None
    """``CUDA_VISIBLE_DEVICES`` as this process sees it, None when unset."""
    writers: Mapping[str, WriterProcess | None] = field(default_factory=dict)
    """Run name → the process that writes it (None where none was found); a fresh dict, never changed."""


class SystemSampler:
    """Samples the box; follows the writers of the runs it is told about."""

    def __init__(
        self, interval: float = SAMPLE_EVERY, gpus: Gpus | None = None, writers: WriterFinder | None = None
    ) -> None:
        self.interval = interval
        """Seconds between two samples in :meth:`run`."""
        self.gpus = gpus or Gpus()
        """The GPUs."""
        self.writers = writers or WriterFinder()
        """The writer search."""
        self._primed_at: float | None = None

    def follow(self, runs: Mapping[str, str]) -> None:
        """Follow the writers of these runs (name → log path); safe to call from another thread."""
        self.writers.follow(runs)

    def prime(self) -> None:
        """Start the CPU interval that the next :meth:`sample` measures."""
        import psutil

        psutil.cpu_percent(None)
        self._primed_at = time.monotonic()

    def sample(self) -> SystemSnapshot:
        """The box as it is now. The first call (without :meth:`prime`) has no CPU figure yet."""
        import psutil

        cpu = psutil.cpu_percent(None) if self._primed_at is not None else None
        if cpu is None:
            self.prime()
        else:
            self._primed_at = time.monotonic()
        memory = psutil.virtual_memory()
        gpus = self.gpus.sample()
        held = self.gpus.process_memory() if gpus else None
        return SystemSnapshot(
            taken_at=time.time(),
            cpu_percent=cpu,
            cpu_count=psutil.cpu_count() or 1,
            memory_used=int(memory.total - memory.available),
            memory_total=int(memory.total),
            gpus=gpus,
            gpu_note=self.gpus.note,
            cuda_visible=os.environ.get("CUDA_VISIBLE_DEVICES"),
            writers=self.writers.poll(held),
        )

    def sample_once(self) -> SystemSnapshot:
        """One complete sample, CPU figures included: waits up to :data:`MIN_CPU_WINDOW` when
        :meth:`prime` was called less than that ago (or not at all). Writers are looked for once,
        and their CPU measured over the same window."""
        if self._primed_at is None:
            self.prime()
        self.writers.poll()  # find them; their CPU is measured from here
        self._primed_at = self._primed_at or time.monotonic()
        wait = MIN_CPU_WINDOW - (time.monotonic() - self._primed_at)
        if wait > 0:
            time.sleep(wait)
        return self.sample()

    def run(self, stop: threading.Event, on_sample: Callable[[SystemSnapshot], None]) -> None:
        """Sample every :attr:`interval` seconds until ``stop`` is set; each snapshot goes to ``on_sample``.
        NVML is released on the way out."""
        try:
            self.prime()
            wait = min(self.interval, 2 * MIN_CPU_WINDOW)  # the first figures soon after start
            while not stop.wait(wait):
                started = time.monotonic()
                on_sample(self.sample())
                wait = max(0.0, self.interval - (time.monotonic() - started))
        finally:
            self.close()

    def start(
        self,
        on_sample: Callable[[SystemSnapshot], None],
        on_error: Callable[[Exception], None] | None = None,
    ) -> threading.Event:
        """:meth:`run` in a daemon thread of its own; set the returned event to stop it. An unexpected
        error ends the thread and goes to ``on_error``."""
        stop = threading.Event()

        def body() -> None:
            try:
                self.run(stop, on_sample)
            except Exception as error:  # noqa: BLE001 - reported, never a traceback on the screen
                if on_error is not None:
                    on_error(error)

        threading.Thread(target=body, name="system sampler", daemon=True).start()
        return stop

    def close(self) -> None:
        """Release NVML."""
        self.gpus.close()
