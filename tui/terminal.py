"""What the terminal can show: colour (``NO_COLOR``), Unicode (``--ascii``, the locale), and the glyphs that follow.

With ``--ascii``, or a locale that is not UTF-8 (``LANG=C``), every character on screen is 7-bit
ASCII: the app adds :class:`dataloupe.tui.ascii_filter.AsciiFilter` to Textual's line filters, which passes
each rendered line (frames, tab bar, footer, progress bars, ✓⚠✗, ·, …) through :func:`to_ascii`,
cell for cell. This module imports no Textual, so the headless commands can use it. Charts do not leave
their lines to the filter: they draw with ASCII markers of their own (:func:`glyphs`).
Under ``NO_COLOR`` the two series of a chart differ by marker, not only by colour.

    LANG=C dataloupe digits          # the whole screen in ASCII
    NO_COLOR=1 dataloupe check digits  # no escape codes
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len

ASCII_FOR: dict[str, str] = {
    "·": ".",
    "•": "*",
    "…": ".",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "×": "x",
    "÷": "/",
    "≤": "<",
    "≥": ">",
    "≈": "~",
    "≠": "#",
    "±": "+",
    "∞": "~",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "↔": "-",
    "▲": "^",
    "▼": "v",
    "▶": ">",
    "▸": ">",
    "◀": "<",
    "▾": "v",
    "●": "o",
    "○": "o",
    "■": "#",
    "□": "#",
    "✓": "+",
    "✔": "+",
    "⚠": "!",
    "✗": "X",
    "✘": "X",
    "°": "o",
    "²": "2",
    "⁰": "0",
    "¹": "1",
    "³": "3",
    "⁴": "4",
    "⁵": "5",
    "⁶": "6",
    "⁷": "7",
    "⁸": "8",
    "⁹": "9",
    "⁻": "-",
    "Σ": "S",
    "█": "#",
    "▉": "#",
    "▊": "#",
    "▋": "#",
    "▇": "#",
    "▆": "#",
    "▅": "#",
    "▄": "=",
    "▃": "_",
    "▂": "_",
    "▁": "_",
    "▀": '"',
    "▔": "-",
    "▌": "|",
    "▍": "|",
    "▎": "|",
    "▏": "|",
    "▐": "|",
    "▕": "|",
    "░": ".",
    "▒": ":",
    "▓": "%",
    "\u00a0": " ",
}
"""Single characters and their one-cell ASCII stand-ins (box drawing and braille are worked out by name)."""


def _box_char(name: str) -> str:
    """The ASCII stand-in of a box-drawing character, from its Unicode name."""
    if "DIAGONAL" in name:
        return "\\" if "UPPER LEFT TO LOWER RIGHT" in name else "/"
    words = set(name.split())
    horizontal = bool(words & {"HORIZONTAL", "LEFT", "RIGHT"})
    vertical = bool(words & {"VERTICAL", "UP", "DOWN"})
    if horizontal and not vertical:
        return "-"
    if vertical and not horizontal:
        return "|"
    return "+"


@lru_cache(maxsize=4096)
def ascii_char(ch: str) -> str:
    """``ch`` as ASCII of the same width in cells (``?`` when nothing fits)."""
    if ch < "\x80":
        return ch
    if ch in ASCII_FOR:
        return ASCII_FOR[ch]
    code = ord(ch)
    if 0x2800 <= code <= 0x28FF:  # braille: a dot pattern
        return " " if code == 0x2800 else "."
    name = unicodedata.name(ch, "")
    if name.startswith("BOX DRAWINGS"):
        return _box_char(name)
    if name.startswith("QUADRANT") or (
        name.startswith(("UPPER", "LOWER", "LEFT", "RIGHT")) and "BLOCK" in name
    ):
        return "#"
    width = cell_len(ch)
    if width == 0:
        return ""
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    if len(plain) == width:  # é → e, ﬁ stays "?" (two letters in one cell)
        return plain
    return "?" * width


@lru_cache(maxsize=8192)
def to_ascii(text: str) -> str:
    """``text`` with every character above 127 replaced by a stand-in of the same width."""
    if text.isascii():
        return text
    return "".join(ascii_char(ch) for ch in text)


FRAME_RATE = 120
"""Frames a second the app draws at most (``TEXTUAL_FPS``; Textual's default is 60). A change is drawn
at the next frame, so a key pressed just after a frame (a status line that ticks ten times a second
while a model trains) waited up to 16.7 ms for the next at 60; at 120, 8.3 ms. The app draws only
when something changed, so more frames cost nothing while the screen is still."""
FRAME_RATE_VARIABLE = "TEXTUAL_FPS"
"""The variable Textual reads, once, when it is imported."""


def set_frame_rate(environ: dict[str, str] | None = None) -> str:
    """Before Textual is imported: :data:`FRAME_RATE` unless the user set ``TEXTUAL_FPS``; the rate used."""
    environ = os.environ if environ is None else environ
    return environ.setdefault(FRAME_RATE_VARIABLE, str(FRAME_RATE))


def locale_is_utf8(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the locale (``LC_ALL``, ``LC_CTYPE``, ``LANG``, first one set) says UTF-8.

    Python itself turns a C locale into ``LC_CTYPE=C.UTF-8`` at start (PEP 538), so a
    ``C.UTF-8`` ``LC_CTYPE`` beside a ``LANG`` that is C, POSIX or unset counts as the C
    locale the terminal was started with.
    """
    env = os.environ if environ is None else environ
    lc_all, lc_ctype, lang = env.get("LC_ALL", ""), env.get("LC_CTYPE", ""), env.get("LANG", "")
    if lc_ctype == "C.UTF-8" and not lc_all and lang in ("", "C", "POSIX"):
        lc_ctype = ""  # coerced by Python, not chosen by the user
    value = lc_all or lc_ctype or lang
    return "utf-8" in value.lower() or "utf8" in value.lower()


def no_color(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``NO_COLOR`` asks for output without colour (set and not empty, https://no-color.org)."""
    env = os.environ if environ is None else environ
    return bool(env.get("NO_COLOR", "")) or env.get("TERM", "") == "dumb"


@dataclass(frozen=True)
class Glyphs:
    """How a chart draws its series and bars on one kind of terminal."""

    lines: tuple[str, str]
    """plotext markers of the first and second line series (train, test): they differ, so a title can
    name them and the series stay apart without colour."""
    line_keys: tuple[str, str]
    """How each line series looks, for the key in a chart's title."""
    bars: tuple[str, str]
    """Characters that fill the first and second bar series."""
    eighths: str
    """Bar tops from one eighth to a full cell; ASCII has only the full cell."""
    ascii: bool
    """Only 7-bit characters."""


UNICODE_GLYPHS = Glyphs(
    lines=("braille", "•"), line_keys=("──", "••"), bars=("█", "█"), eighths="▁▂▃▄▅▆▇█", ascii=False
)
"""Colour and Unicode: bars differ by colour, lines by colour and marker."""
MONO_GLYPHS = Glyphs(
    lines=("braille", "•"), line_keys=("──", "••"), bars=("█", "▒"), eighths="▁▂▃▄▅▆▇█", ascii=False
)
"""No colour, Unicode: the second bar series has its own fill."""
ASCII_GLYPHS = Glyphs(lines=("*", "o"), line_keys=("**", "oo"), bars=("#", "="), eighths="#", ascii=True)
"""ASCII: markers and fills that differ with or without colour."""


def glyphs(*, ascii: bool, color: bool) -> Glyphs:  # noqa: A002 - the app's own name for the option
    """The glyphs for a terminal that shows only ASCII or not, and colour or not."""
    if ascii:
        return ASCII_GLYPHS
    return UNICODE_GLYPHS if color else MONO_GLYPHS


def app_glyphs(app: object) -> Glyphs:
    """The glyphs for a running Textual app (its ``ascii_screen`` and Textual's ``no_color``)."""
    return glyphs(ascii=bool(getattr(app, "ascii_screen", False)), color=not getattr(app, "no_color", False))
