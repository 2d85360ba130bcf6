"""The mistakes view: worst first, drawn as the preview draws, narrowed to one cell of the confusion matrix."""

from __future__ import annotations

import numpy as np
import torch
from textual.app import App, ComposeResult

from dataloupe.core.data.datasets import from_datasets
from dataloupe.core.training.metrics import model_report
from dataloupe.tui.widgets.mistakes_view import MistakesView, confusion_cells

from support.pilot import wait_for


class Squares(torch.utils.data.Dataset):
    """Six 4×4 images whose brightness is their index, so a drawing tells which sample it is."""

    targets = [0, 1, 2, 0, 1, 2]

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        return torch.full((1, 4, 4), i * 40, dtype=torch.uint8), self.targets[i]


def planted_report():
    """Samples 1 and 4 (class 1) predicted as 2, sample 3 (class 0) as 1; sample 4 the most confident."""
    probs = np.full((6, 3), 0.05)
    for i, p in enumerate([0, 2, 2, 1, 2, 2]):
        probs[i, p] = 0.9
    probs[4] = [0.01, 0.01, 0.98]
    probs /= probs.sum(1, keepdims=True)
    labels = np.array(Squares.targets)
    losses = -np.log(probs[np.arange(6), labels])
    return model_report(probs, losses, labels, ["a", "b", "c"], where=lambda i: f"img{i}.png")


class Host(App):
    def compose(self) -> ComposeResult:
        yield MistakesView(id="mistakes")


async def test_mistakes_step_in_order_of_loss_and_filter_to_one_cell():
    report = planted_report()
    assert [m.index for m in report.mistakes] == [4, 1, 3]
    assert confusion_cells(report) == [(1, 2), (0, 1)]
    split = from_datasets("squares", {"test": Squares()}, ["a", "b", "c"]).split("test")
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(MistakesView)
        view.show(report, split)
        view.focus()
        info = view.query_one("#mistake-info")

        def says(*parts: str) -> bool:
            text = str(info.render())
            return all(p in text for p in parts)

        await wait_for(pilot, lambda: says("mistake 1 of 3", "sample 4", "img4.png", "predicted c at 98"))
        await wait_for(pilot, lambda: any(view.query_one("#mistake-sample").text_rows))
        await pilot.press("right")
        await wait_for(pilot, lambda: says("mistake 2 of 3", "sample 1", "given b"))
        await pilot.press("f")  # the most frequent cell: true b → predicted c
        await wait_for(pilot, lambda: says("mistake 1 of 2", "true b → predicted c", "sample 4"))
        await pilot.press("f")
        await wait_for(pilot, lambda: says("mistake 1 of 1", "true a → predicted b", "sample 3"))
        await pilot.press("f")  # past the last cell: all of them again
        await wait_for(pilot, lambda: says("mistake 1 of 3", "all, worst first"))
        await pilot.press("left")
        await wait_for(pilot, lambda: says("mistake 3 of 3", "sample 3"))
