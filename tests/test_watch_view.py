"""The watch screen's view without the app: ticks, filters, zoom, and the traces of a chart built from
a snapshot (log scale, smoothing, styles per run)."""

from __future__ import annotations

import json
import math

import pytest

from dataloupe.core.runlogs import Watch
from dataloupe.core.runlogs.filters import NameFilter, strict_filter
from dataloupe.core.runlogs.series import smooth
from dataloupe.tui.panes.watch_view import MAX_CHART_RUNS, WatchView, chart_data, x_extent
from dataloupe.tui.widgets.axes import clean_label, elapsed_label, log_ticks, time_ticks, value_ticks


def test_ticks_are_round_and_as_precise_as_the_data():
    assert value_ticks(0.01, 0.01, 4)[3] == ["0.009", "0.01", "0.011"]  # a constant learning rate
    assert value_ticks(99.5, 99.5, 4)[3] == ["98.5", "99.5", "100.5"]  # a single point
    assert value_ticks(0.0, 0.0, 4)[3] == ["-1", "0", "1"]
    low, high, ticks, labels = value_ticks(0.13, 2.31, 5)
    assert low <= 0.13 and high >= 2.31 and labels == ["0", "0.5", "1", "1.5", "2", "2.5"]
    assert value_ticks(5e-5, 5e-5, 4)[3] == ["4.9e-5", "5e-5", "5.1e-5"]
    assert clean_label(0.1 + 0.2, 0.1) == "0.3"  # never 0.30000000000000004
    # eight decades, every other one labelled with its value
    low, high, ticks, labels = log_ticks(math.log10(2.3e-8), math.log10(2.3), 5)
    assert low <= math.log10(2.3e-8) and high >= math.log10(2.3)
    assert labels[0] == "1e-8" and "0.01" in labels and "1" in labels
    assert elapsed_label(45) == "45s" and elapsed_label(5400) == "1h30m" and elapsed_label(90) == "1m30s"
    ticks, labels = time_ticks(0, 3700, 5, clock=False)
    assert labels == ["0s", "15m", "30m", "45m", "1h"]


def test_filters_take_a_substring_or_a_regex():
    assert NameFilter("^val").matches("val/loss") and not NameFilter("^val").matches("train/val")
    assert NameFilter("LOSS").matches("train/loss")  # case does not matter
    assert NameFilter("loss(").matches("loss(ema)") and not NameFilter("loss(").is_regex  # a substring
    assert NameFilter("").matches("anything")
    with pytest.raises(ValueError, match="not a regular expression"):
        strict_filter("loss(")


def test_zoom_keeps_its_right_edge_and_follows_the_newest_point():
    view = WatchView()
    assert view.window((0, 1000)) is None
    view.zoom_by(2)
    assert view.window((0, 1000)) == (750, 1000)  # the last quarter, following
    view.pan(-1, (0, 1000))
    assert view.window((0, 1000)) == (625, 875) and view.zoom_end == 875
    view.pan(1, (0, 1000))
    view.pan(1, (0, 1000))
    assert view.zoom_end is None  # back at the newest point: following again
    view.cycle_x()
    assert view.zoom == 0 and view.x_axis == "relative"


def test_chart_traces_log_smoothing_and_styles(tmp_path):
    for name in ("a", "b"):
        rows = [{"step": s, "train_loss": 10 ** (-s / 25), "time": 1e9 + s} for s in range(200)]
        rows[3]["train_loss"] = -1.0  # a value a log scale cannot show
        (tmp_path / name).mkdir()
        rows += [{"step": s, "val_loss": 2 * 10 ** (-s / 25), "time": 1e9 + s} for s in range(0, 200, 50)]
        (tmp_path / name / "run.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    runs = Watch(tmp_path).read_all().runs
    a, b = "a/run.jsonl", "b/run.jsonl"
    assert [r.name for r in runs] == [a, b]
    view = WatchView()
    view.meet([r.name for r in runs])
    view.log_y = True
    data = chart_data("loss", ["train_loss", "val_loss"], runs, view)
    assert (
        data.dropped == 2 and "2 values ≤ 0 not drawn" in data.title and data.title.startswith("loss [log]")
    )
    front = [t for t in data.traces if t.kind != "faint"]
    assert {(t.run, t.kind) for t in front} == {(a, "line"), (b, "line"), (a, "points"), (b, "points")}
    styles = {t.run: (t.colour, t.marker) for t in front}
    assert styles[a] != styles[b] and styles[a][1] != styles[b][1]  # apart without colour
    assert all((t.colour, t.marker) == styles[t.run] for t in front)
    line = next(t for t in front if t.run == a and t.kind == "line")
    values = [10 ** (-s / 25) if s != 3 else -1.0 for s in range(200)]
    assert 10 ** line.ys[-1] == pytest.approx(smooth(values, 0.9)[-1])
    assert len(line.xs) <= 401
    # the same run keeps its style when the other is filtered away
    view.set_run_filter("^b")
    kept = view.drawn_runs(runs)
    assert [r.name for r in kept] == [b]
    only_b = chart_data("loss", ["train_loss"], kept, view)
    assert {(t.colour, t.marker) for t in only_b.traces if t.kind != "faint"} == {styles[b]}
    assert x_extent(kept, None, view) == (0, 199)


def test_many_runs_draw_a_few_pinned_first():
    from dataclasses import dataclass

    @dataclass
    class Fake:
        name: str

    view = WatchView()
    runs = [Fake(f"r{i:04}") for i in range(2000)]
    view.meet([r.name for r in runs])
    view.toggle_pin("r1500")
    drawn = view.drawn_runs(runs)
    assert len(drawn) == MAX_CHART_RUNS and drawn[0].name == "r1500"
