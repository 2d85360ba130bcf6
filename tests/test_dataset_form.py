"""The dataset pane's form names what is open: the Built-in field says "the path below" while a path
is open, and the path field's hint fits 80 columns."""

from __future__ import annotations

from textual.widgets import Input, Select

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.dataset_pane import PATH_CHOSEN, PATH_CHOSEN_LABEL

from support.makers import write_image_folder
from support.pilot import screen_text, settle, wait_for


async def test_the_built_in_field_follows_what_is_open(tmp_path):
    root = write_image_folder(tmp_path / "pets" / "train", {"cat": 3, "dog": 3}).parent
    app = build_app(AppOptions(spec=DatasetSpec(str(root))))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        chooser = app.query_one("#builtin", Select)
        assert chooser.value == PATH_CHOSEN
        assert (
            PATH_CHOSEN_LABEL in screen_text(app) and "digits" not in screen_text(app).split("or a path")[0]
        )
        chooser.value = "digits"  # choosing a built-in empties the path, which would take precedence
        await wait_for(pilot, lambda: app.query_one("#path", Input).value == "", what="the path emptied")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: app.handle is not None and app.handle.name == "digits", what="digits")


async def test_the_path_hint_is_whole_at_80_columns():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        field = app.query_one("#path", Input)
        assert len(field.placeholder) <= field.content_region.width, (field.placeholder, field.content_region)
