"""The user's own Dataset in a real terminal (tmux): what it prints is shown in the app's dataset pane,
never written over the screen; the app opens it from ``dataloupe file.py:NAME``."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

DATALOUPE = Path(sys.executable).parent / "dataloupe"
ROOT = Path(__file__).resolve().parents[1]
CODE = """
import torch
from torch.utils.data import Dataset


class Blobs(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == 39:
            print("QUIET-MARK from getitem")
        return torch.full((1, 6, 6), float(i % 2)), i % 2


print("LOUD-MARK at import")
data = Blobs()
"""


def screen(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def wait_for(name: str, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while text not in (shown := screen(name)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} did not appear within {timeout} s; the screen shows:\n{shown}")
        time.sleep(0.1)
    return shown


def test_prints_go_to_the_dataset_pane_not_over_the_screen(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("DATALOUPE_TEST_DATA"):
            pytest.fail("tmux is not installed; .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    (tmp_path / "mydata.py").write_text(CODE)
    name = f"dl-code-{uuid.uuid4().hex[:8]}"
    env = f"PYTHONPATH={shlex.quote(str(ROOT))} TERM=xterm-256color"
    shell = f"cd {shlex.quote(str(tmp_path))} && env {env} {shlex.quote(str(DATALOUPE))} mydata.py:data; echo EXITED:$?; sleep 60"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", shell], check=True)
    try:
        shown = wait_for(name, "mydata.py:data · train 40")  # the status line, on the preview pane
        assert "QUIET-MARK" not in shown  # a print after the first is not on the preview's screen
        wait_for(name, "Your code printed")  # the first print after opening is a notification
        subprocess.run(["tmux", "send-keys", "-t", name, "1"], check=True)
        shown = wait_for(name, "printed by your code")
        assert "QUIET-MARK from getitem" in shown and "LOUD-MARK at import" in shown
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
        shown = wait_for(name, "EXITED:0", timeout=30)
        assert "MARK" not in shown  # nothing was written to the terminal itself
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
