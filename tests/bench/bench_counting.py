"""Counting classes: dataloupe against the tutorials' loop, and the wall time of ``dataloupe check``.

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_counting.py

Data: the 10,000 real MNIST test images and labels (``t10k-*-idx3/idx1-ubyte.gz`` in
``$DATALOUPE_TEST_DATA/mnist``). The tutorials' loop runs over torchvision's own ``MNIST``
class with ``transform=ToTensor()``: a ``DataLoader(batch_size=10)``, counting each label of
each batch. torchvision wants all four IDX files under ``ROOT/MNIST/raw/``; the 60,000
training images are not in the shared data, so the temporary root's training pair is a
copy of the test pair (only ``train=False`` is read). dataloupe counts the same images
through its IDX reader: with the targets known (one ``bincount``), and, for comparison,
with the targets hidden so that every label is decoded in chunks. Goal: ≥ 100× the
tutorials' loop when the targets are known.
"""

from __future__ import annotations

import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

GOAL = 100.0
"""dataloupe's count with known targets should be at least this many times faster."""
CHECK_RUNS = 3
"""Runs of ``dataloupe check`` timed (the median is reported)."""


def data_folder() -> Path:
    env = os.environ.get("DATALOUPE_TEST_DATA")
    folder = Path(env) if env else REPO.parent / "shared" / "data"
    mnist = folder / "mnist"
    if not (mnist / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"no MNIST test files in {mnist}: set DATALOUPE_TEST_DATA to the shared data folder")
    return mnist


def torchvision_root(mnist: Path, tmp: Path) -> Path:
    """ROOT/MNIST/raw/ with the t10k pair, decompressed, and a copy of it as the training pair."""
    raw = tmp / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        data = gzip.decompress((mnist / f"t10k-{kind}.gz").read_bytes())
        (raw / f"t10k-{kind}").write_bytes(data)
        (raw / f"train-{kind}").write_bytes(data)  # a stand-in: only train=False is read
    return tmp


def tutorial_loop(dataset) -> Counter:
    """What the tutorials do: iterate a DataLoader of ToTensor'd samples and count each label."""
    from torch.utils.data import DataLoader

    counts: Counter = Counter()
    for _, labels in DataLoader(dataset, batch_size=10):
        for label in labels:
            counts[int(label)] += 1
    return counts


def best_of(fn, number: int, repeat: int = 5) -> float:
    """Seconds per call, best of ``repeat`` rounds of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> None:
    mnist = data_folder()
    import torch
    import torchvision
    from torchvision.transforms import ToTensor

    from dataloupe.core.data.datasets import Split
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    from dataloupe.core.stats.classes import class_counts

    torch.set_num_threads(1)  # the machine is shared; the loop itself is single-threaded anyway
    print(f"data: {mnist} (10,000 real MNIST test images)")
    print(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, python {sys.version.split()[0]}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = torchvision_root(mnist, Path(tmp))
        tv = torchvision.datasets.MNIST(str(root), train=False, transform=ToTensor())
        t0 = time.perf_counter()
        loop_counts = tutorial_loop(tv)
        loop_s = time.perf_counter() - t0
        tv_s = best_of(lambda: class_counts(tv, 10), number=200)
        tv_counts = class_counts(tv, 10)

    handle = open_dataset(DatasetSpec(str(mnist)))
    split = handle.split("test")
    known_s = best_of(lambda: class_counts(split), number=500)
    known = class_counts(split)
    hidden = Split("test", replace(split.data, targets=None), split.classes, split.pipeline)
    t0 = time.perf_counter()
    decoded = class_counts(hidden)
    decoded_s = time.perf_counter() - t0

    expected = [loop_counts[k] for k in range(10)]
    for name, counts in (("torchvision targets", tv_counts), ("known", known), ("decoded", decoded)):
        assert counts.tolist() == expected, f"{name} counts differ from the tutorials' loop"
    print(f"counts (all four agree): {expected}")
    print()
    print(f"{'way of counting':<58} {'seconds':>10} {'× loop':>9}")
    rows = [
        ("tutorials' loop: DataLoader(batch_size=10) over ToTensor()", loop_s),
        ("dataloupe class_counts, targets known (IDX reader)", known_s),
        ("dataloupe class_counts on torchvision's MNIST (.targets)", tv_s),
        ("dataloupe class_counts, targets hidden (decoded in chunks)", decoded_s),
    ]
    for name, seconds in rows:
        print(f"{name:<58} {seconds:>10.6f} {loop_s / seconds:>8.0f}×")
    ratio = loop_s / known_s
    print()
    print(
        f"ratio with targets known: {ratio:,.0f}× (goal ≥ {GOAL:.0f}×: {'met' if ratio >= GOAL else 'NOT met'})"
    )

    # dataloupe check, as a user runs it: a fresh interpreter each time
    cmd = [sys.executable, "-m", "dataloupe.tui", "check", str(mnist), "--json"]
    walls = []
    for _ in range(CHECK_RUNS):
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        walls.append(time.perf_counter() - t0)
        if run.returncode not in (0, 1, 2) or not run.stdout.startswith("{"):
            sys.exit(f"dataloupe check failed: {run.stderr}")
    import json

    inside = json.loads(run.stdout)["seconds"]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    torch_s = time.perf_counter() - t0
    print()
    print(f"dataloupe check {mnist} (10,000 images), {CHECK_RUNS} runs:")
    print(f"  wall time: median {statistics.median(walls):.2f} s (min {min(walls):.2f} s)")
    print(
        f"  of which the checklist itself: {inside:.2f} s; a bare `python -c 'import torch'` takes {torch_s:.2f} s"
    )


if __name__ == "__main__":
    main()
