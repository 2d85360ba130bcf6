"""The base of every pane: how the app tells a pane which dataset and split to show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Vertical

if TYPE_CHECKING:
    from textual.widgets import ProgressBar

    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.tui.messages import DatasetFacts


def show_fraction(
    bar: ProgressBar, done: float | None, total: float | None = 1.0, finished: bool = False
) -> None:
    """Show ``done`` of ``total`` units of work on ``bar`` (a fraction by default), never a full bar
    while work goes on.

    A report that a stage is complete (the files are read; the samples are still measured) and an
    unknown amount both make the bar indeterminate, until the whole work is ``finished``.
    """
    if finished:
        bar.update(total=total or 1.0, progress=total or 1.0)
    elif done is None or not total or done >= total:
        bar.update(total=None)
    else:
        bar.update(total=total, progress=max(0.0, done))


class Pane(Vertical):
    """A tab's content. The app calls :meth:`show_dataset` and :meth:`show_split`; a pane never
    opens datasets itself."""

    handle: DatasetHandle | None = None
    """The dataset shown, or None before one is open."""
    facts: DatasetFacts | None = None
    """Its description and sample shape, read by the worker that opened it."""
    split_name: str = "train"
    """The split shown."""

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyle the pane alone when it gains or loses focus. Textual restyles the pane and all its
        descendants, and no rule styles a pane's children by the pane's focus (a test compares the
        two): on the training pane, whose 70 widgets each focus change restyled, that was 20-30 ms of
        the UI thread per ``v`` into or out of the mistakes view, and per Tab into the settings."""
        self.app.stylesheet.update_nodes([self], animate=True)

    def show_dataset(self, handle: DatasetHandle, split: str, facts: DatasetFacts | None = None) -> None:
        """A dataset was opened; show ``split`` of it."""
        self.handle = handle
        self.facts = facts
        self.split_name = split
        self.dataset_changed()

    def show_split(self, split: str) -> None:
        """The user chose another split."""
        if split != self.split_name:
            self.split_name = split
            self.dataset_changed()

    def dataset_changed(self) -> None:
        """Redraw for the current ``handle`` and ``split_name``; override in each pane."""

    @property
    def is_shown(self) -> bool:
        """True when this pane's tab is the one on screen (a hidden pane defers its work until shown)."""
        return self.is_mounted and all(node.display for node in self.ancestors_with_self)

    def pane_activated(self) -> None:
        """The pane's tab was opened; by default focus its first focusable widget."""
        focusable = [w for w in self.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()
        else:
            self.focus()
