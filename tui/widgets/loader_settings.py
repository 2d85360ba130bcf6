"""The loader settings form of the batches pane: batch size, seed, sampler, shuffle, drop_last.

It checks what is typed with :class:`dataloupe.core.batching.LoaderSettings` (the same checks and
messages as ``dataloupe batches``) and reports only settings that changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select

from dataloupe.core.batching import SAMPLER_NAMES, LoaderSettings
from dataloupe.core.errors import SettingsError
from dataloupe.tui.widgets.choice import Choice
from dataloupe.tui.widgets.toggles import Checkbox


class LoaderSettingsForm(Horizontal):
    """One row of loader settings; numbers apply on enter or when the field is left, switches at once."""

    # Shown: while a number field has the keys, letters and digits are typed, and the footer would be blank.
    BINDINGS = [
        Binding("escape", "leave", "back to keys"),
        Binding("tab", "app.focus_next", "next field"),
    ]

    @dataclass
    class Changed(Message):
        """The user changed a setting, and the new settings are valid."""

        settings: LoaderSettings
        """The settings the form now shows."""
        submitted: bool
        """Enter was pressed in a number field: the user is done editing."""

    @dataclass
    class Invalid(Message):
        """What was typed is not a valid setting; ``text`` says why."""

        text: str
        """The message for the user."""

    class Left(Message):
        """The user left the form (escape): keys go back to the pane."""

    def __init__(self, settings: LoaderSettings | None = None, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.applied = settings or LoaderSettings()
        """The settings last reported (or the starting ones)."""

    def compose(self) -> ComposeResult:
        s = self.applied
        yield Label("batch", classes="setting-label")
        yield Input(str(s.batch_size), id="batch-size", type="integer", compact=True, select_on_focus=True)
        yield Label("seed", classes="setting-label")
        yield Input(str(s.seed), id="seed", type="integer", compact=True, select_on_focus=True)
        yield Choice(
            [(name, name) for name in SAMPLER_NAMES],
            value=s.sampler,
            allow_blank=False,
            compact=True,
            id="sampler",
        )
        yield Checkbox("shuffle", s.shuffle, id="shuffle", compact=True)
        yield Checkbox("drop_last", s.drop_last, id="drop-last", compact=True)

    def read(self) -> LoaderSettings:
        """The settings the form shows; raises :class:`SettingsError` with a message for a bad number."""
        return LoaderSettings.parse(
            self.query_one("#batch-size", Input).value,
            self.query_one("#seed", Input).value,
            shuffle=self.query_one("#shuffle", Checkbox).value,
            drop_last=self.query_one("#drop-last", Checkbox).value,
            sampler=str(self.query_one("#sampler", Select).value),
        )

    def focus_batch_size(self) -> None:
        """Put the cursor in the batch size field."""
        self.query_one("#batch-size", Input).focus()

    def _apply(self, submitted: bool) -> None:
        try:
            settings = self.read()
        except SettingsError as e:
            self.post_message(self.Invalid(str(e)))
            return
        if settings != self.applied or submitted:
            self.applied = settings
            self.post_message(self.Changed(settings, submitted))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply(submitted=True)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        self._apply(submitted=False)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._apply(submitted=False)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._apply(submitted=False)

    def action_leave(self) -> None:
        self.post_message(self.Left())
