"""SVG snapshots where the picture matters: the preview pane drawing real digits at 80×24.

Update after an intended change with ``pytest tests/test_snapshots.py --snapshot-update``
and look at the new SVGs in ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.preview_pane import PreviewPane

from support.pilot import settle, wait_for


def _ready(*keys: str, expect: str = ""):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)
        if expect:
            await wait_for(pilot, lambda: expect in app.query_one(PreviewPane).last_info.plain)

    return run_before


def test_preview_one_digit_in_half_blocks(snap_compare):
    assert snap_compare(
        build_app(AppOptions()), terminal_size=(80, 24), run_before=_ready(expect="sample 0 of")
    )


def test_preview_grid_in_ascii(snap_compare):
    app = build_app(AppOptions(ascii=True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready("m", expect="samples 0–"))


def test_balance_of_the_red_wine_table_at_4_5(snap_compare, red_wine):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.tui.panes.balance_pane import BalancePane

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        pane = app.query_one(BalancePane)
        await wait_for(pilot, lambda: pane.summary() is not None and pane.summary().unbalanced)
        await pilot.pause(0.3)  # the chart draws on its next refresh

    app = build_app(AppOptions(spec=DatasetSpec(str(red_wine), threshold=4.5)))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
