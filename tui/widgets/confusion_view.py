"""The confusion matrix as a text table: rows are the true class, columns the predicted one."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

MAX_MATRIX_CLASSES = 12
"""More classes than this do not fit 80 columns: the most frequent confusions are listed instead."""
TOP_CONFUSIONS = 8
"""Confusions listed when the matrix is too big to draw."""
SIDE_COLUMNS = 20
"""Columns left to the chart beside the matrix (the per-class bars) when deciding whether the matrix fits."""
MESSAGE_WIDTH = 28
"""Columns of the message shown instead of a matrix that does not fit."""


def confusion_text(names: Sequence[str], matrix: Sequence[Sequence[int]]) -> Text:
    """The matrix with the diagonal in green and each row's worst confusion in red, or a list for many classes."""
    text = Text()
    n = len(matrix)
    if n == 0:
        return Text("No evaluation yet.", style="dim")
    if n > MAX_MATRIX_CLASSES:
        pairs = sorted(
            ((matrix[t][p], t, p) for t in range(n) for p in range(n) if t != p and matrix[t][p]),
            reverse=True,
        )[:TOP_CONFUSIONS]
        text.append("most frequent confusions (true → predicted)\n", style="bold")
        for count, t, p in pairs:
            text.append(f"{names[t]} → {names[p]}: {count:,}\n")
        if not pairs:
            text.append("none: every test sample is right\n")
        return text
    label_width = max(3, *(len(str(name)) for name in names[:n]))
    label_width = min(label_width, 8)
    cell = max(4, len(f"{max(max(row) for row in matrix):,}") + 1)
    text.append("true ↓ / predicted →\n", style="dim")
    text.append(" " * label_width)
    for name in names[:n]:
        text.append(str(name)[: cell - 1].rjust(cell), style="bold")
    text.append("\n")
    for t in range(n):
        row = matrix[t]
        worst = max((row[p], p) for p in range(n) if p != t) if n > 1 else (0, -1)
        text.append(str(names[t])[:label_width].rjust(label_width), style="bold")
        for p in range(n):
            value = row[p]
            style = (
                "green" if p == t else ("bold red" if p == worst[1] and value else "dim" if not value else "")
            )
            text.append(f"{value:,}".rjust(cell), style=style)
        text.append("\n")
    return text


def matrix_size(names: Sequence[str], matrix: Sequence[Sequence[int]]) -> tuple[int, int]:
    """(columns, rows) that :func:`confusion_text` takes for ``matrix`` (a list of confusions: no minimum)."""
    n = len(matrix)
    if n == 0 or n > MAX_MATRIX_CLASSES:
        return 0, 0
    label_width = min(max(3, *(len(str(name)) for name in names[:n])), 8)
    cell = max(4, len(f"{max(max(row) for row in matrix):,}") + 1)
    return label_width + n * cell, n + 2


class ConfusionView(Static):
    """Shows the confusion matrix of the latest evaluation, or what size it needs when it does not fit."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(Text("No evaluation yet.", style="dim"), id=id)
        self.matrix: tuple[tuple[int, ...], ...] = ()
        """The matrix last shown."""
        self.names: tuple[str, ...] = ()
        """Class names of the matrix."""
        self.fits = True
        """Whether the whole matrix is drawn (False: a message names the size it needs)."""

    def show(self, names: Sequence[str], matrix: Sequence[Sequence[int]]) -> None:
        """Draw ``matrix`` (``matrix[true][predicted]``)."""
        self.matrix = tuple(tuple(r) for r in matrix)
        self.names = tuple(str(n) for n in names)
        self._draw()

    def too_small(self) -> str | None:
        """What is missing, naming the terminal size the matrix needs; None when it fits."""
        need_w, need_h = matrix_size(self.names, self.matrix)
        if not self.matrix or not self.size.area:
            return None
        # the width it may take, not the width it has: a message is narrower than the matrix it replaces
        gutter = self.styles.gutter.width
        room = self.parent.content_region.width if isinstance(self.parent, Widget) else self.size.width
        most = self.styles.max_width
        cap = int(most.value) if most is not None and most.is_cells else room
        width = min(room - SIDE_COLUMNS, cap) - gutter
        height = self.content_region.height
        if width >= need_w and height >= need_h:
            return None
        screen = self.app.size
        term_w = screen.width + max(0, need_w - width)
        term_h = screen.height + max(0, need_h - height)
        n = len(self.matrix)
        return (
            f"The {n}×{n} confusion matrix needs {need_w}×{need_h} characters; it has {width}×{height}. "
            f"Make the terminal at least {term_w}×{term_h} to see it."
        )

    def _draw(self) -> None:
        problem = self.too_small()
        self.fits = problem is None
        if problem is None:
            self.update(confusion_text(self.names, self.matrix))
        else:
            self.update(Text("\n".join(textwrap.wrap(problem, MESSAGE_WIDTH)), style="italic"))

    def on_resize(self) -> None:
        if self.matrix:
            self._draw()
