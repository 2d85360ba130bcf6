"""The planted-noise benchmark of ``dataloupe check --deep``, on the real MNIST test images.

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_deep.py          # 1%, 2.5%, 5% and 60k
    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_deep.py --quick  # 2.5% only

The 10,000 test digits are shuffled and written as a folder of PNG files (train/ 8,000, test/ 2,000,
one sub-folder per class). Then defects are planted: a share of the training images is moved into
a wrong class folder (1%, 2.5%, 5%); 40 test images are replaced by near copies of training images
(shifted by a pixel and brightened); 12 training images are replaced by near-blank grey ones. The
whole process ``dataloupe check DIR --deep --json`` runs once per noise level, and its findings are
scored against what was planted: precision and recall of the label suspects (the planted copies and
blanks left out), recall of the near copies and the pairs found that were not planted, and how many
blanks were found. Time is the whole process, peak memory its maximum resident size.

The 60,000 run tiles the 10,000 digits six times, each tile turned or mirrored (a mirrored digit is
a different picture, not a copy), and times the same command on it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

COPIES = 40
BLANKS = 12


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    root = Path(os.environ["DATALOUPE_TEST_DATA"]) / "mnist"
    with gzip.open(root / "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
    with gzip.open(root / "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)
    return x, y


def write_folder(root: Path, split: str, images: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
    for c in range(10):
        (root / split / str(c)).mkdir(parents=True, exist_ok=True)
    for img, label, name in zip(images, labels, names, strict=True):
        Image.fromarray(img).save(root / split / str(int(label)) / name)


def plant(x: np.ndarray, y: np.ndarray, rate: float, seed: int = 0):
    """The folder's content and what was planted, by file (split/class/name)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    tr, te = order[:8000], order[8000:]
    xtr, ytr, xte, yte = x[tr].copy(), y[tr].copy(), x[te].copy(), y[te].copy()
    n_flip = int(round(rate * len(ytr)))
    special = rng.choice(len(ytr), n_flip + BLANKS + COPIES, replace=False)
    flips, blanks, sources = special[:n_flip], special[n_flip : n_flip + BLANKS], special[n_flip + BLANKS :]
    given = ytr.copy()
    given[flips] = (ytr[flips] + rng.integers(1, 10, n_flip)) % 10
    for i in blanks:
        xtr[i] = np.clip(128 + rng.normal(0, 2, (28, 28)), 0, 255).astype(np.uint8)
    targets = rng.choice(len(yte), COPIES, replace=False)
    for t, s in zip(targets, sources, strict=True):
        dy, dx = rng.choice([-1, 1], 2)
        shifted = np.roll(xtr[s].astype(np.float64), (int(dy), int(dx)), (0, 1))
        xte[t] = np.clip(shifted * 1.1 + 15, 0, 255).astype(np.uint8)
        yte[t] = ytr[s]
    train_names = [f"{i:05d}.png" for i in range(len(ytr))]
    test_names = [f"{i:05d}.png" for i in range(len(yte))]
    truth = {
        "flips": {f"train/{given[i]}/{train_names[i]}" for i in flips},
        "blanks": {f"train/{given[i]}/{train_names[i]}" for i in blanks},
        "copies": {
            (f"test/{yte[t]}/{test_names[t]}", f"train/{given[s]}/{train_names[s]}")
            for t, s in zip(targets, sources, strict=True)
        },
    }
    return (xtr, given, train_names), (xte, yte, test_names), truth


def run_check(folder: Path) -> tuple[dict, float, float, float]:
    """``dataloupe check FOLDER --deep --json`` as its own process: the document, wall seconds, CPU
    seconds and peak MB (the machine is shared: wall time says how long a user waited, CPU time
    what the check cost)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", "check", str(folder), "--deep", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu0
    if out.returncode not in (0, 1, 2) or not out.stdout.strip():
        raise SystemExit(f"check failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout), seconds, cpu, max(peak, before) / 1024


def score(doc: dict, truth: dict) -> dict[str, float]:
    findings = doc["deep"]["findings"]

    def where(f):  # "train/7/00012.png", relative to the dataset's folder
        return f.get("where", "")

    label = {where(f) for f in findings if f["check"] == "label noise" and f["split"] == "train"}
    label -= truth["blanks"]
    tp = len(label & truth["flips"])
    pairs = {
        (where(f), f.get("other_where", ""))
        for f in findings
        if f["check"] == "near copies" and f["split"] != f.get("other_split")
    }
    within = [f for f in findings if f["check"] == "near copies" and f["split"] == f.get("other_split")]
    blanks = {where(f) for f in findings if f["check"] == "quality" and f["found"].startswith("blank")}
    quality_other = {where(f) for f in findings if f["check"] == "quality"} - truth["blanks"]
    return {
        "label_found": len(label),
        "label_precision": tp / max(len(label), 1),
        "label_recall": tp / max(len(truth["flips"]), 1),
        "copies_recall": len(pairs & truth["copies"]) / len(truth["copies"]),
        "false_pairs": len(pairs - truth["copies"]),
        "within_pairs": len(within),
        "blanks_found": len(blanks & truth["blanks"]),
        "quality_other": len(quality_other),
    }


def bench_rate(x: np.ndarray, y: np.ndarray, rate: float) -> None:
    train, test, truth = plant(x, y, rate)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "digits"
        write_folder(root, "train", *train)
        write_folder(root, "test", *test)
        doc, seconds, cpu, peak = run_check(root)
    s = score(doc, truth)
    timings = ", ".join(f"{k} {v:.1f} s CPU" for k, v in doc["deep"]["cpu"].items())
    print(
        f"flips {rate:.1%} ({len(truth['flips'])}): labels P {s['label_precision']:.3f} R {s['label_recall']:.3f} "
        f"({s['label_found']} named); near copies R {s['copies_recall']:.3f} ({COPIES} planted), "
        f"{s['false_pairs']} other train/test pairs, {s['within_pairs']} pairs within a split; "
        f"blanks {s['blanks_found']}/{BLANKS}, {s['quality_other']} other images flagged; "
        f"whole process {seconds:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.0f} MB ({timings}; load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def bench_60k(x: np.ndarray, y: np.ndarray) -> None:
    tiles = [
        x,
        x[:, :, ::-1],
        x[:, ::-1, :],
        x.transpose(0, 2, 1),
        x[:, ::-1, ::-1],
        x.transpose(0, 2, 1)[:, :, ::-1],
    ]
    big = np.ascontiguousarray(np.concatenate(tiles))
    labels = np.tile(y, 6)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(labels))
    tr, te = order[:50_000], order[50_000:]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "digits60k"
        write_folder(root, "train", big[tr], labels[tr], [f"{i:05d}.png" for i in range(len(tr))])
        write_folder(root, "test", big[te], labels[te], [f"{i:05d}.png" for i in range(len(te))])
        doc, seconds, cpu, peak = run_check(root)
    timings = ", ".join(f"{k} {v:.1f} s CPU" for k, v in doc["deep"]["cpu"].items())
    print(
        f"60,000 images (the 10,000 tiled six times, turned or mirrored; PNG folder 50,000 + 10,000): "
        f"whole process {seconds:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.0f} MB ({timings}; load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 2.5%% run")
    args = parser.parse_args()
    x, y = load_mnist()
    for rate in (0.025,) if args.quick else (0.01, 0.025, 0.05):
        bench_rate(x, y, rate)
    if not args.quick:
        bench_60k(x, y)


if __name__ == "__main__":
    main()
