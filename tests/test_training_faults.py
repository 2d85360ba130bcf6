"""The trainer under faults: out of memory while preparing, divergence seen late, a failed graph capture,
threads set once, and the stored dtype held on the device (issues 10, 13 and 8).

Every run pins the CPU. The GPU-only paths are decided by functions tested here on the CPU; the
same paths on a real GPU are in ``tests/test_cuda.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import dataloupe.core.training.graphed_step as graphed_step_module
import dataloupe.core.training.setup as run_setup
from dataloupe.core.data.datasets import build_handle, in_memory_split
from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import TrainConfig
from dataloupe.core.threads import default_threads, set_threads
from dataloupe.core.training.data import HeldSplit
from dataloupe.core.training.graphed_step import graph_plan
from dataloupe.core.training.run import TrainingRun

set_threads(1)  # once, as the command line does at start-up: the test machines are shared

FAST = {"batch_size": 32, "device": "cpu"}


def uint8_images(n: int = 400, seed: int = 0):
    """Two classes of 1×8×8 uint8 images (bright or dark), in train and test splits."""
    g = torch.Generator().manual_seed(seed)
    y = np.arange(n) % 2
    x = (torch.rand(n, 1, 8, 8, generator=g) * 120 + torch.from_numpy(y).view(-1, 1, 1, 1) * 120).to(
        torch.uint8
    )
    half = n // 2
    splits = {"train": in_memory_split(x[:half], y[:half]), "test": in_memory_split(x[half:], y[half:])}
    pipeline = Pipeline.for_images(1).with_(mean=(0.47,), std=(0.28,))
    return build_handle(
        name="bright-dark", reader="custom", classes=["dark", "bright"], splits=splits, pipeline=pipeline
    )


# ---------------------------------------------------------------------- the stored dtype on the device
def test_the_split_is_held_as_stored_and_scaled_per_batch_with_the_loader_paths_numbers():
    handle = uint8_images()
    runs = {
        path: TrainingRun(handle, TrainConfig(epochs=2, data_path=path, **FAST))
        for path in ("memory", "loader")
    }
    finals = {path: run.run() for path, run in runs.items()}
    setup = runs["memory"]._prepared
    assert setup.in_memory and isinstance(setup.test_data, HeldSplit)
    assert setup.batches.held.x.dtype == setup.test_data.x.dtype == torch.uint8  # 1 byte per value, not 4
    note = next(n for n in finals["memory"].notes if "held in memory" in n)
    assert "uint8" in note and "scaled per batch" in note
    assert finals["memory"].loss_values == pytest.approx(finals["loader"].loss_values, rel=1e-5)


def test_the_memory_limit_counts_the_stored_bytes_not_a_float_copy():
    handle = uint8_images()
    stored = 400 * 64 + 8 * 400  # the uint8 samples and their int64 labels
    assert TrainingRun(handle, TrainConfig(memory_limit=stored, **FAST)).prepare().in_memory
    assert not TrainingRun(handle, TrainConfig(memory_limit=stored - 1, **FAST)).prepare().in_memory


# ---------------------------------------------------------------------- out of memory while preparing
class Oom:
    """Raises torch's out-of-memory error on its ``at``-th call, else calls through."""

    def __init__(self, real, at: int = 1) -> None:
        self.real, self.at, self.calls = real, at, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.real(*args, **kwargs)


