"""The terminal hung up (an SSH connection dropped, a tmux session killed) or the app was told to stop
(SIGTERM): stop a running training run, keep its model, and quit cleanly.

Without this, SIGHUP ended the process at once: the run and everything it had learned were lost,
and SIGTERM left the terminal in the app's modes. Now a run stops at its next step, as ``x`` stops
it, and its model is written to ``NAME.interrupted.pt`` beside the Checkpoint field's path (never
over it; elsewhere when that disk is full), as ``dataloupe train --save-on-stop`` does. Then the app
quits with 128 + the signal's number; what it kept is said on stderr (see :attr:`DataloupeApp.farewell`).

    kill -HUP <pid of dataloupe>   # mid-run: NAME.interrupted.pt appears, the process ends
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataloupe.tui.app import DataloupeApp
    from dataloupe.tui.panes.training_pane import TrainingPane

SIGNALS = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name))
"""The signals that end the app this way."""
STOP_WITHIN = 15.0
"""Seconds a run has to stop before the app quits without its model (a step stuck in the user's code)."""


def install(app: DataloupeApp) -> None:
    """Handle :data:`SIGNALS` (call from ``on_mount``); :func:`uninstall` puts the earlier handlers back.

    The handlers are Python's own (``signal.signal``), not the event loop's: a Python handler runs even
    while the loop's thread waits on a lock, and the first thing it does on SIGHUP must be done at
    once (see :func:`_received`).
    """
    loop = asyncio.get_running_loop()
    try:
        app.previous_handlers = {sig: signal.signal(sig, partial(_received, app, loop)) for sig in SIGNALS}
    except ValueError:  # not the main thread: the app runs without them
        app.previous_handlers = {}


def uninstall(app: DataloupeApp) -> None:
    """Put back the handlers :func:`install` replaced, unless a hang-up is being handled (its echoes are
    ignored until the process ends)."""
    if app.hung_up:
        return
    for sig, handler in app.previous_handlers.items():
        signal.signal(sig, handler)
    app.previous_handlers = {}


def _received(app: DataloupeApp, loop: asyncio.AbstractEventLoop, signum: int, frame: object) -> None:
    """The signal handler. On SIGHUP the terminal is gone and writing to it fails (EIO), which would end
    Textual's writer thread and then block the app on its full queue: so the output goes to the null
    device at once, before anything else is drawn. A second SIGHUP (the kernel's echo when the shell
    goes) is ignored; a second SIGTERM ends the process at once."""
    if app.hung_up:
        return
    app.hung_up = True
    if signum == getattr(signal, "SIGHUP", None):
        null = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
        os.close(null)
        signal.signal(signum, signal.SIG_IGN)
    else:
        signal.signal(signum, signal.SIG_DFL)
    # whatever happens to the app, the process ends: a run stuck in the user's code cannot hold it
    watchdog = threading.Timer(STOP_WITHIN + 10, os._exit, (128 + signum,))
    watchdog.daemon = True
    watchdog.start()
    loop.call_soon_threadsafe(hang_up, app, signum)


def hang_up(app: DataloupeApp, signum: int) -> None:
    """Stop a running run, keep its model, and quit; at once when nothing runs."""
    from dataloupe.tui.panes.training_pane import TrainingPane

    code = 128 + signum
    training = next(iter(app.query(TrainingPane)), None)
    if training is None or not training.running:
        app.exit(return_code=code)
        return
    training.action_stop()
    deadline = time.monotonic() + STOP_WITHIN

    def when_stopped() -> None:
        if training.running and time.monotonic() < deadline:
            return
        timer.stop()
        if not training.running:
            app.farewell = keep(training)
        app.exit(return_code=code)

    timer = app.set_interval(0.05, when_stopped)


def keep(training: TrainingPane) -> str:
    """Write the model the stopped run left to ``NAME.interrupted.pt``; a line saying where (or why not)."""
    from dataloupe.core.training.checkpoint import save_checkpoint
    from dataloupe.core.training.safe_save import rescue_path, save_or_rescue
    from dataloupe.tui.widgets.train_settings import TrainSettings

    current = training.current
    if current is None:
        return "the run stopped before its first step; there was no model to keep."
    target = training.query_one(TrainSettings).checkpoint_path()
    kept, reason = save_or_rescue(
        lambda path: save_checkpoint(path, current), rescue_path(target, "interrupted"), target, "interrupted"
    )
    if kept is None:
        return f"the stopped run's model could not be kept: {reason}"
    return f"the run stopped when the terminal went; what it learned is in {kept}" + (
        f" ({reason})" if reason else ""
    )
