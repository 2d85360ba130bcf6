"""The footer at every size the app supports: the pane's keys give way, ``1-6 pane`` and ``q quit`` stay."""

from __future__ import annotations

import pytest

from dataloupe.tui.app import build_app
from dataloupe.tui.widgets.key_bar import ELLIPSIS, KeyBar

from support.pilot import settle


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_the_footer_keeps_the_pane_keys_and_quit_in_every_pane(size):
    app = build_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        seen = {}
        for key in "123456":
            await pilot.press(key)
            await settle(app, pilot)
            bar = app.query_one(KeyBar)
            seen[key] = bar.keys
            assert bar.keys.endswith("1-6 pane q quit"), (key, bar.keys)
            assert len(bar.keys) <= size[0]
        if size == (60, 20):  # the preview's keys do not all fit: the last give way, and say so
            assert seen["2"].startswith("←→ sample") and ELLIPSIS in seen["2"]
        else:
            assert not any(ELLIPSIS in keys for keys in seen.values())
