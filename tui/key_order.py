"""Keys handled one at a time, each after the previous one has had its effect.

Textual hands a key to the focused widget by putting it in that widget's queue, and goes on to
the next key at once. Keys that arrive in one write (typed ahead over SSH, pasted into tmux,
sent by ``tmux send-keys 2 Right``) are therefore all handed to the widget that had the focus
when the first one arrived: "2" switches to the preview, but the Right behind it has already gone
to the dataset pane's field. And a widget's bindings run only when the key has bubbled up to the
app, while a text field inserts a character as soon as the key reaches it: Backspace ×4 then
"m0.pt", typed at once into a field holding "ab", inserted "m0.pt" first and then deleted four
characters of it ("abm"). Here the app holds each key until the one before it has been through
every widget it bubbles through (its bindings run, its actions done, the focus they set in place),
then hands it to whatever has the focus by then. A lone key, the usual case, goes at once.

How "done" is known: a marker (a callback) is queued behind the key at the widget it went to;
each widget's queue is first in, first out, so when the marker runs there, the key has left it,
and the marker follows it up to the parent, and on to the app. Should a marker be lost (a widget
closed under it), the held keys go after :data:`STUCK_AFTER` seconds instead.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual import events
    from textual.app import App
    from textual.dom import DOMNode
    from textual.timer import Timer

STUCK_AFTER = 1.0
"""Seconds after which keys held behind a key whose marker never came back are handed on anyway."""


class KeysInOrder:
    """The app's keys, handed on one at a time: see the module's docstring.

    The app calls :meth:`arrived` from its ``on_event`` with every key the terminal sent, before
    Textual sees it; ``dispatch`` is what Textual would have done with it (``App.on_event``).
    """

    def __init__(self, app: App, dispatch, settled=None) -> None:
        self.app = app
        """The app whose keys these are."""
        self.dispatch = dispatch
        """Coroutine function that hands one key to Textual (``App.on_event``)."""
        self.settled = settled
        """Called once every key that arrived has had its effect (none held, none on its way)."""
        self.held: deque[events.Key] = deque()
        """Keys that arrived while another was on its way, oldest first."""
        self.serial = 0
        """Number of the key on its way; a marker for an older one is ignored."""
        self.busy = False
        """A key is on its way through the widgets."""
        self._watchdog: Timer | None = None

    async def arrived(self, event: events.Key) -> None:
        """A key from the terminal: hand it on now, or hold it behind the one on its way."""
        if self.busy:
            self.held.append(event)
            self._arm()
            return
        await self._send(event)

    def _arm(self) -> None:
        """Start the watchdog for the keys held, unless it is running."""
        if self._watchdog is None:
            self._watchdog = self.app.set_timer(STUCK_AFTER, self._stuck)

    async def _send(self, event: events.Key) -> None:
        self.busy = True
        self.serial += 1
        serial = self.serial
        target = self.app.focused or self.app.screen
        screen = self.app.screen
        await self.dispatch(event)
        if not target.call_later(self._follow, target, serial, screen):
            await self._done(serial, screen)

    def _follow(self, node: DOMNode, serial: int, screen) -> None:
        """The marker at ``node``: the key has left it; follow it to the parent."""
        if serial != self.serial:
            return
        parent = node.parent
        if node is self.app or parent is None:
            # once more through the app's queue: behind the callbacks its actions queued (a focus())
            self.app.call_later(self._done, serial, screen)
        elif not parent.call_later(self._follow, parent, serial, screen):
            self.app.call_later(self._done, serial, screen)

    async def _done(self, serial: int, screen) -> None:
        """The key ``serial`` has had its effect: hand on the next one held, if any."""
        if serial != self.serial:
            return
        if self.app.screen is not screen:
            # the key opened or closed a screen: wait until the new one has drawn (and focused its field)
            self.app.screen.call_after_refresh(self._done, serial, self.app.screen)
            return
        self.busy = False
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
        if self.held:
            await self._send(self.held.popleft())
            if self.held:
                self._arm()
        elif self.settled is not None:
            self.settled()

    async def _stuck(self) -> None:
        """The key on its way has not come back for :data:`STUCK_AFTER` s: go on without it."""
        self._watchdog = None
        if self.busy:
            self.serial += 1  # its marker, should it come, is ignored
            self.busy = False
            while self.held and not self.busy:
                await self._send(self.held.popleft())
            if self.held:
                self._arm()
