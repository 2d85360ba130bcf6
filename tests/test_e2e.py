"""The whole program in a real terminal: start ``dataloupe`` in tmux, send keys, read the screen.

tmux is required: ``.ci/run`` installs it. A user's clone without tmux skips these tests;
CI (``DATALOUPE_TEST_DATA`` set) fails instead of skipping.
"""

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

DATALOUPE = Path(sys.executable).parent / "dataloupe"


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("DATALOUPE_TEST_DATA"):
            pytest.fail("tmux is not installed; .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    sessions: list[str] = []

    class Terminal:
        def start(self, command: list[str], width: int = 80, height: int = 24) -> str:
            name = f"dl-{uuid.uuid4().hex[:8]}"
            line = " ".join(shlex.quote(c) for c in command)
            # a UTF-8 locale: under LANG=C the app draws in ASCII (one test asks for that itself)
            env = f"DATALOUPE_ROOT={shlex.quote(str(tmp_path / 'root'))} TERM=xterm-256color LANG=C.UTF-8"
            if os.environ.get("PYTHONPATH"):  # a tmux server started elsewhere has not got ours
                env += f" PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])}"
            shell = f"env {env} {line}; echo EXITED:$?; sleep 60"
            subprocess.run(
                ["tmux", "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), shell],
                check=True,
            )
            sessions.append(name)
            self.name = name
            return name

        def screen(self) -> str:
            out = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
            )
            return out.stdout

        def keys(self, *keys: str) -> None:
            subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

        def wait_for(self, text: str, timeout: float = 60.0) -> str:
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

    yield Terminal()
    for name in sessions:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_start_browse_and_quit_in_a_real_terminal(tmux):
    tmux.start([str(DATALOUPE)])
    screen = tmux.wait_for("sample 0 of 1,438")
    assert "shape 1×8×8" in screen and "dtype float32" in screen
    assert "1-6 pane" in screen and "q quit" in screen  # the footer fits 80 columns
    assert "▀" in screen  # half-blocks
    tmux.keys("Right")
    tmux.wait_for("sample 1 of 1,438")
    tmux.keys("a")  # ASCII
    screen = tmux.wait_for("sample 1 of 1,438")
    time.sleep(0.5)
    screen = tmux.screen()
    picture = "\n".join(line.split("▏")[0] for line in screen.splitlines()[3:-1])
    assert "▀" not in picture and any(c in picture for c in "%#*+")
    tmux.keys("m")  # a grid of samples
    tmux.wait_for("samples 1–")
    tmux.keys("1")
    tmux.wait_for("Built-in")
    tmux.keys("q")
    screen = tmux.wait_for("EXITED:0", timeout=30)
    assert "Built-in" not in screen  # the alternate screen is gone: the terminal is as it was


def test_a_c_locale_draws_the_whole_screen_in_ascii(tmux):
    tmux.start(["env", "-u", "LC_ALL", "-u", "LC_CTYPE", "LANG=C", str(DATALOUPE)])
    screen = tmux.wait_for("sample 0 of 1,438")
    assert screen.isascii() and "shape 1x8x8" in screen
    tmux.keys("3")
    screen = tmux.wait_for("## train")  # the balance chart's key, in ASCII
    assert screen.isascii(), sorted({ch for ch in screen if ord(ch) > 127})
    tmux.keys("q")
    tmux.wait_for("EXITED:0", timeout=30)


def test_bad_path_exits_2_with_a_message(tmux, tmp_path):
    tmux.start([str(DATALOUPE), str(tmp_path / "missing")])
    screen = tmux.wait_for("EXITED:2", timeout=30)
    assert "no such file or folder" in screen and "Traceback" not in screen


def test_opens_a_table_with_options_from_the_command_line(tmux, red_wine):
    tmux.start([str(DATALOUPE), str(red_wine), "--threshold", "4.5", "--split", "test"])
    screen = tmux.wait_for("showing test")
    tmux.wait_for("fixed acidity")
    assert "winequality-red.csv · train 1,279 / test 320 · 2 classes" in screen
    tmux.keys("q")
    tmux.wait_for("EXITED:0", timeout=30)


def test_quitting_mid_training_exits_cleanly(tmux, mnist_dir):
    tmux.start([str(DATALOUPE), str(mnist_dir)])
    tmux.wait_for("sample 0 of 10,000")
    tmux.keys("6")
    tmux.wait_for("r starts training")
    for _ in range(5):  # Tab into the settings, on to Epochs
        tmux.keys("Tab")
        time.sleep(0.2)
    tmux.keys("C-u")
    tmux.keys("3", "0", "0", "Enter")  # 300 epochs: far longer than this test waits
    tmux.wait_for("Epochs     300")
    tmux.keys("r")
    screen = tmux.wait_for("samples/s")
    assert "epoch" in screen and "/300" in screen
    tmux.keys("q")
    screen = tmux.wait_for("EXITED:0", timeout=20)
    assert "samples/s" not in screen  # the app's screen is gone, the shell's is back
