"""The app's tabs: a ``TabbedContent`` whose shown tab changes only when it is asked to.

Textual's ``TabbedContent`` also follows the focus: when a widget inside a tab is focused, the
tab pane tells it so (``TabPane.Focused``), and it shows that tab. That message travels up the
widget tree one queue at a time, so it arrives late. With two pane keys in one write ("3" then
"5", as a terminal delivers them over SSH), the focus put in the balance pane by "3" was announced
after "5" had shown the batches pane, and the late announcement showed the balance pane again:
the second key was lost. Here a tab follows the focus only if the focus is still in that tab when
the announcement arrives.
"""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    """Tabs that a late focus announcement cannot switch back to a tab the user has left."""

    def on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        # prevent_default keeps TabbedContent's own handler (which always switches) from running
        event.prevent_default()
        event.stop()
        pane = event.tab_pane
        focused = self.screen.focused
        if pane.id and pane.id != self.active and focused is not None and pane in focused.ancestors:
            self.active = pane.id
