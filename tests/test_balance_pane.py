"""The balance pane through Pilot at 80×24: chart, table, summary, warning, and live counting."""

from __future__ import annotations

import threading

import numpy as np
import torch
from textual.widgets import DataTable, ProgressBar, Static
from torch.utils.data import Dataset

from dataloupe.core.data.datasets import from_datasets
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.messages import DatasetOpened
from dataloupe.tui.panes.balance_pane import BalancePane
from dataloupe.tui.widgets.class_chart import ClassChart

from support.pilot import screen_text, settle, wait_for

SIZE = (80, 24)


def summary_text(app) -> str:
    return str(app.query_one("#balance-summary", Static).render())


def table_rows(app) -> list[list[str]]:
    table = app.query_one("#balance-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_digits_chart_table_and_summary():
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        pane = app.query_one(BalancePane)
        train = np.bincount(app.handle.split("train").targets, minlength=10)
        test = np.bincount(app.handle.split("test").targets, minlength=10)
        rows = table_rows(app)
        assert [r[0] for r in rows] == [str(d) for d in range(10)]
        assert [int(r[1]) for r in rows] == train.tolist()
        assert rows[1][2] == f"{train[1] / train.sum():.1%}" and rows[1][3] == f"{test[1] / test.sum():.1%}"
        chart = app.query_one(ClassChart).data
        assert [name for name, _ in chart.series] == ["train", "test"]  # side by side, as shares
        assert sum(chart.series[1][1]) == 100.0 or abs(sum(chart.series[1][1]) - 100) < 1e-9
        summary = summary_text(app)
        assert "10 classes" in summary and "always answering 1 scores 10.2%" in summary
        assert "entropy 1.000" in summary and "Unbalanced" not in summary
        assert "split" in screen_text(app) and "train|test" in screen_text(app)  # the keys, in the footer

        await pilot.press("b")  # one split alone, in counts
        chart = app.query_one(ClassChart).data
        assert len(chart.series) == 1 and chart.series[0][1] == tuple(float(c) for c in train)
        await pilot.press("s")  # the test split
        await pilot.pause()
        assert app.split == "test" and pane.split_name == "test"
        assert [int(r[1]) for r in table_rows(app)] == test.tolist()
        assert app.query_one(ClassChart).data.title.startswith("test: samples per class")

        await pilot.press("minus")  # threshold 1.5 → 1.0: digits' 1.06 is now past it
        await pilot.pause()
        assert pane.threshold == 1.0 and "Unbalanced" in summary_text(app)


async def test_red_wine_at_4_5_warns_with_remedies(red_wine):
    app = build_app(AppOptions(spec=DatasetSpec(str(red_wine), threshold=4.5)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        pane = app.query_one(BalancePane)
        assert sum(pane.counts["train"]) + sum(pane.counts["test"]) == 1599
        assert pane.counts["train"][0] + pane.counts["test"][0] == 63
        summary = summary_text(app)
        assert "Unbalanced: high (> 4.5) has 24.6× as many samples as low (≤ 4.5)" in summary
        assert "class-balanced sampler" in summary and "per-class accuracy" in summary


class GatedSamples(Dataset):
    """Samples with no ``targets``; once ``hold_from`` is set, reading past it waits for ``gate``."""

    def __init__(self, labels) -> None:
        self.labels = [int(v) for v in labels]
        self.hold_from: int | None = None
        self.gate = threading.Event()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        if self.hold_from is not None and i >= self.hold_from and not self.gate.wait(10):
            self.gate.set()  # never hold a worker for long, even when a test fails before it lets go
        return torch.full((1, 2, 2), float(i % 7)), self.labels[i]


def gated_handle():
    rng = np.random.default_rng(0)
    train = GatedSamples(rng.permutation([0] * 1500 + [1] * 1000 + [2] * 500))
    test = GatedSamples(rng.permutation([0] * 200 + [1] * 200 + [2] * 200))
    handle = from_datasets("gated", {"train": train, "test": test}, ["a", "b", "c"], targets_known=False)
    train.hold_from = 1024  # after two chunks of 512 the count waits for the test to let it go on
    return handle, train


async def open_gated(app, pilot):
    """Open the gated dataset and go to the balance pane while it counts."""
    handle, train = gated_handle()
    await wait_for(pilot, lambda: app.first_paint is not None, what="the first screen")
    await pilot.pause()
    app.post_message(DatasetOpened(handle, DatasetSpec("gated"), "train", 0.0))
    pane = app.query_one(BalancePane)
    await wait_for(pilot, lambda: "train" in pane.partial, what="the first partial count")
    await wait_for(pilot, lambda: app.query_one("#tabs").active == "preview", what="the first pane")
    await pilot.press("3")
    await wait_for(
        pilot, lambda: app.focused is not None and pane in app.focused.ancestors_with_self, what="focus"
    )
    return pane, train


async def test_unknown_targets_are_counted_live_in_a_worker():
    app = build_app(AppOptions(open_on_start=False))
    async with app.run_test(size=SIZE) as pilot:
        pane, train = await open_gated(app, pilot)
        await check_live_counting(app, pilot, pane, train)


async def check_live_counting(app, pilot, pane, train):
    try:
        assert pane.handle.splits["train"].targets is None
        partial = pane.partial["train"]
        assert pane.counting and partial.done in (512, 1024) and partial.total == 3000
        assert app.query_one("#balance-progress-row").display
        assert app.query_one("#balance-progress", ProgressBar).progress == partial.done
        assert f"train: {partial.done:,} of 3,000 labels" in str(
            app.query_one("#balance-progress-label", Static).render()
        )
        chart = app.query_one(ClassChart).data
        assert chart.title.endswith("(so far)") and sum(chart.series[0][1]) == partial.done
        assert "cancel" in screen_text(app)

        train.gate.set()
        await wait_for(pilot, lambda: not pane.counting, what="counting to finish")
        await settle(app, pilot)
        assert pane.counts == {"train": (1500, 1000, 500), "test": (200, 200, 200)}
        assert not app.query_one("#balance-progress-row").display
        assert len(app.query_one(ClassChart).data.series) == 2
        assert "Unbalanced: a has 3.0× as many samples as c" in summary_text(app)
    finally:
        train.gate.set()  # a failed assertion must not leave the worker waiting


async def test_c_cancels_counting_and_r_counts_again():
    app = build_app(AppOptions(open_on_start=False))
    async with app.run_test(size=SIZE) as pilot:
        pane, train = await open_gated(app, pilot)
        try:
            await pilot.press("c")
            await wait_for(
                pilot,
                lambda: all(w.is_cancelled for w in app.workers if w.group == "balance-count"),
                what="the worker to be told to stop",
            )
        finally:
            train.gate.set()  # the worker finishes the chunk it is in, then sees the cancel
        await wait_for(pilot, lambda: not pane.counting, what="the cancel")
        await settle(app, pilot)
        assert "train" not in pane.counts
        assert "counting train was cancelled" in pane.stopped_text
        assert "cancelled" in summary_text(app)
        await pilot.press("r")
        await wait_for(pilot, lambda: "train" in pane.counts and "test" in pane.counts, what="the recount")
        await settle(app, pilot)
        assert pane.counts["train"] == (1500, 1000, 500) and not pane.counting
