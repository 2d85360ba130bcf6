"""The line filter behind ``--ascii``: Textual passes every rendered line through it before drawing."""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from tui.terminal import to_ascii


class AsciiFilter(LineFilter):
    """Leaves only 7-bit ASCII on screen, keeping every cell in place (see :func:`tui.terminal.to_ascii`)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        """Each segment's text through :func:`to_ascii`; styles and controls unchanged."""
        return [Segment(to_ascii(text), style, control) for text, style, control in segments]
