"""How soon things stop: the timing bounds that the unit tests check by condition only.

- a pause is not counted as training time (a run paused for 0.3 s of wall time);
- a garbage collection frees a user's DataLoader with worker processes without waiting on them
  (the old code blocked two 5 s joins);
- ``x`` in the training pane ends a run (from the key to the run's end);
- an unwritable ``--save`` is refused before training starts.

    python tests/bench/bench_stops.py
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the support package


def pause_accounting() -> tuple[float, float, float]:
    """(wall seconds of run(), the run's own elapsed seconds, the pause it counted) for a one-epoch
    run paused once for 0.3 s."""
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    from dataloupe.core.settings import TrainConfig
    from dataloupe.core.training.run import TrainingRun

    pause = threading.Event()
    seen: list[str] = []

    def on_report(s) -> None:
        seen.append(s.state)
        if s.step >= 3 and not pause.is_set() and "paused" not in seen:
            pause.set()
            threading.Timer(0.3, pause.clear).start()

    handle = open_dataset(DatasetSpec("digits"))
    config = TrainConfig(epochs=1, report_interval=0.0, batch_size=32, device="cpu")
    run = TrainingRun(handle, config, on_report, pause=pause)
    run.prepare()
    t0 = time.perf_counter()
    final = run.run()
    return time.perf_counter() - t0, final.elapsed, run._paused_total


def loader_collection() -> float:
    """Seconds one gc.collect() takes to free a stepper over a DataLoader with 2 worker processes."""
    from dataloupe.core.batching import LoaderSettings
    from dataloupe.core.batching.user_loader import stepper_for
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset

    code = textwrap.dedent(
        """
        import torch
        from torch.utils.data import DataLoader, Dataset

        class Blobs(Dataset):
            def __len__(self):
                return 40

            def __getitem__(self, i):
                return torch.zeros(1, 4, 4), i % 2

        loader = DataLoader(Blobs(), batch_size=4, num_workers=2)
        """
    )
    folder = Path(tempfile.mkdtemp())
    (folder / "blobs.py").write_text(code)
    handle = open_dataset(DatasetSpec(f"{folder / 'blobs.py'}:loader"))
    stepper = stepper_for(handle, handle.split("train"), LoaderSettings())
    stepper.step()
    holder = {"stepper": stepper}
    holder["self"] = holder
    del stepper, holder
    t0 = time.perf_counter()
    gc.collect()
    return time.perf_counter() - t0


async def pane_stop() -> float:
    """Seconds from pressing x to the training pane's run having ended (a long run, batch 1)."""
    from dataloupe.tui.app import AppOptions, build_app
    from dataloupe.tui.panes.training_pane import TrainingPane

    from support.pilot import settle, wait_for

    app = build_app(AppOptions())
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        pane = app.query_one(TrainingPane)
        await wait_for(pilot, lambda: pane.built and bool(pane.children), timeout=30)
        await settle(app, pilot)
        from dataclasses import replace

        pane.start_run(replace(pane.query_one("#train-settings").config(), epochs=1000, batch_size=1))
        await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.step > 50, timeout=60)
        t0 = time.perf_counter()
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running, timeout=60)
        return time.perf_counter() - t0


def refused_save() -> float:
    """Seconds ``dataloupe train digits --epochs 50 --save /proc/x.pt`` takes to refuse."""
    import subprocess

    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", "train", "digits", "--epochs", "50", "--save", "/proc/x.pt"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    return time.perf_counter() - t0


def main() -> None:
    wall, elapsed, paused = pause_accounting()
    print(
        f"pause of 0.3 s: run() took {wall:.2f} s, the run counts {elapsed:.2f} s of training and "
        f"{paused:.2f} s paused (goal: wall - elapsed ≥ 0.25)"
    )
    print(
        f"gc of a DataLoader with 2 workers: {loader_collection():.3f} s (goal < 1 s; the old code took 10 s)"
    )
    print(f"training pane, x to the run's end: {asyncio.run(pane_stop()):.3f} s (goal < 1 s)")
    print(f"an unwritable --save refused after {refused_save():.2f} s (goal: before any epoch, < 10 s)")


if __name__ == "__main__":
    main()
