"""Headless commands piped into a reader that stops early (``dataloupe check digits | head -3``).

A closed pipe ends the output quietly: no "unexpected error … This is a bug", and the exit code
says how the work went (0 for a check that passed), as ``dataloupe batches`` already did. The
reader here closes its end before the command writes a byte, the worst case of ``head``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.inprocess import run_main

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
"""One torch thread: the test machines are shared."""


def run_into_closed_pipe(*args: str) -> tuple[int, str]:
    """Run ``python -m dataloupe.tui ARGS`` with stdout a pipe whose reader has gone; (exit code, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `head` read what it wanted and left
    stderr = process.stderr.read()
    return process.wait(timeout=120), stderr


def test_check_piped_to_head_ends_quietly_with_the_checks_exit_code():
    code, stderr = run_into_closed_pipe("check", "digits")
    assert "BrokenPipe" not in stderr and "bug" not in stderr, stderr
    assert code == 0  # the bundled digits pass the checklist


def test_train_and_eval_piped_to_head_end_quietly(tmp_path: Path):
    checkpoint = tmp_path / "digits.pt"
    trained = run_main("train", "digits", "--epochs", "1", "--save", str(checkpoint), env=ENV)  # the setup
    assert trained.returncode == 0, trained.stderr
    code, stderr = run_into_closed_pipe("train", "digits", "--epochs", "1")
    assert "BrokenPipe" not in stderr and "bug" not in stderr, stderr
    assert code == 0
    code, stderr = run_into_closed_pipe("eval", str(checkpoint), "digits")
    assert "BrokenPipe" not in stderr and "bug" not in stderr, stderr
    assert code == 0
