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


TRAINING_FORM = (
    "Model",
    "Hidden",
    "Optimizer",
    "lr",
    "Epochs",
    "batch",
    "Sampler",
    "Device",
    "seed",
    "Checkpoint",
)
"""The training pane's form: its labels, each left of its field, in reading order."""


class Terminal:
    """One program in one tmux window of ``width`` × ``height``, with ``DATALOUPE_ROOT`` under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = f"dl-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.name = "main"
        self.started = False

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check)

    def start(
        self,
        command: list[str],
        width: int = 80,
        height: int = 24,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Terminal:
        """Start ``command`` in a fresh window (in ``cwd``); the shell prints ``EXITED:<code>`` when it ends."""
        # a UTF-8 locale unless a test asks otherwise: under LANG=C the app draws in ASCII
        variables = {
            "DATALOUPE_ROOT": str(self.root),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            **(env or {}),
        }
        assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in variables.items())
        line = " ".join(shlex.quote(c) for c in command)
        shell = f"env {assignments} {line}; echo {EXIT_MARK}$?; sleep 600"
        size = ["-x", str(width), "-y", str(height)]
        where = ["-c", str(cwd)] if cwd else []
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", self.name, *size, *where, shell)
        self.started = True
        return self

    def flags(self) -> dict[str, str]:
        """tmux's view of the terminal's modes: ``alternate_on``, ``cursor_flag`` (cursor shown),
        ``mouse_any_flag``, ``keypad_flag``; a program that restored the terminal leaves them 0, 1, 0, 0."""
        names = ("alternate_on", "cursor_flag", "mouse_any_flag", "keypad_flag")
        out = self._tmux(
            "display-message", "-p", "-t", self.name, " ".join(f"#{{{n}}}" for n in names), check=False
        )
        return dict(zip(names, out.stdout.split(), strict=False))

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

    def type(self, text: str) -> None:
        """Send ``text`` as literal characters (no word in it is read as a key name)."""
        self._tmux("send-keys", "-t", self.name, "-l", text)

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

    def focused_field(self, labels: tuple[str, ...]) -> str | None:
        """The label of the form field drawn as focused, or None when no field of the form is.

        ``labels`` are the form's labels; a row belongs to the form when it starts with one. The
        unfocused fields share one background and the focused one (its text, selection or cursor)
        is drawn on another; the field belongs to the nearest label on its left.
        """
        rows = [r for r in self.backgrounds() if "".join(c for c, _ in r).lstrip().startswith(labels)]
        places: list[tuple[int, int, str]] = []  # (row, column where the field starts, label)
        label_backgrounds: set[str] = set()
        for r, row in enumerate(rows):
            text = "".join(c for c, _ in row)
            for label in labels:
                for match in re.finditer(rf"(?<![\w,.]){re.escape(label)}(?!\w)", text):
                    places.append((r, match.end(), label))
                    label_backgrounds.update(bg for _, bg in row[match.start() : match.end()])
        fields = [(r, col, bg) for r, row in enumerate(rows) for col, (_, bg) in enumerate(row)]
        fields = [cell for cell in fields if cell[2] not in label_backgrounds]
        if not fields:
            return None
        counts: dict[str, int] = {}
        for _, _, bg in fields:
            counts[bg] = counts.get(bg, 0) + 1
        unfocused = max(counts, key=counts.__getitem__)
        for r, col, bg in fields:
            if bg != unfocused:
                owners = [(start, label) for row, start, label in places if row == r and start <= col]
                return max(owners)[1] if owners else None
        return None

    def steady_focus(self, labels: tuple[str, ...]) -> str | None:
        """``focused_field``, read until two reads in a row agree (a capture can catch a frame half drawn)."""
        last = self.focused_field(labels)
        while (now := self.focused_field(labels)) != last:
            last = now
        return now

    def tab_to(self, label: str, labels: tuple[str, ...], presses: int = 30) -> None:
        """Press Tab until the field after ``label`` is drawn focused, one Tab at a time.

        After each Tab the screen is polled until the Tab is seen to land, and only then does the
        next Tab go: a second Tab sent while the first is still queued (a busy CI machine can stall
        the app for seconds) would carry the focus past the target, and every later Tab would then
        land one field late. So there is no short cut on a timer: each Tab waits up to 30 s for the
        focused field to change. In both forms a Tab from the pane itself (no field focused) lands
        on the form's first field, and a Tab from a field lands on the next one. A Tab that lands
        on a widget outside ``labels`` (a checkbox, a button) costs that wait, then the next Tab
        goes; nothing is counted, so a lap of the form is only slower, never wrong.
        """
        if label not in labels:
            raise ValueError(f"{label!r} is not one of the form's labels {labels}")
        focused = self.steady_focus(labels)
        for _ in range(presses):
            if focused == label:
                return
            before = focused
            self.keys("Tab")
            deadline = time.monotonic() + 30
            while (focused := self.steady_focus(labels)) == before and time.monotonic() < deadline:
                time.sleep(0.05)
        if focused != label:
            raise AssertionError(
                f"{presses} Tabs did not bring the focus to the {label} field; the screen shows:\n{self.screen()}"
            )

    def field_text(self, label: str, labels: tuple[str, ...]) -> str | None:
        """The text shown in the field after ``label`` (up to the next label on its row), or None."""
        for row in self.screen().splitlines():
            match = re.search(rf"(?<![\w,.]){re.escape(label)}(?!\w)", row)
            if match is None or not row.lstrip().startswith(labels):
                continue
            rest = row[match.end() :]
            ends = [m.start() for other in labels if (m := re.search(rf"\s{re.escape(other)}(?!\w)", rest))]
            return rest[: min(ends)].strip() if ends else rest.strip()
        return None

    def fill(self, label: str, text: str, labels: tuple[str, ...]) -> None:
        """Type ``text`` into the form field after ``label`` and hand the keys back to the pane with Enter.

        Each step waits for the screen: the field focused, emptied (ctrl+u on its own: sent together
        with the text, Textual can apply it after the characters and delete them), filled, and no
        field focused after Enter (a key sent before that would still be typed into the field).
        """
        self.tab_to(label, labels)
        self.keys("C-u")
        self.wait_until(lambda s: self.field_text(label, labels) == "", 10, what=f"the {label} field emptied")
        self.keys(*text)
        self.wait_until(
            lambda s: self.field_text(label, labels) == text and self.steady_focus(labels) == label,
            10,
            what=f"{text!r} typed into the {label} field",
        )
        self.keys("Enter")
        self.wait_until(lambda s: self.steady_focus(labels) is None, 10, what="the keys back with the pane")
