"""The training form's parameter count: none when the images differ in size, and what training needs instead."""

from __future__ import annotations

import re

from textual.widgets import Static

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app

from support.makers import write_image_folder
from support.pilot import screen_text, settle, wait_for


def two_sizes(root):
    write_image_folder(root / "train", {"a": 3, "b": 3}, size=(12, 10))
    write_image_folder(root / "train", {"a": 2, "b": 2}, size=(20, 30), seed=1)  # 20×30: overwrites 000, 001
    return root


async def count_shown(spec: DatasetSpec) -> tuple[str, str]:
    app = build_app(AppOptions(spec=spec))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await wait_for(pilot, lambda: app.query("#param-count"), what="the training form")
        label = app.query_one("#param-count", Static)
        await wait_for(pilot, lambda: "open a dataset" not in str(label.render()), what="the count")
        return str(label.render()), screen_text(app)


async def test_images_of_two_sizes_give_no_count_but_say_a_resize_is_needed(tmp_path):
    text, screen = await count_shown(DatasetSpec(str(two_sizes(tmp_path / "sizes"))))
    assert text == "no count: images differ in size; needs --resize"
    assert "needs --resize" in screen and not re.search(r"[\d,]+ params", screen)


async def test_resized_images_are_counted(tmp_path):
    text, _ = await count_shown(DatasetSpec(str(two_sizes(tmp_path / "sizes")), resize="16"))
    assert re.fullmatch(r"[\d,]+ params", text), text
