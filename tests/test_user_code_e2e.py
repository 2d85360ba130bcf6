"""The user's own Dataset in a real terminal (tmux): what it prints is shown in the app's dataset pane,
never written over the screen; the app opens it from ``dataloupe file.py:NAME``."""

from __future__ import annotations

import sys
from pathlib import Path

DATALOUPE = Path(sys.executable).parent / "dataloupe"
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


def test_prints_go_to_the_dataset_pane_not_over_the_screen(tmp_path, tmux):
    (tmp_path / "mydata.py").write_text(CODE)
    tmux.start([str(DATALOUPE), "mydata.py:data"], width=100, height=30, cwd=tmp_path)
    shown = tmux.wait_for("mydata.py:data · train 40")  # the status line, on the preview pane
    assert "QUIET-MARK" not in shown  # a print after the first is not on the preview's screen
    tmux.wait_for("Your code printed")  # the first print after opening is a notification
    tmux.keys("1")
    shown = tmux.wait_for("printed by your code")
    assert "QUIET-MARK from getitem" in shown and "LOUD-MARK at import" in shown
    tmux.keys("q")
    assert tmux.exit_code() == 0
    assert "MARK" not in tmux.screen()  # nothing was written to the terminal itself
