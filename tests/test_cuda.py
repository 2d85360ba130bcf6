"""On a real GPU: the device choice, memory on screen, out of memory, divergence, and graphs against eager.

Every test here needs CUDA and is skipped without it (CI has no GPU); the decisions behind
these paths are tested on the CPU in ``tests/test_training_faults.py``.
"""

from __future__ import annotations

import pytest
import torch

from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import TrainConfig
from dataloupe.core.training.device import choose_device, cuda_available
from dataloupe.core.training.run import TrainingRun
from dataloupe.tui.app import AppOptions, build_app

from support.pilot import open_training, screen_text, wait_for

pytestmark = pytest.mark.skipif(not cuda_available(), reason="needs CUDA (a GPU and a CUDA build of torch)")


def test_auto_chooses_the_gpu():
    choice = choose_device("auto")
    assert choice.device.type == "cuda" and choice.notice == "" and choice.name.startswith("cuda:")


def test_a_run_on_the_gpu_holds_the_data_there_and_reports_its_memory(digits):
    run = TrainingRun(digits, TrainConfig(epochs=1, batch_size=32, device="cuda"))
    setup = run.prepare()
    assert setup.in_memory and setup.batches.held.x.device.type == "cuda"
    final = run.run()
    assert final.state == "finished" and final.gpu_memory is not None and final.gpu_memory > 0
    assert next(run.model.parameters()).device.type == "cpu"  # handed back at the end


async def test_the_training_pane_shows_gpu_memory_while_it_trains():

    app = build_app(AppOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_training(app, pilot, epochs="200", device="cuda")
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.step > 50)
        await pilot.pause(0.5)
        assert "GPU " in screen_text(app) and "cuda" in screen_text(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running)


def test_out_of_memory_while_preparing_is_a_message_and_the_memory_is_freed(digits):
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated()
    torch.cuda.set_per_process_memory_fraction(0.001)  # about 80 MB of an H100: less than the data needs
    try:
        from dataloupe.core.data.datasets import build_handle, in_memory_split

        big = torch.zeros(200_000, 1, 28, 28, dtype=torch.uint8)
        labels = (torch.arange(200_000) % 10).numpy()
        handle = build_handle(
            name="zeros",
            reader="custom",
            classes=[str(d) for d in range(10)],
            splits={
                "train": in_memory_split(big, labels),
                "test": in_memory_split(big[:1000], labels[:1000]),
            },
            pipeline=Pipeline.for_images(1),
        )
        with pytest.raises(SettingsError, match="ran out of memory while preparing"):
            TrainingRun(handle, TrainConfig(epochs=1, device="cuda", memory_limit=10**12)).prepare()
        assert torch.cuda.memory_allocated() == before
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)


def test_out_of_memory_in_the_loop_is_a_message(digits):
    torch.cuda.set_per_process_memory_fraction(0.0005)
    try:
        final = TrainingRun(
            digits, TrainConfig(epochs=1, batch_size=1_000_000, device="cuda", hidden=(16384,))
        ).run()
        assert final.state == "failed" and "out of memory" in final.message
    except SettingsError as e:  # or already while preparing: the same advice
        assert "ran out of memory" in str(e)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "graph"])
def test_a_huge_learning_rate_keeps_usable_weights_on_the_gpu(digits, graph):
    run = TrainingRun(digits, TrainConfig(epochs=3, batch_size=32, lr=1e6, device="cuda", cuda_graph=graph))
    final = run.run()
    assert final.state == "diverged"
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


def test_graph_training_learns_what_eager_training_learns(digits):
    finals = {}
    for graph in (False, True):
        run = TrainingRun(digits, TrainConfig(epochs=5, batch_size=32, device="cuda", cuda_graph=graph))
        finals[graph] = run.run()
        assert run.prepare().graphed is graph
    eager, graphed = finals[False], finals[True]
    assert graphed.state == eager.state == "finished"
    assert not any("capture failed" in n for n in graphed.notes)
    assert graphed.latest.test.accuracy == pytest.approx(eager.latest.test.accuracy, abs=0.02)
    assert graphed.loss_values[-1] == pytest.approx(eager.loss_values[-1], rel=0.2)
