"""How long a learning curve takes, as a user runs it: ``dataloupe curve`` in its own process.

1. ``dataloupe curve digits``: the default sweep (3 networks × 5 sizes × 2 seeds = 30 points of
   500 steps). Goal: ≤ 30 s for the whole process on the 2-core machine.
2. ``dataloupe curve mnist --epochs 1`` on 60,000 MNIST images: the 10,000 real MNIST test images
   (``$DATALOUPE_TEST_DATA/mnist``, read by dataloupe's IDX reader) tiled six times to a training
   split, the originals as the test split (the same data as ``bench_training.py``). 30 points of
   938 steps. Goal: ≤ 3 min.

Each is run ``--rounds`` times (default 1); the figures are wall time and CPU time of the whole
process (torch's import included), and the verdict it printed.

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_curve.py
    python tests/bench/bench_curve.py --device cuda   # on a GPU machine
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_training import build_root  # noqa: E402 - the same tiled MNIST as the training benchmark


def timed(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of ``dataloupe ARGS`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"dataloupe {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def report(name: str, goal: float, runs: list[tuple[float, float, str]]) -> None:
    walls = [w for w, _, _ in runs]
    cpus = [c for _, c, _ in runs]
    out = runs[-1][2].splitlines()
    verdict = [line for line in out if line.startswith(("more data", "plateau", "too noisy", "best:"))]
    print(
        f"{name}: wall {', '.join(f'{w:.1f}' for w in walls)} s, CPU {', '.join(f'{c:.1f}' for c in cpus)} s "
        f"(goal ≤ {goal:.0f} s: {'met' if max(walls) <= goal else 'MISSED'})"
    )
    print(f"  {out[0]}\n  {out[1]}")
    for line in verdict:
        print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args()
    device = ["--device", args.device]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    report("dataloupe curve digits", 30, [timed(["curve", "digits", *device]) for _ in range(args.rounds)])
    if args.skip_mnist:
        return
    data = os.environ.get("DATALOUPE_TEST_DATA")
    if not data:
        print("60,000 MNIST images: skipped (DATALOUPE_TEST_DATA is not set)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = build_root(Path(data) / "mnist", Path(tmp))
        runs = [
            timed(["curve", "mnist", "--root", str(root), "--epochs", "1", *device])
            for _ in range(args.rounds)
        ]
    report(
        "dataloupe curve on 60,000 MNIST images (the 10,000 real test images tiled ×6), --epochs 1", 180, runs
    )


if __name__ == "__main__":
    main()
