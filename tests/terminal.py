"""A real terminal for end-to-end tests and benchmarks: run a command in tmux, send keys, read the screen.

Each ``Terminal`` talks to its own tmux server (``tmux -L <unique socket>``), so parallel test
workers and other tmux users never see each other's sessions, and ``close()`` ends everything it
started. Nothing here sleeps for a fixed time to let the program catch up: every wait polls the
screen (or the cursor) until what is expected is there, and fails with the screen after a deadline.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

EXIT_MARK = "EXITED:"
"""Printed by the shell after the command ends, followed by its exit code."""


_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _cells(line: str) -> list[tuple[str, str]]:
    """One line of ``capture-pane -e`` output as ``(character, background)`` pairs."""
    cells: list[tuple[str, str]] = []
    background = ""
    position = 0
    for match in _SGR.finditer(line + "\x1b[m"):
        cells.extend((c, background) for c in line[position : match.start()])
        position = match.end()
        codes = match.group(1).split(";") if match.group(1) else ["0"]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in ("0", "49"):
                background = ""
            elif code == "48" and i + 1 < len(codes):
                width = 3 if codes[i + 1] == "5" else 5  # 48;5;N or 48;2;R;G;B
                background = ";".join(codes[i : i + width])
                i += width - 1
            elif code in ("38",) and i + 1 < len(codes):
                i += 2 if codes[i + 1] == "5" else 4  # skip the foreground's arguments
            elif len(code) == 2 and code[0] == "4" and code[1] in "01234567":
                background = code
            i += 1
    return cells


class Terminal:
    """One program in one tmux window of ``width`` × ``height``, with ``DATALOUPE_ROOT`` under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = f"dl-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.name = "main"
        self.started = False

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check)

    def start(self, command: list[str], width: int = 80, height: int = 24, env: dict[str, str] | None = None):
        """Start ``command`` in a fresh window; the shell prints ``EXITED:<code>`` when it ends."""
        variables = {"DATALOUPE_ROOT": str(self.root), "TERM": "xterm-256color", **(env or {})}
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in variables.items())
        line = " ".join(shlex.quote(c) for c in command)
        shell = f"env {assignments} {line}; echo {EXIT_MARK}$?; sleep 600"
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(width),
            "-y",
            str(height),
            shell,
        )
        self.started = True
        return self

    def screen(self) -> str:
        """The visible screen as plain text, one line per row."""
        return self._tmux("capture-pane", "-p", "-t", self.name, check=False).stdout

    def styled_screen(self) -> str:
        """The visible screen with its colours and attributes as escape codes (focus shows only in these)."""
        return self._tmux("capture-pane", "-p", "-e", "-t", self.name, check=False).stdout

    def backgrounds(self) -> list[list[tuple[str, str]]]:
        """The screen as rows of ``(character, background)``; the background as its SGR code ("" for default)."""
        return [_cells(line) for line in self.styled_screen().splitlines()]

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's cursor is (column, row), counted from 0; Textual puts it in the focused input."""
        out = self._tmux(
            "display-message", "-p", "-t", self.name, "#{cursor_x} #{cursor_y}", check=False
        ).stdout
        x, y = out.split()
        return int(x), int(y)

    def keys(self, *keys: str) -> None:
        """Send keys by tmux name (``Tab``, ``C-u``, ``Enter``) or as literal characters."""
        self._tmux("send-keys", "-t", self.name, *keys)

    def wait_until(self, predicate: Callable[[str], bool], timeout: float = 60.0, what: str = "") -> str:
        """Poll the screen until ``predicate(screen)`` holds; return that screen, or fail showing the last one."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what or predicate} not seen within {timeout} s; the screen shows:\n{screen}"
                )
            time.sleep(0.05)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """Poll until ``text`` is on screen; return the screen."""
        return self.wait_until(lambda screen: text in screen, timeout, what=repr(text))

    def exit_code(self, timeout: float = 30.0) -> int:
        """Wait for the program to end and return its exit code."""
        screen = self.wait_until(lambda s: EXIT_MARK in s, timeout, what="the program's exit")
        return int(screen.split(EXIT_MARK, 1)[1].split()[0])

    def close(self) -> None:
        """End the tmux server this terminal started, and everything in it."""
        if self.started:
            self._tmux("kill-server", check=False)
            self.started = False
