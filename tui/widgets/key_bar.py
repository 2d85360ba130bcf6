"""The footer: the keys that work now, on one line, as Textual's compact ``Footer`` shows them.

Textual's ``Footer`` mounts one widget per key, and mounts them all again whenever the focus
moves, which every pane key does: measured over ten pane switches, the footer took 40% of
the UI thread's time (3.9 s against 2.4 s without it), and a pane switch waits for it. This
bar is one widget whose text is redrawn when the screen's bindings change: the same keys, in
the same order and words ("^o Open esc Cancel 1-6 pane q quit"), grouped keys shown together
("+- threshold"), keys that cannot be used now dimmed. It takes no mouse clicks: the app is
driven from the keyboard.
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

    def redraw(self) -> None:
        """Rebuild the line from the screen's active bindings."""
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        shown = {}  # action → (binding, enabled): one entry per action, as Footer does
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = (binding, enabled)
        line = Text(no_wrap=True, overflow="crop")
        for group, members in groupby(shown.values(), lambda item: item[0].group):
            items = list(members)
            grouped = group is not None and len(items) > 1
            if line:
                line.append("  " if grouped else " ")  # Footer sets a group off by one more space
            if grouped:  # "+- threshold": the keys, then the group's name
                enabled = all(on for _, on in items)
                keys = "".join(self.app.get_key_display(binding) for binding, _ in items)
                line.append(keys, key_style + (DIM if not enabled else Style()))
                line.append(" ")
                line.append(group.description, description_style)  # type: ignore[union-attr]
                continue
            for i, (binding, enabled) in enumerate(items):
                dim = DIM if not enabled else Style()
                if i:
                    line.append(" ")
                line.append(self.app.get_key_display(binding), key_style + dim)
                if binding.description:
                    line.append(" " + binding.description, description_style + dim)
        self.keys = line.plain
        self.update(line)
