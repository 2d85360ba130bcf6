"""Loading refuses what is not a regular file (a FIFO would block the reader for ever, a link to
/dev/zero reads as an endless or empty file), saying what it is."""

from __future__ import annotations

import os
import threading

import pytest

from dataloupe.core.errors import CheckpointError

from support.inprocess import run_main


def test_loading_refuses_a_fifo_and_a_device_saying_what_it_is(tmp_path):
    from dataloupe.core.training.checkpoint import load_checkpoint

    fifo, zero = tmp_path / "f.pt", tmp_path / "z.pt"
    os.mkfifo(fifo)
    zero.symlink_to("/dev/zero")
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_checkpoint(fifo)
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            outcome.append(e)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=20)
    if reader.is_alive():  # today's code blocks in open(): unblock it, then fail
        with open(fifo, "wb"):
            pass
        reader.join(timeout=5)
        pytest.fail("loading a FIFO blocked")
    assert isinstance(outcome[0], CheckpointError) and "is a FIFO (named pipe), not a checkpoint file" in str(
        outcome[0]
    )
    with pytest.raises(CheckpointError, match=r"is a character device \(/dev/zero\), not a checkpoint file"):
        load_checkpoint(zero)
    done = run_main("eval", str(zero), "digits")
    assert done.returncode == 2 and "empty" not in done.stderr and "character device" in done.stderr
