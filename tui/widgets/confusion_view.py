"""The confusion matrix as a text table: rows are the true class, columns the predicted one."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

MAX_MATRIX_CLASSES = 12
"""More classes than this do not fit 80 columns: the most frequent confusions are listed instead."""
TOP_CONFUSIONS = 8
"""Confusions listed when the matrix is too big to draw."""


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


class ConfusionView(Static):
    """Shows the confusion matrix of the latest evaluation."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(Text("No evaluation yet.", style="dim"), id=id)
        self.matrix: tuple[tuple[int, ...], ...] = ()
        """The matrix last shown."""

    def show(self, names: Sequence[str], matrix: Sequence[Sequence[int]]) -> None:
        """Draw ``matrix`` (``matrix[true][predicted]``)."""
        self.matrix = tuple(tuple(r) for r in matrix)
        self.update(confusion_text(names, matrix))
