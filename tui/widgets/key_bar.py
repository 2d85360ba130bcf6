"""The footer: the keys that work now, on one line, as Textual's compact ``Footer`` shows them.

Textual's ``Footer`` mounts one widget per key, and mounts them all again whenever the focus
moves, which every pane key does: measured over ten pane switches, the footer took 40% of
the UI thread's time (3.9 s against 2.4 s without it), and a pane switch waits for it. This
bar is one widget whose text is redrawn when the screen's bindings change: the same keys, in
the same order and words ("^o Open esc Cancel 1-6 pane q quit"), grouped keys shown together
("+- threshold"), keys that cannot be used now dimmed. On a narrow terminal the pane's last keys
give way to "…" so that the app's own (``1-6 pane``, ``q quit``) are always on screen. It takes no
mouse clicks: the app is driven from the keyboard.
"""

from __future__ import annotations

from itertools import groupby

from rich.style import Style
from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

DIM = Style(dim=True)


class KeyBar(Static):
    """One line at the bottom of a screen listing its active, shown key bindings."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.keys = ""
        """The text shown (tests and benchmarks read it)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.redraw)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Rebuild the line from the screen's active bindings.

        When the line is wider than the bar, the pane's last keys give way (an ellipsis says some
        are hidden): the app's own keys (1-6 pane, q quit) stay at every size.
        """
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        shown = {}  # action → (binding, enabled, the app's own): one entry per action, as Footer does
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = (binding, enabled, node is self.app)
        entries: list[tuple[Text, bool, bool]] = []  # (text, a group, the app's own)
        for group, members in groupby(shown.values(), lambda item: item[0].group):
            items = list(members)
            if group is not None and len(items) > 1:  # "+- threshold": the keys, then the group's name
                enabled = all(on for _, on, _ in items)
                entry = Text()
                keys = "".join(self.app.get_key_display(binding) for binding, _, _ in items)
                entry.append(keys, key_style + (DIM if not enabled else Style()))
                entry.append(" ")
                entry.append(group.description, description_style)  # type: ignore[union-attr]
                entries.append((entry, True, all(own for _, _, own in items)))
                continue
            for binding, enabled, own in items:
                dim = DIM if not enabled else Style()
                entry = Text()
                entry.append(self.app.get_key_display(binding), key_style + dim)
                if binding.description:
                    entry.append(" " + binding.description, description_style + dim)
                entries.append((entry, False, own))
        width = self.content_region.width or self.app.size.width
        kept = _fit(entries, width)
        line = Text(no_wrap=True, overflow="crop")
        for entry, grouped, _ in kept:
            if line:
                line.append("  " if grouped else " ")  # Footer sets a group off by one more space
            line.append_text(entry)
        self.keys = line.plain
        self.update(line, layout=False)  # one row, the screen's width: a layout pass would reflow the screen


ELLIPSIS = "…"
"""Shown where pane keys gave way to the app's own keys on a narrow terminal."""


def _fit(entries: list[tuple[Text, bool, bool]], width: int) -> list[tuple[Text, bool, bool]]:
    """``entries`` that fit ``width`` columns: the app's own all kept, the pane's from the first on."""

    def length(items: list[tuple[Text, bool, bool]]) -> int:
        return sum(len(t) for t, _, _ in items) + sum(2 if g else 1 for _, g, _ in items[1:])

    if length(entries) <= width:
        return entries
    own = [e for e in entries if e[2]]
    pane = [e for e in entries if not e[2]]
    more = (Text(ELLIPSIS), False, False)
    while pane and length([*pane, more, *own]) > width:
        pane.pop()
    return [*pane, more, *own]
