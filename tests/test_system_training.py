"""dataloupe's own training beside the box: the system strip at the top of the training pane, and each
step's time split into waiting for data and computing, with the warning when a slow loader starves it."""

from __future__ import annotations

import textwrap

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.threads import set_threads
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.widgets.system_strip import SystemStrip

from support.pilot import open_training, screen_lines, wait_for

set_threads(1)

SLOW_LOADER = """
import time
import torch
from torch.utils.data import DataLoader, Dataset


class Slow(Dataset):
    '''Two classes of 1x6x6 noise, each sample 2 ms to read: a loader far slower than the step.'''

    classes = ["dark", "light"]

    def __len__(self):
        return 120

    def __getitem__(self, i):
        time.sleep(0.002)  # the slow disk or decoder this test stands for
        return torch.rand(1, 6, 6) * 0.5 + 0.5 * (i % 2), i % 2


loader = DataLoader(Slow(), batch_size=4)  # training re-batches it with the form's batch size
"""


async def test_a_slow_loader_is_reported_beside_the_system_strip(tmp_path):
    path = tmp_path / "slow.py"
    path.write_text(textwrap.dedent(SLOW_LOADER))
    app = build_app(AppOptions(spec=DatasetSpec(f"{path}:loader")))
    async with app.run_test(size=(100, 30)) as pilot:
        # batch 4: 24 steps an epoch, a share by the first epoch's end
        pane = await open_training(app, pilot, epochs="1000", batch="4")
        await pilot.press("r")
        text = lambda: "\n".join(screen_lines(app))  # noqa: E731
        await wait_for(pilot, lambda: "waits for data" in text(), timeout=30, what=text)
        assert pane.snapshot.data_wait > 0.5
        assert "training waits for data" in text() and "raise num_workers" in text()
        assert "waiting for data" in text() and "computing" in text()
        strip = pane.query_one(SystemStrip)
        await wait_for(pilot, lambda: strip.samples > 0, what="a system sample")
        assert strip.region.y < pane.query_one("#train-views").region.y  # at the top of the pane
        assert "no GPU" in text() and "CPU " in text()
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running, timeout=60, what="the run to stop")
