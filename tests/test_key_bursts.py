"""Keys that arrive together (one write from the terminal) are each handled, in order.

Over SSH, keys typed ahead arrive in one read. Textual hands each one to the widget focused when
it arrived, and runs a widget's bindings only once the key has bubbled up to the app, so keys
sent together used to be lost or reordered: "3 5" stayed on the balance pane, "2 Right" moved
the dataset pane's field instead of the preview, and Backspace ×4 then "m0.pt" in a field that
held "ab" left "abm". Pilot's ``press`` waits for the app after every key; ``burst`` does not.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.widgets import Input

from dataloupe.tui.app import build_app
from dataloupe.tui.panes.preview_pane import PreviewPane

from support.keys import active_pane, burst
from support.pilot import settle, wait_for

DATALOUPE = Path(sys.executable).parent / "dataloupe"
SIZE = (80, 24)

TWENTY = ["2", *["right"] * 5, *"351642", *["right"] * 3, *"13645"]
"""20 keys: to the preview, 5 samples on, through every pane, 3 more samples on, and on to the batches."""


def sample_shown(app) -> str:
    return app.query_one(PreviewPane).last_info.plain.split("\n")[0]


async def test_pane_and_pane_keys_sent_together_are_each_handled_in_order():
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        tabs = app.query_one("#tabs")
        assert tabs.active == "preview" and sample_shown(app).startswith("sample 0 of")

        async def after(keys: list[str], pane: str, sample: int) -> None:
            burst(app, *keys)
            want = f"sample {sample} of"

            def arrived() -> bool:
                return tabs.active == pane and sample_shown(app).startswith(want)

            await wait_for(
                pilot, arrived, what=lambda: f"{pane}, {want}; shown: {tabs.active}, {sample_shown(app)}"
            )
            await settle(app, pilot)  # and it stays there: no late message takes it back
            assert tabs.active == pane and sample_shown(app).startswith(want)
            focused = app.focused
            assert focused is None or f"{pane}-pane" in {w.id for w in focused.ancestors_with_self}

        await after(["3", "5"], "batches", 0)
        await after(["1", "2", "right", "right", "4"], "checklist", 2)
        assert len(TWENTY) == 20
        await after(TWENTY, "batches", 10)
        await after(["2", "g", "3", "3", "enter"], "preview", 33)  # a dialog opened mid-burst gets its keys


async def test_backspaces_then_typing_at_once_edit_a_form_field_in_order():
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        field = app.query_one("#train-checkpoint", Input)
        field.focus()
        await wait_for(pilot, lambda: app.focused is field)
        await pilot.press("ctrl+u", "a", "b")
        await wait_for(pilot, lambda: field.value == "ab")
        burst(app, *["backspace"] * 4, *"m0.pt")  # more Backspaces than characters, then a name
        await wait_for(
            pilot,
            lambda: field.value == "m0.pt",
            what=lambda: f"m0.pt in the field; it holds {field.value!r}",
        )


def test_keys_sent_in_one_write_in_a_real_terminal_are_each_handled(tmux):
    tmux.start([str(DATALOUPE)])
    tmux.wait_for("sample 0 of 1,438", timeout=60)
    tmux.keys("3", "5")  # two keys, one write
    tmux.wait_until(lambda s: active_pane(s) == "Batches", timeout=20, what="the batches pane")
    tmux.keys("1", "2", "Right", "Right", "4")
    tmux.wait_until(lambda s: active_pane(s) == "Checklist", timeout=20, what="the checklist pane")
    tmux.keys(*[{"right": "Right"}.get(k, k) for k in TWENTY])
    tmux.wait_until(lambda s: active_pane(s) == "Batches", timeout=20, what="the batches pane")
    tmux.keys("2")
    tmux.wait_until(  # 2 + 5 + 3 Rights, none lost (a lost one would leave sample 9 or fewer)
        lambda s: "sample 10 of 1,438" in s and active_pane(s) == "Preview", timeout=20, what="sample 10"
    )
    tmux.keys("q")
    assert tmux.exit_code() == 0
