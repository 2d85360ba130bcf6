"""``dataloupe eval`` of a user's small CNN against a plain ``torch.inference_mode()`` loop, on the CPU.

    DATALOUPE_TEST_DATA=../shared/data python tests/bench/bench_eval.py

Data: the 10,000 real MNIST test images and labels (``t10k-*-ubyte.gz`` in ``$DATALOUPE_TEST_DATA/mnist``),
opened by dataloupe's IDX reader. The model is a small CNN (two 3×3 convolutions with 16 and 32
channels, max-pooling, a linear layer), written to a file as a user's ``net.py:Net`` and loaded with
its weights through ``load_user_model``. dataloupe's path (:func:`evaluate_user_model`) scales each
uint8 batch as it goes and computes everything ``dataloupe eval`` reports (probabilities, losses,
per-class figures, confusion matrix, mistakes, calibration). The plain loop runs the same model over
the same images already scaled to float32, in the same batches, and keeps only the argmax and the
accuracy. The two alternate, ``RUNS`` times each, on one thread, timed by the process's CPU time;
medians are compared. Goal: at most 1.2× the plain loop.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

GOAL = 1.2
"""dataloupe's evaluation should take at most this many times the plain loop."""
RUNS = 7
"""Timed runs of each, alternating (the median is reported)."""
THREADS = 1
"""torch threads for both: on a machine shared with other work, CPU time of one thread is what can be
compared (wall time on two busy cores varied by 2× between runs of the same loop)."""

NET = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
"""


def data_folder() -> Path:
    env = os.environ.get("DATALOUPE_TEST_DATA")
    folder = Path(env) if env else REPO.parent / "shared" / "data"
    mnist = folder / "mnist"
    if not (mnist / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"no MNIST test files in {mnist}: set DATALOUPE_TEST_DATA to the shared data folder")
    return mnist


def main() -> None:
    import torch

    torch.set_num_threads(THREADS)
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    from dataloupe.core.training.user_model import SCORE_BATCH, evaluate_user_model, load_user_model

    mnist = data_folder()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "idx").mkdir()
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            (folder / "idx" / name).symlink_to(mnist / name)
        (folder / "net.py").write_text(NET)
        namespace: dict = {}
        exec(NET, namespace)
        torch.manual_seed(0)
        torch.save(namespace["Net"]().state_dict(), folder / "net.pt")

        t0 = time.perf_counter()
        model = load_user_model(f"{folder / 'net.py'}:Net", folder / "net.pt")
        loaded = time.perf_counter() - t0
        handle = open_dataset(DatasetSpec(str(folder / "idx")))
        split = handle.split(handle.split_names[0])
        x, y = split.tensors()  # the same images, scaled once, for the plain loop
        net = model.module.eval()

        def plain() -> float:
            correct = 0
            with torch.inference_mode():
                for xb, yb in zip(x.split(SCORE_BATCH), y.split(SCORE_BATCH), strict=True):
                    correct += int((net(xb).argmax(1) == yb).sum())
            return correct / len(y)

        def ours() -> float:
            return evaluate_user_model(model, split, "cpu").accuracy

        assert plain() == ours(), "the two loops disagree"  # and both warmed up
        times: dict[str, list[float]] = {"plain": [], "dataloupe": []}
        for _ in range(RUNS):
            for name, fn in (("plain", plain), ("dataloupe", ours)):
                t0 = time.process_time()
                fn()
                times[name].append(time.process_time() - t0)

    p, d = statistics.median(times["plain"]), statistics.median(times["dataloupe"])
    best = min(times["dataloupe"]) / min(times["plain"])
    print(f"{len(y):,} MNIST test images, small CNN, batch {SCORE_BATCH}, {torch.get_num_threads()} threads")
    print(f"loading net.py:Net with its state_dict: {loaded * 1000:.1f} ms")
    print(f"plain torch.inference_mode() loop: median {p:.3f} s (min {min(times['plain']):.3f})")
    print(f"dataloupe evaluate_user_model:     median {d:.3f} s (min {min(times['dataloupe']):.3f})")
    print(f"ratio: {d / p:.2f}× median against median, {best:.2f}× best against best (goal ≤ {GOAL}×)")


if __name__ == "__main__":
    main()
