"""The user's code that never returns must not hold the app hostage.

A ``__getitem__`` that waits for ever used to leave Esc without effect, ``q`` with a blank screen
and a process that never exited (Python waited for the thread), and a traceback at the first
Ctrl-C. Every call into the user's code is now registered while it runs: the status line names the
one that is stuck, Esc stops waiting for an open stuck in it, and quitting leaves its thread behind.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from textual.widgets import Input, Static

import dataloupe.tui.app as app_module
from dataloupe.core.user_calls import in_user_code, run_user, running_calls
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.workers import LeavingExecutor

from support.pilot import open_training, settle, wait_for

DATALOUPE = Path(sys.executable).parent / "dataloupe"
HANGS = """
import threading

import torch
from torch.utils.data import Dataset

RELEASE = threading.Event()


class Hangs(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == 17:
            RELEASE.wait()
        return torch.zeros(1, 4, 4), i % 2


data = Hangs()
"""


class Stuck:
    """A user's object whose ``__getitem__`` blocks until released."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()

    def __getitem__(self, i: int) -> int:
        self.entered.set()
        self.release.wait(timeout=60)
        return i


def test_a_call_into_the_users_code_is_listed_while_it_runs():
    stuck = Stuck()
    thread = threading.Thread(target=run_user, args=("reading sample 17", stuck.__getitem__, 17))
    thread.start()
    try:
        assert stuck.entered.wait(timeout=10)
        [call] = [c for c in running_calls() if c.thread == thread.ident]
        assert call.call == "__getitem__(17)" and call.what == "reading sample 17"
        assert call.describe(now=call.started + 30) == "your `__getitem__(17)` has not returned for 30 s"
        assert in_user_code(thread.ident) and not in_user_code(threading.get_ident())
    finally:
        stuck.release.set()
        thread.join(timeout=10)
    assert not [c for c in running_calls() if c.thread == thread.ident]  # gone once it returned


def test_the_executor_waits_for_every_job_but_one_stuck_in_the_users_code():
    stuck, busy_done = Stuck(), threading.Event()
    executor = LeavingExecutor()
    hung = executor.submit(run_user, "reading sample 17", stuck.__getitem__, 17)
    assert stuck.entered.wait(timeout=10)
    gate = threading.Event()

    def ours() -> str:  # dataloupe's own work (a save): waited for at shutdown
        gate.wait(timeout=10)
        busy_done.set()
        return "saved"

    busy = executor.submit(ours)
    gate.set()
    executor.shutdown(wait=True)
    assert busy_done.is_set() and busy.result(timeout=0) == "saved"
    assert not hung.done()  # left behind, not waited for
    stuck.release.set()
    assert hung.result(timeout=10) == 17


async def test_the_app_names_the_stuck_call_and_esc_stops_waiting_for_it(tmp_path, monkeypatch):
    path = tmp_path / "hangs.py"
    path.write_text(HANGS)
    monkeypatch.setattr(app_module, "STUCK_AFTER", 0.2)
    app = build_app(AppOptions())
    try:
        async with app.run_test(size=(110, 30)) as pilot:
            await settle(app, pilot)
            await pilot.press("1")
            app.query_one("#path", Input).value = f"{path}:data"
            await pilot.press("ctrl+o")
            status = app.query_one("#status-line", Static)
            await wait_for(
                pilot, lambda: "your `__getitem__(17)` has not returned for" in str(status.render())
            )
            await pilot.press("escape")
            opened = app.query_one("#open-status", Static)
            await wait_for(pilot, lambda: "Opening was cancelled" in str(opened.render()))
            assert "Your `__getitem__(17)` is still running and is left behind." in str(opened.render())
    finally:
        if "hangs" in sys.modules:
            sys.modules["hangs"].RELEASE.set()  # let the thread left behind end with the test


@pytest.mark.e2e
def test_q_quits_while_the_users_code_hangs(tmux, tmp_path):
    (tmp_path / "hangs.py").write_text(HANGS)
    tmux.start([str(DATALOUPE), "hangs.py:data"], width=110, height=30, cwd=tmp_path)
    tmux.wait_for("has not returned for", timeout=90)
    tmux.keys("q")
    assert tmux.exit_code(timeout=20) == 0
    assert "your `__getitem__(17)` has not returned" in tmux.screen()  # said on stderr after the screen


# ---------------------------------------------------------------------- the terminal hangs up
async def test_a_hang_up_stops_the_run_keeps_its_model_beside_the_checkpoint_path_and_quits(tmp_path):
    import signal

    from dataloupe.core.training.checkpoint import load_checkpoint
    from dataloupe.tui import hangup

    target = tmp_path / "mine.pt"
    app = build_app(AppOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_training(app, pilot, epochs="1000", batch="1", checkpoint=str(target))
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.snapshot is not None and pane.snapshot.step > 5, timeout=60)
        assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, None)
        app.hung_up = (
            True  # as the handler sets it: SIGHUP itself would point this process's output at /dev/null
        )
        hangup.hang_up(app, signal.SIGHUP)  # what the handler has the event loop run
        await wait_for(pilot, lambda: app.return_code is not None, timeout=30)
        app.hung_up = False  # so that the app puts this process's handlers back as it closes
    kept = tmp_path / "mine.interrupted.pt"
    assert app.return_code == 128 + signal.SIGHUP and not target.exists()
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL  # put back when the app closed
    assert app.farewell == f"the run stopped when the terminal went; what it learned is in {kept}"
    assert load_checkpoint(kept).metrics["state"] == "stopped"
