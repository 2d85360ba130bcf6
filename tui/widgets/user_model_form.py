"""Two fields of the training pane: the user's own model (``file.py:NAME``) and its weights file.

``u`` in the pane (named in the field's placeholder: the footer has no room left at 80 columns) loads what they name and evaluates it on the open dataset; ``dataloupe DATA --model
file.py:NAME --weights W`` fills them on start.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

from dataloupe.core.errors import SettingsError


class UserModelForm(Horizontal):
    """Your model: MODEL and weights, typed or given on the command line."""

    DEFAULT_CSS = """
    UserModelForm { height: 1; padding: 0 1; }
    UserModelForm Label { width: 11; }
    UserModelForm #user-model-label-weights { width: 9; padding: 0 1; }
    UserModelForm Input { width: 1fr; }
    """

    def __init__(self, model: str = "", weights: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._model = model
        self._weights = weights

    def compose(self) -> ComposeResult:
        yield Label("your model", classes="setting-label")
        yield Input(self._model, placeholder="net.py:Net, then u scores it", id="user-model", compact=True)
        yield Label("weights", classes="setting-label", id="user-model-label-weights")
        yield Input(self._weights, placeholder="weights.pt (optional)", id="user-weights", compact=True)

    def fill(self, model: str, weights: str | None) -> None:
        """Put ``model`` and ``weights`` in the fields."""
        self.query_one("#user-model", Input).value = model
        self.query_one("#user-weights", Input).value = weights or ""

    def read(self) -> tuple[str, str | None]:
        """(MODEL, weights or None); raises :class:`SettingsError` when no model is named."""
        model = self.query_one("#user-model", Input).value.strip()
        weights = self.query_one("#user-weights", Input).value.strip() or None
        if not model:
            raise SettingsError(
                "Name your model in the 'your model' field (path/to/file.py:NAME), with its weights file "
                "beside it, then press u."
            )
        return model, weights
