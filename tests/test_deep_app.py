"""The deep checks in the app through Pilot: d in the checklist pane, cancel, and f's findings screen."""

from __future__ import annotations

import threading

import pytest
import torch
from torch.utils.data import Dataset

from dataloupe.core.data.datasets import from_datasets
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.messages import DatasetOpened
from dataloupe.tui.panes.checklist_pane import ChecklistPane
from dataloupe.tui.screens.findings_screen import FindingsScreen

from support.pilot import screen_text, settle, wait_for
from support.planted import COPIES, FLIPS, one_thread, planted

one_thread = pytest.fixture(autouse=True)(one_thread)

SIZE = (100, 30)


class PlantedSplit(Dataset):
    """The planted images of one split; reading may be held at a sample until the test lets go."""

    def __init__(self, x, y) -> None:
        self.x, self.y = torch.from_numpy(x[:, None]), y
        self.hold_from: int | None = None
        self.gate = threading.Event()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        if self.hold_from is not None and i >= self.hold_from:
            self.gate.wait(10)
        return self.x[i], int(self.y[i])


async def _open(app, pilot) -> tuple[ChecklistPane, dict[str, PlantedSplit]]:
    await wait_for(pilot, lambda: app.first_paint is not None, what="the first screen")
    data = planted()
    splits = {s: PlantedSplit(data.x[s], data.y[s]) for s in data.x}
    handle = from_datasets("planted", splits, ["h", "v", "o"], targets_known=False)
    app.post_message(DatasetOpened(handle, DatasetSpec("planted"), "train", 0.0))
    pane = app.query_one(ChecklistPane)
    await wait_for(pilot, lambda: pane.report is not None, what="the checklist")
    await settle(app, pilot)
    return pane, splits


async def test_d_runs_the_deep_checks_and_f_shows_label_suspects_and_copies_side_by_side():
    app = build_app(AppOptions(open_on_start=False, start_pane="checklist"))
    async with app.run_test(size=SIZE) as pilot:
        pane, _ = await _open(app, pilot)
        assert pane.deep is None and "deep check" in screen_text(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: pane.deep is not None, timeout=60, what="the deep checks")
        await settle(app, pilot)
        verdicts = {r.name: r.verdict for r in pane.report.results}
        assert verdicts["label noise"] == "warn" and verdicts["near copies"] == "fail"
        text = screen_text(app)
        assert "✗ near copies" in text and "f shows them" in text and "findings" in text

        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen), what="the findings screen")
        screen = app.screen
        await settle(app, pilot)
        first = screen.current[0]
        assert first.check == "label noise" and (first.split, first.index) in {
            ("train", i) for i in FLIPS
        } | {("train", i) for i in (20, 120)}
        text = screen_text(app)
        assert f"given {first.label} · predicted {first.predicted} (" in text
        assert "label noise: 1 of" in text

        await pilot.press("tab")  # near copies: the pair side by side, with the distance
        await settle(app, pilot)
        pair = screen.current[0]
        assert pair.check == "near copies" and (pair.index, pair.other_index) in COPIES.items()
        text = screen_text(app)
        assert f"test {pair.index}" in text and f"train {pair.other_index}" in text and "distance" in text

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, FindingsScreen), what="back to the pane")


async def test_c_cancels_the_deep_checks_while_they_read():
    app = build_app(AppOptions(open_on_start=False, start_pane="checklist"))
    async with app.run_test(size=SIZE) as pilot:
        pane, splits = await _open(app, pilot)
        splits["train"].hold_from = 150
        try:
            await pilot.press("d")
            await wait_for(pilot, lambda: pane.running, what="the deep run to start")
            await wait_for(pilot, lambda: "cancel" in screen_text(app), what="the footer's cancel key")
            await pilot.press("c")
            await wait_for(
                pilot,
                lambda: all(w.is_cancelled for w in app.workers if w.group == "checklist"),
                what="the worker to be told to stop",
            )
        finally:
            splits["train"].gate.set()
        await wait_for(pilot, lambda: not pane.running, what="the cancel")
        await settle(app, pilot)
        assert pane.deep is None
        assert "cancelled" in screen_text(app)
