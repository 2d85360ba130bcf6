"""How fast dataloupe shows something: the first screen, one sample, a grid of 64.

    python tests/bench/bench_first_screen.py

Prints figures, not verdicts. The first screen is measured in a real terminal (tmux): the
time from starting the command to the status line appearing, and to the first sample
drawn (which needs torch). Rendering is timed on the real MNIST test images when
DATALOUPE_TEST_DATA is set, otherwise on the bundled digits.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

DATALOUPE = Path(sys.executable).parent / "dataloupe"


def first_screen(runs: int = 5) -> None:
    if shutil.which("tmux") is None:
        print("first screen: tmux not installed, skipped")
        return
    to_screen, to_sample = [], []
    for _ in range(runs):
        name = f"bench-{uuid.uuid4().hex[:6]}"
        t0 = time.perf_counter()
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", f"{DATALOUPE}; sleep 30"],
            check=True,
        )
        seen_screen = None
        try:
            while time.perf_counter() - t0 < 60:
                out = subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
                ).stdout
                now = time.perf_counter() - t0
                if seen_screen is None and "Dataset" in out and "Preview" in out:
                    seen_screen = now
                if "sample 0 of" in out:
                    to_sample.append(now)
                    break
                time.sleep(0.005)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        if seen_screen is not None:
            to_screen.append(seen_screen)
    print(f"first screen (tabs drawn), median of {runs}: {statistics.median(to_screen) * 1000:7.0f} ms")
    print(
        f"first sample drawn (torch loaded, digits open), median: {statistics.median(to_sample) * 1000:7.0f} ms"
    )
    print(
        f"  ratio first sample / first screen: {statistics.median(to_sample) / statistics.median(to_screen):.1f}×"
    )


def torch_at_first_paint() -> None:
    code = (
        "import asyncio, sys\n"
        "from dataloupe.tui.app import build_app\n"
        "async def main():\n"
        "    app = build_app()\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        while app.first_paint is None:\n"
        "            await pilot.pause(0.001)\n"
        "        print(app.first_paint, 'torch' in sys.modules)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    print(f"headless app: first paint after {float(out[0]) * 1000:.0f} ms; torch imported by then: {out[1]}")


def render_times() -> None:
    import numpy as np

    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    from dataloupe.core.render import render, render_grid
    from dataloupe.tui.widgets.sample_view import to_strips

    data = os.environ.get("DATALOUPE_TEST_DATA")
    if data:
        split = open_dataset(DatasetSpec(str(Path(data) / "mnist"))).split("test")
        label = "real MNIST test images (28×28)"
    else:
        split = open_dataset(DatasetSpec("digits")).split("train")
        label = "bundled digits (8×8)"

    def one(i: int) -> None:
        x, _ = split[i]
        to_strips(render(x.numpy(), 60, 20))

    def grid(start: int) -> None:
        images, captions = [], []
        for i in range(start, start + 64):
            x, y = split[i]
            images.append(x.numpy())
            captions.append(f"{i}:{y}")
        to_strips(render_grid(images, captions, 240, 100))

    for name, fn, n in (
        ("one sample (read + render + strips)", one, 200),
        ("grid of 64 (read + render + strips)", grid, 20),
    ):
        times = []
        for k in range(n):
            t = time.perf_counter()
            fn(k)
            times.append(time.perf_counter() - t)
        print(
            f"{name} on {label}: median {statistics.median(times) * 1000:.2f} ms, p95 {np.percentile(times, 95) * 1000:.2f} ms"
        )


if __name__ == "__main__":
    first_screen()
    torch_at_first_paint()
    render_times()
