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


NET = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 3)

    def forward(self, x):
        return torch.log_softmax(self.fc(x.flatten(1)), dim=1)
"""

DATA = """
import torch
from torch.utils.data import Dataset

class Blocks(Dataset):
    classes = ["dark", "mid", "bright"]

    def __init__(self):
        self.targets = torch.arange(30) % 3
        self.x = (self.targets.view(-1, 1, 1, 1) * 0.4 + torch.linspace(0, 0.1, 30).view(-1, 1, 1, 1)).expand(30, 1, 8, 8).clone()

    def __len__(self):
        return 30

    def __getitem__(self, i):
        return self.x[i], int(self.targets[i])

test = Blocks()
"""


async def test_the_pane_loads_the_users_model_and_shows_its_mistakes(tmp_path):
    """``dataloupe data.py:test --model net.py:Net --weights w.pt``: the training pane scores the model on start,
    then a typed model with ``u``; the per-class chart, the confusion matrix and the mistakes view follow."""
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.tui.app import AppOptions, build_app
    from dataloupe.tui.panes.training_pane import TrainingPane
    from dataloupe.tui.widgets.confusion_view import ConfusionView

    from support.pilot import settle

    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "data.py").write_text(DATA)
    namespace: dict = {}
    exec(NET, namespace)
    torch.manual_seed(0)
    net = namespace["Net"]()
    with (
        torch.no_grad()
    ):  # logits -b + 0.25, -10, b - 0.25 for brightness b: "mid" (b near 0.4) is called "bright"
        net.fc.weight.copy_(torch.tensor([[-1.0], [0.0], [1.0]]).expand(3, 64) / 64)
        net.fc.bias.copy_(torch.tensor([0.25, -10.0, -0.25]))
    torch.save(net.state_dict(), tmp_path / "w.pt")
    expected_wrong = sum(1 for i in range(30) if i % 3 == 1)  # every "mid" sample
    options = AppOptions(
        spec=DatasetSpec(f"{tmp_path / 'data.py'}:test"),
        model=f"{tmp_path / 'net.py'}:Net",
        weights=str(tmp_path / "w.pt"),
        start_pane="training",
    )
    app = build_app(options)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await wait_for(
            pilot, lambda: app.query(MistakesView) and app.query_one(MistakesView).report is not None
        )
        pane = app.query_one(TrainingPane)
        view = app.query_one(MistakesView)
        assert pane.current is not None and pane.current.kind == "user"
        assert len(view.report.mistakes) == expected_wrong and view.report.outputs == "log_probs"
        assert {(m.label, m.predicted) for m in view.report.mistakes} == {(1, 2)}
        assert app.query_one(ConfusionView).matrix == ((10, 0, 0), (0, 0, 10), (0, 0, 10))
        await wait_for(pilot, lambda: "mistake 1 of 10" in str(view.query_one("#mistake-info").render()))
        # the pane keeps the keys in every view (a focus change lays the screen out again) and hands
        # the mistakes view its arrows while that view is shown
        assert app.focused is pane
        await pilot.press("right")
        await wait_for(pilot, lambda: "mistake 2 of 10" in str(view.query_one("#mistake-info").render()))
        await pilot.press("left", "left")
        await wait_for(pilot, lambda: "mistake 10 of 10" in str(view.query_one("#mistake-info").render()))
        assert app.focused is pane
        await pilot.press("f")
        await wait_for(
            pilot, lambda: "true mid → predicted bright" in str(view.query_one("#mistake-info").render())
        )
        pane.query_one("#user-weights").value = str(tmp_path / "missing.pt")
        await pilot.press("u")
        await wait_for(
            pilot, lambda: "missing.pt: no such file" in str(pane.query_one("#run-state").render())
        )
        assert pane.current is not None and pane.current.kind == "user"  # the model held is kept
        await pilot.press("e")  # the held model, scored again
        await wait_for(
            pilot, lambda: pane.job is None and "accuracy 66.7%" in str(pane.query_one("#run-state").render())
        )
