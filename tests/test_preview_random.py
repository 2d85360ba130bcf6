"""The preview says when the user's Dataset draws a sample anew at every read (a random transform)."""

from __future__ import annotations

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.preview_pane import PreviewPane

from support.pilot import settle, wait_for

CODE = """
import torch
from torch.utils.data import Dataset


class Jittered(Dataset):
    classes = ["a", "b"]

    def __init__(self, random):
        self.random = random

    def __len__(self):
        return 8

    def __getitem__(self, i):
        x = torch.full((1, 6, 6), float(i % 2))
        if self.random:  # as RandomResizedCrop would: a new draw at every read
            x = x + torch.rand(1, 6, 6)
        return x, i % 2


jittered = Jittered(True)
steady = Jittered(False)
"""


async def info_of(tmp_path, name: str) -> str:
    path = tmp_path / "jitter.py"
    path.write_text(CODE)
    app = build_app(AppOptions(spec=DatasetSpec(f"{path}:{name}")))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(PreviewPane)
        await wait_for(pilot, lambda: "sample 0 of 8" in pane.last_info.plain, what="the first sample")
        return pane.last_info.plain


async def test_a_random_transform_is_flagged(tmp_path):
    assert "random: your Dataset's transform draws anew at every read" in await info_of(tmp_path, "jittered")


async def test_a_steady_dataset_is_not(tmp_path):
    assert "random:" not in await info_of(tmp_path, "steady")
