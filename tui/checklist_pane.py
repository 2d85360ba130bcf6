"""The checklist pane (to come): The questions every dataset must answer before training: numeric, split into train and test, shuffled, scaled, balanced; each ✓, ⚠ or ✗ with its evidence and the fix."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from tui.pane import Pane


class ChecklistPane(Pane):
    """Placeholder until this pane is built: says what it will show."""

    def compose(self) -> ComposeResult:
        yield Static(
            "Checklist, to come.\n\nThe questions every dataset must answer before training: numeric, split into train and test, shuffled, scaled, balanced; each ✓, ⚠ or ✗ with its evidence and the fix.",
            classes="pane-placeholder",
        )
