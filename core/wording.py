"""Small helpers for text shown to people: counts with their nouns, sizes, durations, shapes."""

from __future__ import annotations

import os
from collections.abc import Iterable


def format_shape(shape: Iterable[int]) -> str:
    """A shape written 1×28×28 (a tuple or a ``torch.Size``); "scalar" for ``()``."""
    return "×".join(str(int(s)) for s in shape) or "scalar"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 file", "3 files", "1,200 images"."""
    word = singular if n == 1 else (plural_form or singular + "s")
    return f"{n:,} {word}"


def size(nbytes: float) -> str:
    """Bytes as "11.1 MB"."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(nbytes) < 1000 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    return f"{nbytes:.1f} GB"


def duration(seconds: float) -> str:
    """Seconds as "0.4 s", "1 min 05 s", "2 h 03 min"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def pack_line(parts: list[str], width: int, sep: str = " · ") -> str:
    """``parts`` joined by ``sep``, breaking lines only between parts (never inside "20.2 s")."""
    lines: list[str] = []
    line = ""
    for part in parts:
        candidate = f"{line}{sep}{part}" if line else part
        if line and len(candidate) > width:
            lines.append(line)
            line = part
        else:
            line = candidate
    return "\n".join([*lines, line])


def short_path(location: str) -> str:
    """A path as a person would type it here: relative to the current folder when inside it, ``~/…`` under
    the home folder, else as given. Anything that is not a local path (a note, a URL) is returned as is."""
    if not location.startswith(os.sep):
        return location
    cwd = os.getcwd()
    if location == cwd:
        return "."
    if location.startswith(cwd + os.sep):
        return location[len(cwd) + 1 :]
    home = os.path.expanduser("~")
    if home not in ("", os.sep) and location.startswith(home + os.sep):
        return "~" + location[len(home) :]
    return location


def first_line(error: BaseException, most: int = 160) -> str:
    """The first line of an error's message, at most ``most`` characters ("no detail" when it has none)."""
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else "no detail")[:most]
