"""A view switch on the training pane does the least the screen needs: no focus change, no restyle of
widgets it did not change, no layout pass for lines whose size stays.

Each of these cost the UI thread milliseconds per ``v`` while a model trained (``bench_keys.py``
measures the key-to-screen time; p95 86 ms before, 32-34 ms after, against a bare Textual app's
19-21 ms). The tests check the behaviour behind each saving, which the benchmark cannot name.
"""

from __future__ import annotations

from textual.widgets import ContentSwitcher

from dataloupe.tui.app import build_app
from dataloupe.tui.panes.base import Pane
from dataloupe.tui.panes.training_pane import VIEWS
from dataloupe.tui.panes.training_user_model import MISTAKES_VIEW
from dataloupe.tui.widgets.key_bar import KeyBar
from dataloupe.tui.widgets.mistakes_view import MistakesView

from support.pilot import open_training, wait_for


def bound(app, action: str) -> bool:
    """``action`` is bound to a key that works now (the screen's active bindings)."""
    return any(
        binding.action.startswith(action) and enabled
        for _, binding, enabled, _ in app.screen.active_bindings.values()
    )


async def test_v_visits_every_view_with_the_keys_kept_by_the_pane():
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        switcher = pane.query_one("#train-switcher", ContentSwitcher)
        seen = []
        for _ in VIEWS:
            await pilot.press("v")
            await wait_for(pilot, lambda: switcher.current == VIEWS[pane.view][0])
            seen.append(switcher.current)
            assert app.focused is pane, f"{switcher.current}: the focus moved to {app.focused}"
            in_mistakes = switcher.current == MISTAKES_VIEW[0]
            # the mistakes view's arrows and f are bound only while it is shown
            assert bound(app, "mistake") is in_mistakes and bound(app, "cell") is in_mistakes
        assert seen == [view for view, _ in (*VIEWS[1:], VIEWS[0])]


async def test_a_hidden_mistakes_view_that_took_the_focus_gives_it_back():
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        while VIEWS[pane.view] != MISTAKES_VIEW:
            await pilot.press("v")
        app.query_one(MistakesView).focus()  # a click
        await pilot.pause()
        await pilot.press("v")
        await wait_for(pilot, lambda: app.focused is pane, what="the focus back with the pane")


def styles_of(nodes) -> list[tuple[str, str]]:
    """Every node's resolved CSS, as text, in order."""
    return [(repr(node), node.styles.css) for node in nodes]


async def test_a_panes_focus_styles_no_widget_inside_it_so_restyling_the_pane_alone_is_enough():
    """Pane restyles only itself when it gains or loses the focus (Textual restyles every descendant,
    70 on the training pane). That is right only while no rule styles a pane's children by the pane's
    focus: here the cheap restyle is compared with Textual's full one, focused and not, on every pane."""
    app = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_training(app, pilot)  # the training pane composes its widgets when first shown
        panes = list(app.query(Pane))
        assert len(panes) == 6
        checked = []
        for key, pane in zip("123456", panes, strict=True):
            if not pane.can_focus:  # the dataset pane: its fields take the keys, never the pane
                continue
            await pilot.press(key)  # a pane takes the focus only while its tab is shown
            await wait_for(pilot, lambda pane=pane: pane.region.area > 0)
            checked.append(pane.id)
            for focused in (True, False):
                if focused:
                    pane.focus()
                else:
                    app.screen.set_focus(None)
                await pilot.pause()
                assert pane.has_focus is focused
                nodes = list(pane.walk_children(with_self=True))
                cheap = styles_of(nodes)
                app.update_styles(pane)  # Textual's restyle of the pane and all it holds
                assert styles_of(nodes) == cheap, f"{pane.id} styles a child by its focus ({focused=})"
        assert {"preview-pane", "batches-pane", "training-pane"} <= set(checked), checked


async def test_the_footer_and_the_view_tabs_redraw_without_a_layout_pass(monkeypatch):
    """Both keep their size when their words change; a layout pass reflows the whole screen."""
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_training(app, pilot)
        layouts: list[str] = []
        for widget in (app.query_one(KeyBar), pane.query_one("#train-views")):
            original = widget.refresh

            def refresh(*args, _original=original, _id=widget.id or "key bar", **kwargs):
                if kwargs.get("layout"):
                    layouts.append(_id)
                return _original(*args, **kwargs)

            monkeypatch.setattr(widget, "refresh", refresh)
        for _ in VIEWS:
            await pilot.press("v")
            await pilot.pause()
        assert layouts == []
        assert "v view" in app.query_one(KeyBar).keys
