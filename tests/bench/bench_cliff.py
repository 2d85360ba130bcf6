"""One training epoch either side of the old in-memory cliff: time, peak RSS and the data path chosen.

The landed trainer held a split scaled to float32 while the uint8 array was alive too:
about 10 KB per MNIST image, so above a 2 GiB scaled split (about 674k images) it fell to
the DataLoader path, 5.6× slower per sample. Now the split is held as stored (uint8) and
scaled per batch, so 600k and 800k images both train in memory at about their raw size.

Each size runs in its own process (peak RSS is per process): the 10,000 real MNIST test
images (``$DATALOUPE_TEST_DATA/mnist``) tiled to N training images, the originals as the
test split; the tutorials' MLP, batch 64, Adam, one epoch, on the CPU.

    python tests/bench/bench_cliff.py                    # 600k and 800k
    python tests/bench/bench_cliff.py --sizes 60000 600000 800000 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child(mnist: Path, n: int) -> None:
    """Train one epoch on ``n`` tiled samples in this process; print one JSON line."""
    import time

    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT))
    from dataloupe.core.data.datasets import build_handle, in_memory_split
    from dataloupe.core.data.pipeline import Pipeline
    from dataloupe.core.readers.idx import read_idx_pair
    from dataloupe.core.settings import TrainConfig
    from dataloupe.core.training.run import TrainingRun

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    images, labels = read_idx_pair(mnist / "t10k-images-idx3-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz")
    reps = -(-n // len(labels))
    x = images.repeat(reps, 1, 1, 1)[:n]  # uint8, N×1×28×28: the raw size of the split
    y = np.tile(labels, reps)[:n]
    raw = x.numel() + images.numel()
    handle = build_handle(
        name=f"mnist×{n:,}",
        reader="custom",
        classes=[str(d) for d in range(10)],
        splits={"train": in_memory_split(x, y, "tiled"), "test": in_memory_split(images, labels, "t10k")},
        pipeline=Pipeline.for_images(1).with_(mean=(0.1307,), std=(0.3081,)),
    )
    del x
    with_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run = TrainingRun(handle, TrainConfig(epochs=1, batch_size=64, device="cpu"))
    t0 = time.perf_counter()
    setup = run.prepare()
    prepared = time.perf_counter() - t0
    t0 = time.perf_counter()
    final = run.run()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "n": n,
                "state": final.state,
                "in_memory": setup.in_memory,
                "note": next((note for note in final.notes if "data " in note), ""),
                "prepare_s": prepared,
                "epoch_s": seconds,
                "eval_s": final.eval_seconds,
                "samples_per_s": n / (seconds - final.eval_seconds),
                "accuracy": final.latest.test.accuracy if final.latest else None,
                "raw_bytes": raw,
                "rss_torch_baseline": baseline,
                "rss_with_data": with_data,
                "rss_peak": peak,
                "threads": torch.get_num_threads(),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("DATALOUPE_TEST_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[600_000, 800_000])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: dataloupe's default)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    mnist = args.data / "mnist"
    if args.child:
        child(mnist, args.child)
        return 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sys.path.insert(0, str(ROOT))
    from dataloupe.core.threads import set_threads

    threads = set_threads(args.threads)  # before torch loads in the children: they read OMP_NUM_THREADS
    env["OMP_NUM_THREADS"] = str(threads)
    print(f"one epoch, tutorials' MLP, batch 64, CPU with {threads} thread(s); {os.cpu_count()} cores")
    print(
        f"{'samples':>9} {'path':>7} {'epoch s':>8} {'samples/s':>10} {'raw MB':>7} {'peak RSS MB':>12} "
        f"{'above torch':>12} {'× raw':>6}  accuracy"
    )
    for n in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--data", str(args.data), "--child", str(n)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0:
            print(f"{n:>9,} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        above = r["rss_peak"] - r["rss_torch_baseline"]
        print(
            f"{n:>9,} {'memory' if r['in_memory'] else 'loader':>7} {r['epoch_s']:8.1f} {r['samples_per_s']:10,.0f} "
            f"{r['raw_bytes'] / 1e6:7.0f} {r['rss_peak'] / 1e6:12.0f} {above / 1e6:12.0f} "
            f"{above / r['raw_bytes']:6.2f} {(r['rss_peak'] - r['rss_with_data']) / 1e6:10.0f} MB  {r['accuracy']:.1%}"
        )
        print(f"{'':>9} note: {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
