"""No terminal, or a poor one: the app says what it needs and exits 2; the commands run anywhere.

``dataloupe < /dev/null`` used to draw, read no keys and spin; ``TERM=dumb`` got full-screen escape
codes; ``dataloupe 2>err.log`` drew the whole screen into the file (Textual draws on stderr); and a
closed stdout (``>&-``) was "AttributeError … isatty … This is a bug".
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from dataloupe.tui.cli import common, entry

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
DATALOUPE = Path(sys.executable).parent / "dataloupe"


def finish(process: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    """(stdout, stderr) of ``process`` within ``timeout``; a process still running then is killed and fails."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"still running after {timeout} s")
    return out or "", err or ""


def read_all(fd: int) -> str:
    """What a pseudo-terminal's other end has left to read (the program has ended)."""
    out = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the last writer closed
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def test_the_app_without_a_terminal_on_stdin_says_it_needs_one_and_exits_2():
    process = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    out, err = finish(process, timeout=30)
    assert process.returncode == 2 and out == ""
    assert err.startswith(
        "dataloupe: the app needs a terminal: it reads keys from stdin, which is not one here."
    )


def test_the_app_under_term_dumb_says_it_needs_a_capable_terminal():
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "dataloupe.tui"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env={**ENV, "TERM": "dumb"},
        )
        os.close(follower)
        follower = -1
        finish(process, timeout=30)
        screen = read_all(leader)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert process.returncode == 2
    assert screen.startswith(
        "dataloupe: the app needs a terminal that understands cursor movement and colour"
    )
    assert "\x1b" not in screen  # not a byte of full-screen drawing


def test_terminal_problems_are_found_in_order(monkeypatch):
    ttys: set[int] = {0, 1, 2}
    monkeypatch.setattr(os, "isatty", lambda fd: fd in ttys)
    assert entry.terminal_problem({"TERM": "xterm-256color"}) is None
    ttys.discard(2)  # dataloupe 2>err.log: stdout still draws
    assert entry.terminal_problem({"TERM": "xterm-256color"}) is None
    ttys.discard(1)
    assert "neither stdout nor stderr is one" in (entry.terminal_problem({}) or "")
    ttys.discard(0)
    assert "reads keys from stdin" in (entry.terminal_problem({}) or "")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_headless_output_under_term_dumb_has_no_escape_codes(monkeypatch, capsys):
    from dataloupe.core.progress import Progress
    from dataloupe.tui.cli.train import _Printer

    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    monkeypatch.setenv("TERM", "xterm-256color")
    assert common.can_redraw(sys.stdout) and _Printer(as_json=False).live
    monkeypatch.setenv("TERM", "dumb")
    printer, progress = _Printer(as_json=False), common.StderrProgress()
    printer.status("epoch 1/3  12%")
    printer.emit({}, "epoch 1.00  step 23")
    progress(Progress("reading digits", 1, 2))
    progress.done()
    assert sys.stdout.getvalue() == "epoch 1.00  step 23\n" and sys.stderr.getvalue() == ""
    assert not common.can_redraw(None)


def test_a_closed_stdout_is_treated_like_a_closed_pipe(tmp_path):
    from dataloupe.core.training.checkpoint import load_checkpoint

    target = tmp_path / "m.pt"
    process = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", "train", "digits", "--epochs", "1", "--json"]
        + ["--device", "cpu", "--save", str(target)],
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=lambda: os.close(1),  # dataloupe … >&-
    )
    _, err = finish(process, timeout=120)
    assert process.returncode == 0 and err == ""
    assert load_checkpoint(target).dataset == "digits"


@pytest.mark.e2e
def test_with_stderr_in_a_file_the_app_draws_on_the_terminal(tmux, tmp_path):
    log = tmp_path / "err.log"
    tmux.start(["sh", "-c", f"{DATALOUPE} 2>{log}"], cwd=tmp_path)
    tmux.wait_for("quit")  # the footer: the screen is drawn on the terminal
    tmux.keys("q")
    assert tmux.exit_code() == 0
    assert "\x1b" not in log.read_text()  # only messages go to the file, and there were none
