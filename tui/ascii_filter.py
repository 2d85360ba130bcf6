"""What ``--ascii`` adds to Textual: a line filter for every rendered line, and progress bars in ``#`` and ``-``.

The filter alone would draw a progress bar's done and remaining parts with the same ``-``,
told apart by colour only; :class:`AsciiBar` gives them glyphs of their own.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter
from textual.renderables.bar import Bar as BarRenderable

from dataloupe.tui.terminal import to_ascii


class AsciiFilter(LineFilter):
    """Leaves only 7-bit ASCII on screen, keeping every cell in place (see :func:`dataloupe.tui.terminal.to_ascii`)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        """Each segment's text through :func:`to_ascii`; styles and controls unchanged."""
        return [Segment(to_ascii(text), style, control) for text, style, control in segments]


class AsciiBar(BarRenderable):
    """A progress bar whose done part is ``#`` and whose remaining part is ``-``, with or without colour."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        background = console.get_style(self.background_style)
        for text in super().__rich_console__(console, options):
            if not isinstance(text, Text):
                yield text
                continue
            chars = list(text.plain)
            for span in text.spans:
                style = console.get_style(span.style)
                fill = "-" if style == background else "#"
                for i in range(span.start, min(span.end, len(chars))):
                    if chars[i] != " ":
                        chars[i] = fill
            yield Text("".join(chars), spans=text.spans, end="")


def use_ascii_bars(root) -> None:
    """Draw every progress bar under ``root`` (a Textual app or widget) with :class:`AsciiBar`."""
    from textual.widgets import ProgressBar

    for progress in root.query(ProgressBar):
        for bar in progress.query("#bar"):
            bar.bar_renderable = AsciiBar  # type: ignore[attr-defined]
            bar.refresh()
