"""The private parts of Textual that dataloupe leans on are still there.

Each is used where no public API does the job; pyproject pins Textual's major version, and these
tests fail loudly, naming the attribute, when a release inside that range removes one.

- ``Tabs._highlight_active(animate=...)``: the app moves the tab underline at once (tui/app.py).
- ``textual._wait.SLEEP_GRANULARITY`` / ``SLEEP_IDLE`` and the ``wait_for_idle`` that
  ``textual.app`` and ``textual.pilot`` import: the tests' idle wait (tests/support/process.py).
- The screenshot's SVG layout that ``support.pilot.screen_lines`` reads back into lines.
- ``Widget.watch_has_focus`` (overridden by ``Pane`` to restyle a pane alone), ``App.stylesheet``'s
  ``update_nodes``, ``App.get_driver_class`` and ``Driver.process_message`` (the app raises
  ``GIVE_WAY`` there for every key): renamed, the app would still work, only slower.
"""

from __future__ import annotations

import inspect


def test_the_tab_bar_still_moves_its_underline_through_highlight_active():
    from textual.widgets import Tabs

    method = getattr(Tabs, "_highlight_active", None)
    assert callable(method), "Tabs._highlight_active is gone: tui/app.py _underline_at_once must change"
    assert "animate" in inspect.signature(method).parameters


def test_pilot_still_waits_for_idle_through_textual_wait():
    import textual._wait
    import textual.app
    import textual.pilot

    for name in ("SLEEP_GRANULARITY", "SLEEP_IDLE"):
        assert isinstance(getattr(textual._wait, name, None), float), f"textual._wait.{name} is gone"
    for module in (textual.app, textual.pilot):
        assert callable(getattr(module, "wait_for_idle", None)), f"{module.__name__}.wait_for_idle is gone"


def test_the_app_really_uses_the_wrapped_underline():
    """The wrapper is installed on the app's tab bar, not only defined."""
    import asyncio

    from dataloupe.tui.app import AppOptions, build_app

    async def check() -> bool:
        app = build_app(AppOptions(open_on_start=False))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            from textual.widgets import Tabs

            tabs = app.query_one("#tabs Tabs", Tabs)
            return "_highlight_active" in vars(tabs)

    assert asyncio.run(check())


def test_screen_lines_reads_the_screenshot_back_into_rows():
    import asyncio

    from dataloupe.tui.app import AppOptions, build_app

    from support.pilot import screen_lines

    async def read() -> list[str]:
        app = build_app(AppOptions(open_on_start=False))
        async with app.run_test(size=(70, 20)) as pilot:
            await pilot.pause()
            return screen_lines(app)

    lines = asyncio.run(read())
    assert len(lines) == 20 and all(len(line) == 70 for line in lines)
    assert any("1 Dataset" in line and "6 Training" in line for line in lines)


def test_the_hooks_of_the_quick_key_path_are_still_called_by_textual():
    from textual.app import App
    from textual.driver import Driver
    from textual.widget import Widget

    from dataloupe.tui.panes.base import Pane

    assert "watch_has_focus" in vars(Widget), "Widget.watch_has_focus is gone: Pane's override is dead"
    assert "watch_has_focus" in vars(Pane)
    assert "has_focus" in Widget._reactives, "the has_focus reactive is gone"
    assert callable(getattr(Driver, "process_message", None))
    assert callable(getattr(App, "get_driver_class", None))
    from textual.css.stylesheet import Stylesheet

    assert callable(getattr(Stylesheet, "update_nodes", None))
