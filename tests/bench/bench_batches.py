"""Speed of the batch stepper and the batches pane, on the 10,000 real MNIST test images (IDX reader).

1. Build one batch of 64 (through the real DataLoader) and draw it as the pane does (grid + strips).
2. Jump to batch 150 without decoding the batches before it, against walking there.
3. Hold the next-batch key: 50 presses fired at the pane under ``run_test`` (all at once, and at a
   keyboard's auto-repeat rate of 30/s); the pane must draw far fewer than 50 batches and end on
   the latest.

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_batches.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

PRESSES = 50
"""Key presses in the held-key measure."""
REPEAT_RATE = 30.0
"""Presses per second of a typical keyboard auto-repeat."""
BATCH = 64


def data_root() -> Path:
    env = os.environ.get("DATALOUPE_TEST_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    if not (root / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"bench_batches: no MNIST test images under {root}/mnist; set DATALOUPE_TEST_DATA.")
    return root


def median_ms(fn, repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def bench_core(mnist: Path) -> None:
    from dataloupe.core.batching import BatchStepper, LoaderSettings
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    from dataloupe.tui.panes.batch_job import BatchJob
    from dataloupe.tui.panes.batch_job import draw as _draw

    t0 = time.perf_counter()
    handle = open_dataset(DatasetSpec(str(mnist)))
    opened = time.perf_counter() - t0
    split = handle.split("test")
    settings = LoaderSettings(batch_size=BATCH, seed=0)
    t0 = time.perf_counter()
    stepper = BatchStepper(split, settings)
    made = time.perf_counter() - t0
    print(f"MNIST test split via the IDX reader: {len(split):,} images, opened in {opened * 1000:.0f} ms")
    print(f"stepper (DataLoader, sampler, epoch order) made in {made * 1000:.1f} ms")

    build_ms = median_ms(lambda: stepper.step())
    batch = stepper.current
    assert batch is not None and tuple(batch.x.shape) == (BATCH, 1, 28, 28)
    for cols, rows in ((42, 18), (120, 40)):  # the grid at 80×24, and on a large terminal
        job = BatchJob(0, handle, "test", settings, None, (), False, False, cols, rows, False)
        draw_ms = median_ms(lambda job=job: _draw(batch, job), repeat=10)
        print(
            f"one batch of {BATCH}: build {build_ms:.1f} ms + draw {draw_ms:.1f} ms at {cols}×{rows} cells "
            f"= {build_ms + draw_ms:.1f} ms"
        )

    walker = BatchStepper(split, settings)
    t0 = time.perf_counter()
    for _ in range(151):
        walker.step()
    walk = time.perf_counter() - t0
    jumper = BatchStepper(split, settings)
    t0 = time.perf_counter()
    jumped = jumper.jump(150)
    jump = time.perf_counter() - t0
    assert jumped.summary.indices == walker.current.summary.indices  # type: ignore[union-attr]
    print(
        f"batch 150: jump {jump * 1000:.1f} ms vs walking batch by batch {walk * 1000:.0f} ms "
        f"({walk / jump:.0f}× faster, same samples)"
    )


async def held_key(mnist: Path, interval: float) -> tuple[int, float, int, bool]:
    """(batches drawn, seconds from the last press to the latest batch on screen, final index, stale seen)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from support.pilot import settle
    from textual import events

    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.tui.app import AppOptions, build_app
    from dataloupe.tui.panes.batches_pane import BatchesPane

    app = build_app(AppOptions(spec=DatasetSpec(str(mnist)), split="test"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        await pilot.press("b", *str(BATCH), "enter")
        await settle(app, pilot)
        pane = app.query_one("#batches-pane", BatchesPane)
        assert pane.summary is not None and pane.summary.size == BATCH
        start, renders, seen = pane.summary.index, pane.renders, len(pane.shown)
        for _ in range(PRESSES):
            app.post_message(events.Key("n", "n"))
            if interval:
                await asyncio.sleep(interval)
        last_press = time.perf_counter()
        while pane.summary.index != start + PRESSES or pane.busy:
            await asyncio.sleep(0.002)
        latency = time.perf_counter() - last_press
        await settle(app, pilot)
        drawn = pane.shown[seen:]
        stale = drawn != sorted(set(drawn))
        return pane.renders - renders, latency, pane.summary.index - start, stale


def main() -> None:
    mnist = data_root() / "mnist"
    bench_core(mnist)
    for label, interval in (("all at once", 0.0), (f"at {REPEAT_RATE:.0f}/s", 1 / REPEAT_RATE)):
        drawn, latency, moved, stale = asyncio.run(held_key(mnist, interval))
        print(
            f"held next-batch key, {PRESSES} presses {label}: {drawn} batches drawn "
            f"({drawn / PRESSES:.0%} of presses), ended on batch +{moved} (the latest), "
            f"{latency * 1000:.0f} ms after the last press; stale drawings after a newer one: {'yes' if stale else 'none'}"
        )


if __name__ == "__main__":
    main()
