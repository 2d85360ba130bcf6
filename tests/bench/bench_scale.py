"""How time and memory grow with the data: IDX, PNG folders, large photos, CSV (issue 8, §2 and §4).

Each case runs in a fresh process and prints: seconds to open, seconds from ``import torch`` to
the first sample, seconds for ``run_checklist``, and the peak RSS above a bare
``import torch, torchvision`` in the same process. Data is generated once under
``$DATALOUPE_BENCH_DIR`` (default /tmp/dataloupe-bench) and reused; MNIST's real t10k images
(``$DATALOUPE_TEST_DATA/mnist``) are tiled for the IDX and PNG cases. Not a test: it prints figures.

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_scale.py              # every case
    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_scale.py png-1k csv-100k
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(os.environ.get("DATALOUPE_BENCH_DIR", "/tmp/dataloupe-bench"))
DATA = Path(os.environ.get("DATALOUPE_TEST_DATA", ROOT.parent / "shared" / "data"))

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import torch, torchvision
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss()
t_torch = time.perf_counter()
from dataloupe.core.readers import open_dataset
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.checks import run_checklist
h = open_dataset(DatasetSpec(sys.argv[1]))
t_open = time.perf_counter()
x, y = h.split(h.default_split())[0]
t_first = time.perf_counter()
open_mb = rss() - base
check = "--no-check" not in sys.argv
if check:
    r = run_checklist(h)
t_check = time.perf_counter()
print(json.dumps({
    "open_s": round(t_open - t_torch, 2), "first_sample_s": round(t_first - t_torch, 2),
    "check_s": round(t_check - t_first, 2) if check else None, "open_peak_mb": round(open_mb),
    "peak_mb": round(rss() - base), "torch_baseline_mb": round(base),
    "readable": r.result("readable").evidence[:80] if check else None,
}))
"""


def mnist_t10k() -> tuple[np.ndarray, np.ndarray]:
    """The real 10,000 MNIST test images (N×28×28 uint8) and labels."""

    def read(name: str, offset: int) -> np.ndarray:
        return np.frombuffer(gzip.decompress((DATA / "mnist" / name).read_bytes()), np.uint8, offset=offset)

    images = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    labels = read("t10k-labels-idx1-ubyte.gz", 8)
    return images, labels


def make_idx(n: int) -> Path:
    """A folder with train IDX files of ``n`` tiled MNIST images (plain, not gzipped) and the real t10k."""
    folder = BENCH / f"idx-{n}"
    if (folder / "train-images-idx3-ubyte").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = mnist_t10k()
    reps = -(-n // len(images))
    with open(folder / "train-images-idx3-ubyte", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
        left = n
        for _ in range(reps):
            f.write(images[: min(left, len(images))].tobytes())
            left -= len(images)
    with open(folder / "train-labels-idx1-ubyte", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + n.to_bytes(4, "big") + np.tile(labels, reps)[:n].tobytes())
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes((DATA / "mnist" / name).read_bytes())
    return folder


def make_png(n: int) -> Path:
    """``n`` 28×28 PNGs (tiled MNIST) in train/ (80%) and test/ class folders."""
    from PIL import Image

    folder = BENCH / f"png-{n}"
    if (folder / "done").exists():
        return folder
    images, labels = mnist_t10k()
    for i in range(n):
        split = "train" if i % 5 else "test"
        d = folder / split / str(int(labels[i % len(labels)]))
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i % len(images)]).save(d / f"{i:06d}.png")
    (folder / "done").touch()
    return folder


def make_photos(n: int = 400) -> Path:
    """``n`` RGB JPEG photos of 1024×768 (generated gradients and noise) in two classes."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support.makers import write_photo_folder

    folder = BENCH / f"photos-{n}"
    if not (folder / "done").exists():
        write_photo_folder(folder, {"a": n // 2, "b": n - n // 2}, sizes=[(1024, 768)], quality=80)
        (folder / "done").touch()
    return folder


def make_csv(n: int) -> Path:
    """A CSV of ``n`` rows: 11 numeric features like the wine tables and an integer quality label."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = BENCH / f"table-{n}.csv"
    if path.exists():
        return path
    BENCH.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    cols = {f"f{k}": rng.normal(5, 2, n).round(3) for k in range(11)}
    cols["quality"] = rng.integers(3, 9, n)
    pacsv.write_csv(pa.table(cols), path)
    return path


CASES = {
    "idx-60k": lambda: make_idx(60_000),
    "idx-300k": lambda: make_idx(300_000),
    "idx-1.2m": lambda: make_idx(1_200_000),
    "png-1k": lambda: make_png(1_000),
    "png-10k": lambda: make_png(10_000),
    "png-50k": lambda: make_png(50_000),
    "png-200k": lambda: make_png(200_000),
    "photos-400": make_photos,
    "csv-100k": lambda: make_csv(100_000),
    "csv-1m": lambda: make_csv(1_000_000),
}


def main(names: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in names or list(CASES):
        path = CASES[name]()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env, cwd=ROOT
        )
        if out.returncode:
            print(f"{name:<11} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{name:<11} open {r['open_s']:>6.2f} s · first sample {r['first_sample_s']:>6.2f} s after torch · "
            f"check {r['check_s']:>6.2f} s · peak RSS +{r['peak_mb']:>5} MB over torch "
            f"({r['torch_baseline_mb']} MB; +{r['open_peak_mb']} MB after open)",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
