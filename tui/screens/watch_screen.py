"""The screen ``dataloupe watch PATH`` opens: the watch pane over the whole terminal.

Escape (or a pane key 1-6) leaves it for the dataset panes and pauses polling; ``w`` there comes back
to it as it was left (the app installs this screen, so leaving it does not end it); q quits.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from dataloupe.tui.panes.watch_pane import WatchPane
from dataloupe.tui.widgets.key_bar import KeyBar


class WatchScreen(Screen):
    """Training runs read from their logs, live."""

    BINDINGS = [
        Binding("escape", "leave", "datasets"),
        Binding("q", "app.quit", "quit"),
        # The app's pane keys leave this screen for that pane.
        *[Binding(str(k), f"leave({k})", show=False) for k in range(1, 7)],
    ]

    def __init__(self, path: str, stall_after: float | None = None) -> None:
        super().__init__()
        self.path = path
        """What is watched."""
        self.stall_after = stall_after
        """Seconds without a new point before a run is stalled (None: the default)."""

    def compose(self) -> ComposeResult:
        yield WatchPane(self.path, self.stall_after, id="watch-pane")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#watch-runs").focus()

    def on_screen_resume(self) -> None:
        pane = self.query_one(WatchPane)
        if pane.paused:  # back from the dataset panes: read on from where it paused
            pane.resume()

    def action_leave(self, key: int | None = None) -> None:
        """Pause watching and show the dataset panes (pane ``key`` when given)."""
        self.query_one(WatchPane).stop()
        self.app.pop_screen()
        if key is not None:
            self.app.simulate_key(str(key))
