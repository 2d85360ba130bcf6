"""The class bar chart as drawn: gaps between bars, whole-number ticks, true heights (issue 9, item 9)."""

from __future__ import annotations

import re

from textual.app import App, ComposeResult

from dataloupe.tui.widgets.class_chart import ChartData, ClassChart

EIGHTHS = {**{ch: i + 1 for i, ch in enumerate("▁▂▃▄▅▆▇")}, "█": 8, "▒": 8, "#": 8, "=": 8}
"""Eighths of a row that a character of a bar fills."""
AXIS = re.compile(r"^(\s*[\d.,]*)([┤│|+])(.*)$")


class ChartApp(App):
    """One chart filling the screen."""

    def __init__(self, data: ChartData, ascii_only: bool = False) -> None:
        super().__init__()
        self.data = data
        self.ascii_screen = ascii_only

    def compose(self) -> ComposeResult:
        yield ClassChart(id="chart")

    def on_mount(self) -> None:
        self.query_one(ClassChart).show(self.data)


def plot_rows(chart: ClassChart) -> tuple[list[str], list[str]]:
    """(tick labels, plot cells) of each row of the chart that sits right of the y axis."""
    labels, cells = [], []
    for line in chart.render().plain.splitlines():
        m = AXIS.match(line)
        if m and not set(m.group(3)) <= set("─-└+"):  # the axis line under the bars is not a plot row
            labels.append(m.group(1).strip())
            cells.append(m.group(3).rstrip("│"))
    return labels, cells


def bars(cells: list[str]) -> list[int]:
    """Heights in eighths of the bars, left to right: runs of filled columns with empty columns between."""
    width = max(len(row) for row in cells)
    columns = [sum(EIGHTHS.get(row[c], 0) if c < len(row) else 0 for row in cells) for c in range(width)]
    runs: list[int] = []
    previous = 0
    for h in columns:
        if h and not previous:
            runs.append(h)
        previous = h
    return runs


COUNTS = (130.0, 16.0, 4.0, 60.0, 130.0, 90.0)


async def test_bars_have_gaps_true_heights_and_whole_number_ticks():
    data = ChartData(tuple("abcdef"), (("train", COUNTS),), "train: samples per class")
    app = ChartApp(data)
    async with app.run_test(size=(50, 16)) as pilot:
        await pilot.pause()
        chart = app.query_one(ClassChart)
        labels, cells = plot_rows(chart)
        assert len(cells) >= 10
        heights = bars(cells)
        assert len(heights) == len(COUNTS)  # one separate bar per class: they do not touch
        unit = heights[0] / COUNTS[0]
        for h, count in zip(heights, COUNTS, strict=True):
            assert abs(h - count * unit) <= 1.0, (heights, COUNTS)  # true to an eighth of a row
        assert heights[2] < heights[1] < heights[0] / 4  # 4 samples is a sliver beside 130
        ticks = [label for label in labels if label]
        assert len(ticks) >= 2 and all(re.fullmatch(r"\d[\d,]*", t) for t in ticks), ticks


async def test_two_series_key_in_the_title_and_gaps_between_groups():
    shares = (("train", (40.0, 35.0, 25.0)), ("test", (38.0, 37.0, 25.0)))
    app = ChartApp(ChartData(("cat", "dog", "fox"), shares, "% of each split"))
    async with app.run_test(size=(40, 14)) as pilot:
        await pilot.pause()
        chart = app.query_one(ClassChart)
        first = chart.render().plain.splitlines()[0]
        assert "train" in first and "test" in first  # the key is in the title line, not over the bars
        _, cells = plot_rows(chart)
        assert len(bars(cells)) == 3  # train and test side by side, then a gap
        assert "train" not in "".join(cells) and "test" not in "".join(cells)


async def test_too_many_classes_for_the_width_says_so_instead_of_dropping_some():
    data = ChartData(tuple(str(k) for k in range(100)), (("train", (5.0,) * 100),), "train")
    app = ChartApp(data)
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        text = app.query_one(ClassChart).render().plain
        assert "100 classes do not fit in 60×16" in text and "Make the terminal at least" in text


async def test_without_colour_the_two_series_differ_by_fill(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    shares = (("train", (40.0, 35.0, 25.0)), ("test", (38.0, 37.0, 25.0)))
    app = ChartApp(ChartData(("cat", "dog", "fox"), shares, "% of each split"))
    async with app.run_test(size=(40, 14)) as pilot:
        await pilot.pause()
        rows = app.query_one(ClassChart).render().plain.splitlines()
        assert "██ train" in rows[0] and "▒▒ test" in rows[0]
        assert "█" in "".join(rows[1:]) and "▒" in "".join(rows[1:])


async def test_in_ascii_the_chart_is_7_bit():
    shares = (("train", (40.0, 35.0, 25.0)), ("test", (38.0, 37.0, 4.0)))
    app = ChartApp(ChartData(("cat", "dog", "fox"), shares, "% of each split"), ascii_only=True)
    async with app.run_test(size=(40, 14)) as pilot:
        await pilot.pause()
        text = app.query_one(ClassChart).render().plain
        assert text.isascii() and "## train" in text and "== test" in text
