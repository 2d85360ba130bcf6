"""The whole program in a real terminal: start ``dataloupe`` in tmux, send keys, read the screen.

tmux is required: ``.ci/run`` installs it. A user's clone without tmux skips these tests;
CI (``DATALOUPE_TEST_DATA`` set) fails instead of skipping. Every wait polls the screen for
what should be there (``tests/terminal.py``); no test sleeps and hopes the program kept up.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from terminal import Terminal

DATALOUPE = Path(sys.executable).parent / "dataloupe"


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("DATALOUPE_TEST_DATA"):
            pytest.fail("tmux is not installed; .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    terminal = Terminal(tmp_path / "root")
    yield terminal
    terminal.close()


TRAINING_FORM = (
    "Model",
    "Hidden",
    "Optimizer",
    "lr",
    "Epochs",
    "batch",
    "Sampler",
    "Device",
    "seed",
    "Checkpoint",
)
"""The training form's labels, each left of its field, in reading order."""


def focused_field(tmux: Terminal, labels: tuple[str, ...] = TRAINING_FORM) -> str | None:
    """The label of the form field drawn as focused, or None when no field of the form is.

    Unfocused fields share one background; the focused one (its text, selection or cursor) is
    drawn on another. The field belongs to the nearest label to its left on its row.
    """
    rows = [row for row in tmux.backgrounds() if "".join(c for c, _ in row).lstrip().startswith(labels)]
    places: list[tuple[int, int, str]] = []  # (row, column where the field starts, label)
    label_backgrounds: set[str] = set()
    for r, row in enumerate(rows):
        text = "".join(c for c, _ in row)
        for label in labels:
            for at in (m.start() for m in re.finditer(rf"(?<![\w,.]){re.escape(label)}(?![\w])", text)):
                places.append((r, at + len(label), label))
                label_backgrounds.update(bg for _, bg in row[at : at + len(label)])
    field_cells = [
        (r, col, bg)
        for r, row in enumerate(rows)
        for col, (_, bg) in enumerate(row)
        if bg not in label_backgrounds
    ]
    if not field_cells:
        return None
    counts: dict[str, int] = {}
    for _, _, bg in field_cells:
        counts[bg] = counts.get(bg, 0) + 1
    unfocused = max(counts, key=counts.__getitem__)
    for r, col, bg in field_cells:
        if bg != unfocused:
            owners = [(start, label) for row, start, label in places if row == r and start <= col]
            return max(owners)[1] if owners else None
    return None


def tab_to(tmux: Terminal, label: str, presses: int = 30) -> None:
    """Press Tab until the field after ``label`` is drawn focused, one Tab at a time.

    After each Tab the screen is polled until the focus has moved before the next Tab goes, so a
    slow screen costs time, never a miscount (the focus chain wraps round if it passes the field).
    """
    focused = focused_field(tmux)
    for _ in range(presses):
        tmux.keys("Tab")
        deadline = time.monotonic() + 5.0
        previous = focused
        while (focused := focused_field(tmux)) == previous and time.monotonic() < deadline:
            time.sleep(0.02)
        if focused == label:
            return
    raise AssertionError(
        f"{presses} Tabs never focused the {label} field; the screen shows:\n{tmux.screen()}"
    )


def ascii_picture(screen: str) -> bool:
    """The sample drawn in ASCII: no half-blocks left, some of the ASCII ramp's characters."""
    picture = "\n".join(line.split("▏")[0] for line in screen.splitlines()[3:-1])
    return "▀" not in picture and any(c in picture for c in "%#*+")


def test_start_browse_and_quit_in_a_real_terminal(tmux):
    tmux.start([str(DATALOUPE)])
    screen = tmux.wait_for("sample 0 of 1,438")
    assert "shape 1×8×8" in screen and "dtype float32" in screen
    assert "1-6 pane" in screen and "q quit" in screen  # the footer fits 80 columns
    assert "▀" in screen  # half-blocks
    tmux.keys("Right")
    tmux.wait_for("sample 1 of 1,438")
    tmux.keys("a")  # ASCII
    screen = tmux.wait_until(ascii_picture, timeout=30, what="the sample redrawn in ASCII")
    assert "sample 1 of 1,438" in screen
    tmux.keys("m")  # a grid of samples
    tmux.wait_for("samples 1–")
    tmux.keys("1")
    tmux.wait_for("Built-in")
    tmux.keys("q")
    assert tmux.exit_code() == 0
    assert "Built-in" not in tmux.screen()  # the alternate screen is gone: the terminal is as it was


def test_bad_path_exits_2_with_a_message(tmux, tmp_path):
    tmux.start([str(DATALOUPE), str(tmp_path / "missing")])
    assert tmux.exit_code() == 2
    screen = tmux.screen()
    assert "no such file or folder" in screen and "Traceback" not in screen


def test_opens_a_table_with_options_from_the_command_line(tmux, red_wine):
    tmux.start([str(DATALOUPE), str(red_wine), "--threshold", "4.5", "--split", "test"])
    screen = tmux.wait_for("showing test")
    tmux.wait_for("fixed acidity")
    assert "winequality-red.csv · train 1,279 / test 320 · 2 classes" in screen
    tmux.keys("q")
    assert tmux.exit_code() == 0


def test_quitting_mid_training_exits_cleanly(tmux, mnist_dir):
    tmux.start([str(DATALOUPE), str(mnist_dir)])
    tmux.wait_for("sample 0 of 10,000")
    tmux.keys("6")
    tmux.wait_for("r starts training")
    tab_to(tmux, "Epochs")
    tmux.keys("C-u")
    tmux.keys("3", "0", "0", "Enter")  # 300 epochs: far longer than this test waits
    tmux.wait_for("Epochs     300")
    tmux.keys("r")
    screen = tmux.wait_for("samples/s")
    assert "epoch" in screen and "/300" in screen
    tmux.keys("q")
    assert tmux.exit_code(timeout=20) == 0
    assert "samples/s" not in tmux.screen()  # the app's screen is gone, the shell's is back
