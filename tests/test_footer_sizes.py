"""The footer at every size the app supports: the pane's keys give way, ``1-6 pane`` and ``q quit`` stay."""

from __future__ import annotations

from dataloupe.tui.app import build_app
from dataloupe.tui.widgets.key_bar import ELLIPSIS, KeyBar

from support.pilot import settle, wait_for


async def test_the_footer_keeps_the_pane_keys_and_quit_in_every_pane():
    app = build_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(app, pilot)
        bar = app.query_one(KeyBar)
        for key in "123456":
            await pilot.press(key)
            await settle(app, pilot)
            assert bar.keys.endswith("1-6 pane q quit"), (key, bar.keys)
            assert len(bar.keys) <= 60
        await pilot.press("2")
        await settle(app, pilot)
        assert bar.keys.startswith("←→ sample") and ELLIPSIS in bar.keys  # the last give way, and say so
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: ELLIPSIS not in bar.keys, what="every preview key at 80 columns")
        assert bar.keys.endswith("1-6 pane q quit")
