"""``dataloupe watch`` in a real terminal (tmux): rows appended to a Lightning metrics.csv and
points added by a real SummaryWriter show up while the app watches, and ``y`` turns the charts
to a log scale."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.runlogs import append_lines, lightning_rows, write_lightning_csv, write_tensorboard

pytestmark = pytest.mark.e2e

DATALOUPE = Path(sys.executable).parent / "dataloupe"


def test_watch_shows_rows_and_events_written_while_it_runs(tmux, tmp_path):
    csv = write_lightning_csv(tmp_path / "runs" / "lightning" / "metrics.csv", range(10))
    writer = write_tensorboard(tmp_path / "runs" / "tb", range(5))
    try:
        tmux.start([str(DATALOUPE), "watch", str(tmp_path / "runs")], width=140, height=40)
        tmux.wait_for("lightning: 12 points · step 9", timeout=30)
        tmux.wait_for("tb: 7 points · step 4", timeout=30)
        append_lines(csv, lightning_rows(range(10, 40)))
        write_tensorboard(tmp_path / "runs" / "tb", range(5, 25), writer=writer)
        # nothing pressed: the new points must come by themselves (how soon: bench_watch.py)
        tmux.wait_for("lightning: 48 points · step 39", timeout=15)
        tmux.wait_for("tb: 31 points · step 24", timeout=15)
        tmux.keys("y")
        tmux.wait_for("loss [log]", timeout=15)
        assert "y log" in tmux.screen()
        tmux.keys("q")
        assert tmux.exit_code() == 0
    finally:
        writer.close()
