"""A small modal that asks for a number (go to sample N, batch N)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dataloupe.tui.widgets.key_bar import KeyBar


class JumpScreen(ModalScreen[int | None]):
    """Asks for an index in 0..limit-1; dismisses with it, or with None on escape."""

    BINDINGS = [Binding("enter", "go", "Go", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, limit: int) -> None:
        super().__init__()
        self.prompt = prompt
        """The question shown."""
        self.limit = limit
        """One more than the largest accepted number."""

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-box"):
            yield Label(self.prompt)
            yield Input(placeholder="a number, then enter", id="jump-input", type="integer", compact=True)
            yield Label("", id="jump-error")
        # its own footer: the keys are the dialog's now, not the pane's (1-6 are digits here)
        yield KeyBar()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip().replace(",", "").replace("_", "")
        try:
            value = int(text)
        except ValueError:
            self.query_one("#jump-error", Label).update(f"{text!r} is not a whole number.")
            return
        if not -self.limit <= value < self.limit:
            self.query_one("#jump-error", Label).update(f"{value:,} is out of range: 0..{self.limit - 1:,}.")
            return
        self.dismiss(value % self.limit)

    async def action_go(self) -> None:
        """Enter (the field handles it first; this is for the footer and a field that lost focus)."""
        await self.query_one("#jump-input", Input).action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
