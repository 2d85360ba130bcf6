"""A widget that draws text images (samples rendered by :mod:`dataloupe.core.render`) fast.

Rendering a sample and turning it into styled strips happens off the UI thread
(:func:`to_strips` is pure); the widget only stores the strips and hands them out
line by line, centred in its area.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from dataloupe.core.render import TextImage

_STYLES: dict[tuple, Style] = {}


def _style(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> Style:
    key = (fg, bg)
    style = _STYLES.get(key)
    if style is None:
        style = Style.parse(f"rgb({fg[0]},{fg[1]},{fg[2]}) on rgb({bg[0]},{bg[1]},{bg[2]})")
        if len(_STYLES) > 50_000:
            _STYLES.clear()
        _STYLES[key] = style
    return style


def to_strips(image: TextImage, caption_style: Style | None = None) -> list[Strip]:
    """Turn a :class:`TextImage` into one :class:`Strip` per row, merging runs of equal colour."""
    strips: list[Strip] = []
    plain = caption_style or Style()
    fg, bg, colored, chars = image.fg, image.bg, image.colored, image.chars
    for r in range(image.height):
        segments: list[Segment] = []
        run: list[str] = []
        run_key = None
        row_fg, row_bg, row_col, row_chars = (
            fg[r].tolist(),
            bg[r].tolist(),
            colored[r].tolist(),
            chars[r].tolist(),
        )
        for c, ch in enumerate(row_chars):
            key = (tuple(row_fg[c]), tuple(row_bg[c])) if row_col[c] else None
            if key != run_key and run:
                segments.append(Segment("".join(run), _style(*run_key) if run_key else plain))
                run = []
            run_key = key
            run.append(ch)
        if run:
            segments.append(Segment("".join(run), _style(*run_key) if run_key else plain))
        strips.append(Strip(segments, image.width))
    return strips


def text_strips(lines: list[str], style: Style | None = None) -> list[Strip]:
    """Plain lines of text as strips."""
    s = style or Style()
    return [Strip([Segment(line, s)], len(line)) for line in lines]


class SampleView(Widget):
    """Shows pre-rendered strips, centred; empty until :meth:`show` is called."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._strips: list[Strip] = []
        """Rows to draw."""
        self._width = 0
        """Width of the widest row."""
        self.text_rows: list[str] = []
        """The characters drawn, row by row (for tests and screen readers)."""

    def show(self, strips: list[Strip]) -> None:
        """Replace what is drawn."""
        self._strips = strips
        self._width = max((s.cell_length for s in strips), default=0)
        self.text_rows = ["".join(seg.text for seg in s) for s in strips]
        self.refresh()

    def clear(self) -> None:
        self.show([])

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        top = max(0, (height - len(self._strips)) // 2)
        row = y - top
        if not 0 <= row < len(self._strips):
            return Strip.blank(width, self.rich_style)
        left = max(0, (width - self._width) // 2)
        strip = self._strips[row]
        if left:
            strip = Strip([Segment(" " * left, self.rich_style), *strip], left + strip.cell_length)
        return strip.extend_cell_length(width, self.rich_style).crop(0, width)
