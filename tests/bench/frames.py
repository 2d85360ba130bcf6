"""For the benchmarks that time a key to the screen: when each frame of a headless app was drawn."""

from __future__ import annotations

import time


def record_frames(app) -> list[float]:
    """Wrap ``app``'s display so that every frame it draws appends its ``perf_counter`` time to the
    list returned (call it inside ``run_test``, once the app is running)."""
    frames: list[float] = []
    original_display = app._display

    def display(screen, renderable) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        original_display(screen, renderable)

    app._display = display
    return frames
