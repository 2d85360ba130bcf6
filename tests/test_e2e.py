"""The whole program in a real terminal: start ``dataloupe`` in tmux, send keys, read the screen.

The ``tmux`` fixture (conftest) needs tmux: ``.ci/run`` installs it. A user's clone without tmux
skips these tests; CI (``DATALOUPE_TEST_DATA`` set) fails instead of skipping. Every wait polls the screen for
what should be there (``tests/terminal.py``); no test sleeps and hopes the program kept up.
"""

from __future__ import annotations

import sys
from pathlib import Path

from support.makers import write_image_folder
from support.terminal import TRAINING_FORM

DATALOUPE = Path(sys.executable).parent / "dataloupe"


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
    tmux.fill("Epochs", "300", TRAINING_FORM)  # 300 epochs: far longer than this test waits
    assert "Epochs     300" in tmux.screen()
    tmux.keys("r")
    screen = tmux.wait_for("samples/s")
    assert "epoch" in screen and "/300" in screen
    tmux.keys("q")
    assert tmux.exit_code(timeout=20) == 0
    assert "samples/s" not in tmux.screen()  # the app's screen is gone, the shell's is back


DATASET_FORM = ("Built-in", "or a path", "Root", "CSV label", "threshold", "resize")
"""The dataset pane's form: its labels in reading order (the focus order of their fields)."""


def test_a_folder_typed_into_the_dataset_pane_goes_through_every_pane_to_a_trained_model(tmux, tmp_path):
    write_image_folder(tmp_path / "pets", {"cat": 40, "dog": 12})
    tmux.start([str(DATALOUPE)], cwd=tmp_path)  # the path is typed relative to here
    tmux.wait_for("sample 0 of 1,438")
    tmux.keys("1")
    tmux.wait_for("Built-in")
    tmux.tab_to("or a path", DATASET_FORM)
    tmux.type("pets")
    tmux.wait_until(lambda s: tmux.field_text("or a path", DATASET_FORM) == "pets", what="the path typed")
    tmux.keys("Enter")
    tmux.wait_for("pets · train 52 · 2 classes")
    tmux.keys("Escape")  # out of the field: the pane keys are back
    tmux.wait_for("1-6 pane")

    tmux.keys("2")
    screen = tmux.wait_for("sample 0 of 52")
    assert "label 0 (cat)" in screen and "shape 1×12×10" in screen
    tmux.keys("3")
    screen = tmux.wait_until(lambda s: "dog       12  23.1%" in s, what="the class counts")
    assert "cat       40  76.9%" in screen and "⚠ Unbalanced" in screen
    tmux.keys("4")
    screen = tmux.wait_until(lambda s: "verdict:" in s and "⚠ balanced" in s, what="the checklist")
    assert "✓ readable" in screen and "⚠ split" in screen
    tmux.keys("5")
    screen = tmux.wait_for("batch 0 of 6")
    assert "torch.Size([10, 1, 12, 10])" in screen
    tmux.keys("6")
    tmux.wait_for("dataset: pets · r starts training")
    tmux.keys("r")
    screen = tmux.wait_for("finished 5 epochs")
    assert "test accuracy" in screen and "Traceback" not in screen

    tmux.keys("q")
    assert tmux.exit_code() == 0
    flags = tmux.flags()
    assert flags["alternate_on"] == "0" and flags["cursor_flag"] == "1", flags  # the terminal as it was
