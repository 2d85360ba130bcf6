"""The preview names the file (or table row) behind each sample, and ``c`` copies it to the clipboard."""

from __future__ import annotations

from PIL import Image

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.preview_pane import PreviewPane

from support.makers import write_image_folder
from support.pilot import settle, wait_for


async def test_the_file_behind_a_sample_is_shown_and_c_copies_it(tmp_path):
    root = write_image_folder(tmp_path / "ants" / "train", {"ants": 2, "bees": 2})
    Image.new("RGB", (12, 10), "white").save(root / "bees" / "placeholder.png")
    app = build_app(AppOptions(spec=DatasetSpec(str(tmp_path / "ants"))))
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # what Textual would send the terminal as OSC 52
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(PreviewPane)
        await pilot.press("end")  # the last sample: bees/placeholder.png
        await wait_for(pilot, lambda: "sample 4 of 5" in pane.last_info.plain, what="the last sample")
        assert "file train/bees/placeholder.png (c copies)" in pane.last_info.plain
        await pilot.press("c")
        assert copied == [str(root / "bees" / "placeholder.png")]


async def test_a_table_row_is_named(red_wine):
    app = build_app(AppOptions(spec=DatasetSpec(str(red_wine))))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(PreviewPane)
        await wait_for(pilot, lambda: "sample 0 of" in pane.last_info.plain, what="the first row")
        assert "from winequality-red.csv row " in pane.last_info.plain
