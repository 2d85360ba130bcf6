"""A clock that a test moves by hand, in place of the one dataloupe's throttles and timers read.

    clock = FakeClock.install(monkeypatch, dataloupe.core.progress)
    clock.advance(0.2)  # as if 0.2 s had passed, without waiting for it

What a test checks then depends on the readings the code takes, never on how fast a loaded machine is.
"""

from __future__ import annotations

import time
from types import ModuleType, SimpleNamespace


class FakeClock:
    """``monotonic`` and ``perf_counter`` that return the real time plus what :meth:`advance` added;
    a ``frozen`` clock stands still between two advances."""

    def __init__(self, frozen: bool = False) -> None:
        self.offset = 0.0
        """Seconds added to the real clock (to the time of installing, when frozen)."""
        self.frozen_at = (time.monotonic(), time.perf_counter()) if frozen else None
        """The real readings the clock stands at, when frozen."""

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``."""
        self.offset += seconds

    def monotonic(self) -> float:
        return (self.frozen_at[0] if self.frozen_at else time.monotonic()) + self.offset

    def perf_counter(self) -> float:
        return (self.frozen_at[1] if self.frozen_at else time.perf_counter()) + self.offset

    @classmethod
    def install(cls, monkeypatch, *modules: ModuleType, frozen: bool = False) -> FakeClock:
        """Give each of ``modules`` this clock as its ``time`` (only that module's readings move)."""
        clock = cls(frozen)
        for module in modules:
            fake = SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
            fake.monotonic, fake.perf_counter = clock.monotonic, clock.perf_counter
            monkeypatch.setattr(module, "time", fake)
        return clock