@pytest.mark.parametrize(
    ("where", "at"),
    [("hold", 1), ("hold", 2), ("rows", 1), ("rows", 2), ("to", 1)],
    ids=["train split", "test split", "train subset", "test subset", "model"],
)
def test_out_of_memory_while_preparing_is_a_message_and_frees_the_memory(digits, monkeypatch, where, at):
    freed = []
    monkeypatch.setattr(run_setup, "free_memory", lambda device: freed.append(device))
    if where == "hold":
        monkeypatch.setattr(run_setup, "hold", Oom(run_setup.hold, at))
    elif where == "rows":
        rows = Oom(HeldSplit.rows, at)
        monkeypatch.setattr(HeldSplit, "rows", lambda self, idx: rows(self, idx))
    else:
        to = Oom(torch.nn.Module.to, at)
        monkeypatch.setattr(torch.nn.Module, "to", lambda self, *a, **kw: to(self, *a, **kw))
    run = TrainingRun(digits, TrainConfig(epochs=1, **FAST))
    with pytest.raises(SettingsError) as info:
        run.prepare()
    message = str(info.value)
    assert "ran out of memory while preparing" in message and "nothing was trained" in message
    assert "DataLoader path" in message and "smaller" in message
    assert freed and run.model is None


# ---------------------------------------------------------------------- divergence read late (the GPU's way)
def test_a_divergence_read_late_goes_back_to_the_last_good_weights(digits):
    run = TrainingRun(digits, TrainConfig(epochs=3, lr=1e6, **FAST))
    run.prepare()
    run.loss_sync_steps = 32  # as on a GPU: losses fetched 32 steps at a time, after their updates
    final = run.run()
    assert final.state == "diverged"
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    assert "keeps its weights of step" in final.message and "try 0.001" in final.message


def test_reading_losses_late_learns_exactly_what_reading_each_step_learns(digits):
    finals = []
    for sync in (1, 32):
        run = TrainingRun(digits, TrainConfig(epochs=2, **FAST))
        run.prepare()
        run.loss_sync_steps = sync
        finals.append(run.run())
    assert finals[0].loss_values == finals[1].loss_values
    assert finals[0].latest.test.accuracy == finals[1].latest.test.accuracy


# ---------------------------------------------------------------------- CUDA graphs: the decision and the fallback
def test_only_cuda_runs_with_the_data_held_on_the_gpu_are_graphed():
    assert graph_plan(torch.device("cpu"), held=True, batch_size=64, samples=1000) == (False, "")
    use, note = graph_plan(torch.device("cuda"), held=False, batch_size=64, samples=1000)
    assert not use and "DataLoader path" in note
    assert graph_plan(torch.device("cuda"), held=True, batch_size=64, samples=10)[0] is False
    assert graph_plan(torch.device("cuda"), held=True, batch_size=64, samples=1000) == (True, "")


def test_a_failed_capture_trains_eagerly_from_the_same_start_and_says_why(digits, monkeypatch):
    eager = TrainingRun(digits, TrainConfig(epochs=1, **FAST)).run()

    class Uncapturable:
        def __init__(self, model, optimizer, *args):
            next(model.parameters()).data.add_(1.0)  # a capture that got part of the way and changed weights
            raise RuntimeError("operation not permitted when stream is capturing\nmore detail")

    monkeypatch.setattr(graphed_step_module, "GraphedStep", Uncapturable)
    run = TrainingRun(digits, TrainConfig(epochs=1, **FAST))
    run.prepare().graphed = True  # as graph_plan decides on a GPU with the data held there
    final = run.run()
    assert final.state == "finished" and not run._prepared.graphed
    assert any("CUDA graph capture failed (RuntimeError: operation not permitted" in n for n in final.notes)
    assert final.loss_values == eager.loss_values  # the weights went back; a fresh optimizer started


# ---------------------------------------------------------------------- threads: once, at start-up
def test_a_run_never_changes_the_process_thread_count(digits, monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    TrainingRun(digits, TrainConfig(epochs=1, **FAST)).run()
    assert calls == []


def test_the_default_is_half_the_cores_at_most_four():
    assert [default_threads(c) for c in (1, 2, 3, 4, 8, 16, 64)] == [1, 1, 1, 2, 4, 4, 4]


def test_threads_set_before_torch_loads_are_the_ones_torch_uses():
    code = "from dataloupe.core.threads import set_threads; set_threads(1); import torch; print(torch.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "1"  # torch's own default here would be one per core
