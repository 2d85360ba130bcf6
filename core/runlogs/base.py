"""What every log reader returns: new points, the run's total steps when it says, and problems.

A reader is polled again and again; each :meth:`LogReader.read` returns only what was
written since the last call. A problem (garbage, a missing column) is kept in
``reader.problem`` as a message that names the file and says what was expected; the
reader goes on with whatever else it can read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataloupe.core.runlogs.tail import TailReader

Point = tuple[str, int, float, float | None]
"""(tag, step, value, wall-clock time or None when the format has no time)."""


@dataclass
class Batch:
    """What one read found."""

    points: list[Point] = field(default_factory=list)
    """New points, in file order."""
    total_steps: int | None = None
    """The run's planned number of steps, when the log says (the Trainer's ``max_steps``)."""
    more: bool = False
    """The reader stopped early (a large backlog): call again soon."""
    restarted: bool = False
    """The file was replaced, truncated or rewritten and is read again from its start: the run
    starts over, and ``points`` are its points from the top."""


class LogReader:
    """Base of the readers: one log source (a file, or a folder of event files) of one run."""

    format = "?"
    """Short name of the format: "tensorboard", "csv", "jsonl", "trainer_state"."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        """The file (or event folder) read."""
        self.problem: str | None = None
        """What is wrong with the source now, for the user; None when it reads fine."""

    def read(self) -> Batch:
        """New points since the last call; never raises for bad content (see ``problem``)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release open files."""

    def lines_from(self, tail: TailReader) -> tuple[list[str | None], bool] | None:
        """``tail``'s new lines (None for a line too long to read) and whether the file started over;
        None (with ``problem`` set) when the file cannot be read."""
        try:
            return tail.read_lines()
        except OSError as e:
            self.problem = f"{self.path}: cannot be read ({e.strerror or e})."
            return None


def as_number(value: object) -> float | None:
    """A JSON/CSV value as a float, or None when it is not a number (bools are not numbers here).

    "nan", "inf" and "-inf" count as numbers: a run that diverged must show it."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None


def as_step(value: object) -> int | None:
    """A step number, or None when ``value`` is not a whole, finite number."""
    number = as_number(value)
    if number is None or not math.isfinite(number):
        return None
    return int(number)


def shown(path: Path) -> str:
    """A path as messages show it."""
    return str(path)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters: ESC starts the codes that clear a screen or set a window's title, and a
newline or tab in a name would break the lines and columns it is shown in."""


def printable(text: str) -> str:
    """``text`` without control characters: a tag, a column or a file name read from disk is shown to a
    terminal, and must not drive it."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text
