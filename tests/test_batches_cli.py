"""``dataloupe batches``: text, JSON, reproducibility across processes (a real one), bad settings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dataloupe.core.batching import BatchStepper, LoaderSettings

from support.inprocess import run_main


def batches(*args: str) -> subprocess.CompletedProcess:
    """``dataloupe batches ARGS`` in this process (see tests/support/inprocess.py)."""
    return run_main("batches", *args)


def batches_in_a_new_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", "batches", *args], capture_output=True, text=True, timeout=120
    )


def records(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_same_seed_same_batches_in_a_new_process(digits):
    """Epoch 1 and 2 start differently, and a new process with the same seed repeats both."""
    stepper = BatchStepper(digits.split("train"), LoaderSettings(seed=7))
    here = [stepper.step().summary.labels]
    stepper.new_epoch()
    here.append(stepper.step().summary.labels)
    assert here[0] != here[1]

    out = records(
        batches_in_a_new_process("digits", "--seed", "7", "--count", "1", "--epochs", "2", "--json")
    )
    assert [(r["epoch"], r["batch"]) for r in out] == [(1, 0), (2, 0)]
    assert [tuple(r["labels"]) for r in out] == here


def test_without_shuffle_both_epochs_start_alike():
    out = records(batches("digits", "--no-shuffle", "--count", "2", "--epochs", "2", "--json"))
    assert [(r["epoch"], r["batch"]) for r in out] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert out[0]["indices"] == out[2]["indices"] == list(range(10))
    assert out[0]["labels"] == out[2]["labels"] and out[1]["labels"] == out[3]["labels"]
    assert out[0]["sampler"] == "sequential"


def test_text_is_plain_with_shapes_and_dtypes():
    result = batches("digits", "--count", "2", "--batch-size", "16")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout  # stdout is a pipe here, not a terminal
    assert "epoch 1 · batch 1 of 90" in result.stdout
    assert "torch.Size([16, 1, 8, 8])  torch.float32" in result.stdout
    assert "torch.Size([16])  torch.int64" in result.stdout
    assert "num_workers 0" in result.stdout


def test_real_mnist_normalized_json(mnist_dir):
    out = records(batches(str(mnist_dir), "--batch-size", "64", "--count", "2", "--normalize", "--json"))
    assert len(out) == 2
    for r in out:
        assert r["split"] == "test"  # the folder only holds the t10k pair
        assert r["X"]["shape"] == [64, 1, 28, 28] and r["X"]["dtype"] == "torch.float32"
        assert r["y"] == {"shape": [64], "dtype": "torch.int64"}
        assert r["X"]["min"] < 0 < r["X"]["max"]  # Normalize moves the background below zero
        assert "Normalize(mean=" in r["pipeline"] and len(r["labels"]) == 64


def test_red_wine_balanced_text_shows_counts_beside_the_split(red_wine):
    result = batches(
        str(red_wine), "--threshold", "4.5", "--sampler", "balanced", "--batch-size", "100", "--count", "10"
    )
    assert result.returncode == 0, result.stderr
    assert "torch.Size([100, 11])  torch.float32" in result.stdout
    assert "class counts over 10 batches of epoch 1 (1,000 samples) beside the split" in result.stdout
    low = next(line for line in result.stdout.splitlines() if line.strip().startswith("low"))
    epoch_share, split_share = (float(v.rstrip("%")) for v in low.split()[-2:])
    assert 40 <= epoch_share <= 60 and split_share < 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be a whole number ≥ 1, got 0"),
        (["--batch-size", "-3"], "--batch-size must be a whole number ≥ 1, got -3"),
        (["--batch-size", "ten"], "--batch-size must be a whole number ≥ 1, got 'ten'"),
        (["--count", "0"], "--count must be a whole number ≥ 1, got 0"),
        (["--epochs", "x"], "--epochs must be a whole number ≥ 1, got 'x'"),
        (["--seed", "-1"], "--seed must be a whole number from 0"),
        (["--sampler", "weighted"], "invalid choice: 'weighted'"),
    ],
)
def test_bad_settings_exit_2_with_a_message(args, message):
    """Checked before the dataset is opened."""
    result = batches("digits", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "4"], "--count 4 asks for more batches than an epoch has: there are 3 (0..2)"),
        (["--batch-size", "50", "--drop-last"], "batch size 50 with drop_last leaves no batch"),
    ],
)
def test_more_batches_than_exist_exit_2(tmp_path, args, message):
    """A 25-row table: its train split of 20 rows makes 3 batches of 8 (checked once the split is known)."""
    table = tmp_path / "small.csv"
    table.write_text("a,b,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(25)))
    result = batches(str(table), "--batch-size", "8", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
