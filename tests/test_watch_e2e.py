"""``dataloupe watch`` in a real terminal (tmux): new rows appended to a Lightning metrics.csv
and points added by a real SummaryWriter show up while the app watches."""

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

from runlog_makers import append_lines, lightning_rows, write_lightning_csv, write_tensorboard

pytestmark = pytest.mark.e2e

DATALOUPE = Path(sys.executable).parent / "dataloupe"


class Terminal:
    """One tmux session running a command; its screen read as text."""

    def __init__(self, command: list[str], width: int = 140, height: int = 40) -> None:
        self.name = f"dl-watch-{uuid.uuid4().hex[:8]}"
        shell = (
            f"env TERM=xterm-256color {' '.join(shlex.quote(c) for c in command)}; echo EXITED:$?; sleep 60"
        )
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shell],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{text!r} did not appear within {timeout} s; the screen shows:\n{screen}"
                )
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal():
    if shutil.which("tmux") is None:
        if os.environ.get("DATALOUPE_TEST_DATA"):
            pytest.fail("tmux is not installed; .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    opened: list[Terminal] = []

    def start(command: list[str]) -> Terminal:
        opened.append(Terminal(command))
        return opened[-1]

    yield start
    for t in opened:
        t.close()


def test_watch_shows_rows_and_events_written_while_it_runs(terminal, tmp_path):
    csv = write_lightning_csv(tmp_path / "runs" / "lightning" / "metrics.csv", range(10))
    writer = write_tensorboard(tmp_path / "runs" / "tb", range(5))
    try:
        t = terminal([str(DATALOUPE), "watch", str(tmp_path / "runs")])
        t.wait_for("lightning: 12 points · step 9")
        t.wait_for("tb: 7 points · step 4")
        append_lines(csv, lightning_rows(range(10, 40)))
        write_tensorboard(tmp_path / "runs" / "tb", range(5, 25), writer=writer)
        started = time.monotonic()
        t.wait_for("lightning: 48 points · step 39", timeout=10)
        t.wait_for("tb: 31 points · step 24", timeout=10)
        assert time.monotonic() - started < 5  # "within 2 s", with room for a loaded machine
        t.keys("q")
        t.wait_for("EXITED:0")
    finally:
        writer.close()
