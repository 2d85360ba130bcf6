"""The command line: help, and bad input that gets a message and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.inprocess import run_main
from support.makers import serve_folder

DATALOUPE = Path(sys.executable).parent / "dataloupe"


def run(*args: str) -> subprocess.CompletedProcess:
    """``dataloupe ARGS`` in this process (tests/support/inprocess.py); the first test runs the real programs."""
    return run_main(*args)


def test_console_script_and_module_give_the_same_help():
    assert DATALOUPE.exists(), "the dataloupe console script is installed beside python"
    script = subprocess.run([str(DATALOUPE), "--help"], capture_output=True, text=True, timeout=60)
    module = subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", "--help"], capture_output=True, text=True, timeout=60
    )
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout
    for word in ("DATASET", "--root", "--download", "--split", "--ascii", "--label", "--threshold", "digits"):
        assert word in module.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/place"], "/no/such/place: no such file or folder, and not a built-in dataset name"),
        (["--split", "validation"], "invalid choice: 'validation'"),
        (["--threshold", "high"], "invalid float value: 'high'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_file_that_is_not_a_table(tmp_path):
    p = tmp_path / "model.bin"
    p.write_bytes(b"\x00\x01")
    result = run(str(p))
    assert result.returncode == 2 and "not a .csv table" in result.stderr and "Traceback" not in result.stderr


def test_a_failed_download_from_a_command_exits_2_and_says_what_to_do(tmp_path):
    result = run_main(
        "check",
        "fashion-mnist",
        "--root",
        str(tmp_path),
        "--download",
        env={"DATALOUPE_MIRROR": "http://127.0.0.1:9/"},
    )
    assert result.returncode == 2
    assert f"Could not download Fashion-MNIST to {tmp_path}" in result.stderr
    assert "dataloupe digits" in result.stderr and "Traceback" not in result.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_download_progress_in_a_log_is_one_plain_line_per_tenth(mnist_dir, tmp_path, capsys):
    from dataloupe.core.readers.download import Resource, fetch
    from dataloupe.tui.cli.common import StderrProgress

    with serve_folder(mnist_dir) as base:
        progress = StderrProgress()
        assert not progress.tty  # pytest captures stderr: the plain form
        fetch(Resource((base + "t10k-images-idx3-ubyte.gz",), tmp_path / "t10k.gz", None), progress)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "downloading t10k.gz: 0%"
    assert lines[-1] == "downloading t10k.gz: 100%"
    assert len(lines) == 11 and not any("\x1b" in line for line in lines)


def test_images_of_different_sizes_get_a_message_in_batches_and_train(tmp_path):
    from support.makers import write_image_folder

    write_image_folder(tmp_path / "mixed", {"a": 5}, size=(8, 8))
    write_image_folder(tmp_path / "mixed", {"b": 5}, size=(12, 10), seed=2)
    for command in (["batches", "--count", "1"], ["train", "--epochs", "1"]):
        result = run(command[0], str(tmp_path / "mixed"), *command[1:])
        assert result.returncode == 2, result.stderr
        assert "differ in shape (1×8×8, 1×12×10)" in result.stderr and "Resize" in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unexpected_error_in_a_command_is_a_message_not_a_traceback(monkeypatch, capsys):
    import dataloupe.tui.cli.batches
    from dataloupe.tui.cli import main

    def broken(args):
        raise ValueError("something nobody foresaw")

    monkeypatch.setattr(dataloupe.tui.cli.batches, "run", broken)
    monkeypatch.delenv("DATALOUPE_DEBUG", raising=False)
    assert main(["batches", "digits"]) == 2
    err = capsys.readouterr().err
    assert "unexpected error: ValueError: something nobody foresaw" in err and "DATALOUPE_DEBUG=1" in err
