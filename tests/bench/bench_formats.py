"""Shard formats at 100,000 images: Hub-style Parquet shards and WebDataset tars (issue 23, §2).

The images are MNIST's real 10,000 test images (``$DATALOUPE_TEST_DATA/mnist``), PNG-encoded once
and tiled ten times, with their real labels: 100,000 28×28 samples in 20 shards of each format
(16 train, 4 test; the tiling makes copies, which the checklist reports). Parquet shards are
written as the ``datasets`` library writes them (``{bytes, path}`` image structs, a ``ClassLabel`` in
the ``huggingface`` metadata, row groups of 100); tars as WebDataset writes them (``KEY.png``,
``KEY.cls``). Each case runs in a fresh process, after ``import torch, torchvision``, and prints:
seconds to open, to the class counts, to the first sample, for ``run_checklist``, and the peak RSS
above torch. Goals: first sample ≤ 1 s, counts ≤ 2 s (Parquet) and ≤ 10 s (tars), check ≤ 30 s,
memory ≤ 200 MB. Data is kept under ``$DATALOUPE_BENCH_DIR`` (default /tmp/dataloupe-bench).

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_formats.py            # both
    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_formats.py parquet
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(os.environ.get("DATALOUPE_BENCH_DIR", "/tmp/dataloupe-bench"))
DATA = Path(os.environ.get("DATALOUPE_TEST_DATA", ROOT.parent / "shared" / "data"))
N, SHARDS, TRAIN_SHARDS, ROW_GROUP = 100_000, 20, 16, 100

CHILD = r"""
import json, resource, sys, time
import torch, torchvision
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss()
t0 = time.perf_counter()
from dataloupe.core.readers import open_dataset
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.stats.classes import class_counts
from dataloupe.core.checks import run_checklist
h = open_dataset(DatasetSpec(sys.argv[1]))
t_open = time.perf_counter()
counts = {s: class_counts(h.split(s)).tolist() for s in h.split_names}
t_counts = time.perf_counter()
x, y = h.split(h.default_split())[0]
t_first = time.perf_counter()
open_mb = rss() - base
r = run_checklist(h)
t_check = time.perf_counter()
print(json.dumps({
    "open_s": round(t_open - t0, 2), "counts_s": round(t_counts - t0, 2),
    "first_sample_s": round(t_first - t0, 2), "check_s": round(t_check - t_first, 2),
    "open_peak_mb": round(open_mb), "peak_mb": round(rss() - base), "torch_baseline_mb": round(base),
    "samples": sum(sum(c) for c in counts.values()),
    "readable": r.result("readable").evidence[:60], "split": r.result("split").evidence[:70],
}))
"""


def mnist_pngs() -> tuple[list[bytes], np.ndarray]:
    """The real 10,000 MNIST test images as PNG bytes, and their labels."""
    from PIL import Image

    def read(name: str, offset: int) -> np.ndarray:
        return np.frombuffer(gzip.decompress((DATA / "mnist" / name).read_bytes()), np.uint8, offset=offset)

    images = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    labels = read("t10k-labels-idx1-ubyte.gz", 8)
    pngs = []
    for image in images:
        buf = io.BytesIO()
        Image.fromarray(image, "L").save(buf, format="PNG")
        pngs.append(buf.getvalue())
    return pngs, labels.astype(np.int64)


def shard_rows() -> list[tuple[str, range]]:
    """Each shard's split name and the sample numbers it holds."""
    per = N // SHARDS
    out = []
    for k in range(SHARDS):
        split = "train" if k < TRAIN_SHARDS else "test"
        out.append((split, range(k * per, (k + 1) * per)))
    return out


def make_parquet(pngs: list[bytes], labels: np.ndarray) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = BENCH / "formats-parquet"
    if (folder / "data").is_dir():
        return folder
    (folder / "data").mkdir(parents=True)
    features = {
        "image": {"_type": "Image"},
        "label": {"names": [str(d) for d in range(10)], "_type": "ClassLabel"},
    }
    meta = {b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    counts = {"train": TRAIN_SHARDS, "test": SHARDS - TRAIN_SHARDS}
    seen = {"train": 0, "test": 0}
    for split, rows in shard_rows():
        k = seen[split]
        seen[split] += 1
        images = pa.array(
            [{"bytes": pngs[i % len(pngs)], "path": None} for i in rows],
            pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
        )
        table = pa.table({"image": images, "label": pa.array(labels[[i % len(pngs) for i in rows]])})
        table = table.replace_schema_metadata(meta)
        pq.write_table(
            table,
            folder / "data" / f"{split}-{k:05d}-of-{counts[split]:05d}.parquet",
            row_group_size=ROW_GROUP,
        )
    return folder


def make_tars(pngs: list[bytes], labels: np.ndarray) -> Path:
    folder = BENCH / "formats-tars"
    if folder.is_dir():
        return folder
    folder.mkdir(parents=True)
    seen = {"train": 0, "test": 0}
    for split, rows in shard_rows():
        k = seen[split]
        seen[split] += 1
        with tarfile.open(folder / f"{split}-{k:05d}.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
            for i in rows:
                for ext, data in (
                    ("cls", str(int(labels[i % len(pngs)])).encode()),
                    ("png", pngs[i % len(pngs)]),
                ):
                    info = tarfile.TarInfo(f"{i:06d}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return folder


def main() -> None:
    wanted = sys.argv[1:] or ["parquet", "tars"]
    pngs, labels = mnist_pngs()
    makers = {"parquet": make_parquet, "tars": make_tars}
    print(f"{N:,} MNIST test images (10,000 real ones tiled 10×) in {SHARDS} shards per format")
    for name in wanted:
        folder = makers[name](pngs, labels)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        if child.returncode:
            print(f"{name}: failed\n{child.stderr[-2000:]}")
            continue
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{name} ({size / 2**20:.0f} MB on disk): {json.dumps(figures)}")


if __name__ == "__main__":
    main()
