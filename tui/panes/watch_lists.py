"""The watch pane's lists and filter field: runs (each with its marker and colour, pinned ones first),
tags, and the one-line field that ``/`` and ``f`` open.

The lists show what the :class:`~dataloupe.tui.panes.watch_view.WatchView` keeps: a filter hides
names, and space switches one off. A name switched off reads "(off)" as well as losing its tick,
so that it differs by more than colour (``NO_COLOR``, a monochrome terminal).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, SelectionList
from textual.widgets.selection_list import Selection

from dataloupe.tui.panes.watch_view import WatchView

OFF = " (off)"
"""What a name switched off reads, besides its empty box."""
LIST_LIMIT = 300
"""Runs listed at most (pinned ones first): a list of 2,000 takes a second to build and nobody scrolls
it; the run filter (``f``) finds the others."""


class ToggleList(SelectionList[str]):
    """Names that space switches on and off, as the view says; rebuilt when a filter or a pin changes."""

    def __init__(self, view: WatchView, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.view = view
        """The pane's view: filters, pins, what is off."""
        self.names: list[str] = []
        """Every name known, filtered or not."""

    def _message_changed(self) -> None:
        """Post no ``SelectedChanged``: SelectionList posts one per option added, two thousand when a
        folder of runs is listed, each dispatched up the DOM while keys wait. The lists act on
        ``SelectionToggled`` (space) alone. Overrides a private method: tests/test_watch_pane.py fails
        if Textual renames it."""

    # what subclasses say
    def listed(self) -> list[str]:
        """The names shown, in order."""
        raise NotImplementedError

    def off(self) -> set[str]:
        """The set of names switched off (the view's own, changed in place)."""
        raise NotImplementedError

    def prompt(self, name: str) -> Text:
        """How a name reads in the list."""
        return Text(name + (OFF if name in self.off() else ""))

    # the list itself
    def rebuild(self) -> None:
        """Show :meth:`listed` again, keeping the highlighted name."""
        was = self.highlighted_run()
        listed = self.listed()
        off = self.off()
        self.clear_options()
        self.add_options([Selection(self.prompt(n), n, n not in off) for n in listed])
        if listed:
            self.highlighted = listed.index(was) if was in listed else 0

    def highlighted_run(self) -> str | None:
        """The name under the cursor."""
        if self.highlighted is None or self.highlighted >= self.option_count:
            return None
        return self.get_option_at_index(self.highlighted).value

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled) -> None:
        # SelectionToggled comes from space alone; SelectedChanged also comes once per option added,
        # two thousand times when a folder of runs is listed.
        if event.selection_list is not self:
            return
        name = event.selection.value
        off = self.off()
        if name in self.selected:
            off.discard(name)
        else:
            off.add(name)
        self.replace_option_prompt_at_index(event.selection_index, self.prompt(name))
        self.view.changed()


class RunList(ToggleList):
    """The runs, each led by its marker in its colour: the charts' legend, outside the plots; each
    followed by the process that writes it, once the system strip has found it."""

    writers: dict[str, str] = {}
    """Run name → what follows it ("pid 4242", "writer exited")."""

    def show_writers(self, writers) -> None:
        """Each run's writer process (a ``WriterProcess`` or None, by run name); only changed lines are redrawn."""
        from dataloupe.tui.widgets.system_strip import writer_label

        labels = {name: writer_label(w) for name, w in writers.items() if w is not None}
        if labels == self.writers:
            return
        self.writers = labels
        for i in range(self.option_count):
            name = self.get_option_at_index(i).value
            self.replace_option_prompt_at_index(i, self.prompt(name))

    def show_runs(self, names: list[str]) -> None:
        """The runs of the latest snapshot; the list is rebuilt only when they changed."""
        if names != self.names:
            self.names = list(names)
            self.rebuild()

    def listed(self) -> list[str]:
        listed = self.view.listed_runs(self.names)
        self.border_title = (
            f"runs: {LIST_LIMIT} of {len(listed):,} (f filters)"
            if len(listed) > LIST_LIMIT
            else "runs (space on/off, p pin)"
        )
        return listed[:LIST_LIMIT]

    def off(self) -> set[str]:
        return self.view.runs_off

    def prompt(self, name: str) -> Text:
        ascii_only = bool(getattr(self.app, "ascii_screen", False))
        text = Text(self.view.marker(name, ascii_only), style=self.view.rich_colour(name))
        text.append(" " + name)
        if name in self.writers:
            text.append(f" · {self.writers[name]}", style="dim")
        if name in self.view.pinned:
            text.append(" (pinned)", style="bold")
        if name in self.view.runs_off:
            text.append(OFF)
        return text


class TagList(ToggleList):
    """Every tag of every run, in the order first seen."""

    def show_tags(self, tags: list[str]) -> None:
        """The tags of the latest snapshot (duplicates across runs are one)."""
        names = list(dict.fromkeys(tags))
        if names != self.names:
            self.names = names
            self.rebuild()

    def listed(self) -> list[str]:
        return [t for t in self.names if self.view.tag_filter.matches(t)]

    def off(self) -> set[str]:
        return self.view.tags_off


class FilterInput(Input):
    """The filter being typed: every keystroke applies it; Enter keeps it, Esc clears it."""

    BINDINGS = [Binding("escape", "clear", "clear filter")]

    @dataclass
    class Typed(Message):
        """The filter's text changed."""

        what: str
        """ "tags" or "runs"."""
        text: str
        """The filter now."""

    @dataclass
    class Left(Message):
        """The field was left (Enter or Esc)."""

        what: str
        """ "tags" or "runs"."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.what = "tags"
        """Which filter is typed."""
        self.display = False

    def open(self, what: str, text: str) -> None:
        """Show the field for the tag or run filter, holding its current text."""
        self.what = what
        self.placeholder = (
            "tags: a substring or a regular expression (Enter keeps it, Esc clears it)"
            if what == "tags"
            else "runs: a substring or a regular expression of their names (Enter keeps it, Esc clears it)"
        )
        self.border_title = "filter tags" if what == "tags" else "filter runs"
        self.value = text
        self.display = True
        self.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.display:
            self.post_message(self.Typed(self.what, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()

    def action_clear(self) -> None:
        """Clear the filter and leave the field."""
        self.value = ""
        self.post_message(self.Typed(self.what, ""))
        self.close()

    def close(self) -> None:
        """Hide the field and give the keys back to the list."""
        self.display = False
        self.post_message(self.Left(self.what))
