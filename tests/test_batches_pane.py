"""The batches pane under Pilot: stepping, new epochs, jumps, settings, toggles, and held keys."""

from __future__ import annotations

import threading

from textual import events
from textual.widgets import Select

from dataloupe.core.batching import BatchStepper, LoaderSettings
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes import batches_pane
from dataloupe.tui.panes.batches_pane import BatchesPane, add_move
from dataloupe.tui.widgets.loader_settings import LoaderSettingsForm
from dataloupe.tui.widgets.sample_view import SampleView

from support.pilot import settle, wait_for


async def open_pane(app, pilot) -> BatchesPane:
    await settle(app, pilot)
    await pilot.press("5")
    await settle(app, pilot)
    return app.query_one("#batches-pane", BatchesPane)


def info_text(app) -> str:
    return str(app.query_one("#batch-info").render())


async def test_pane_steps_forward_and_into_a_new_epoch(digits):
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        first = pane.summary
        assert (first.epoch, first.index, first.batches) == (1, 0, 144)
        assert first.x_shape_text == "torch.Size([10, 1, 8, 8])"
        assert "epoch 1 · batch 0 of 144" in info_text(app)
        assert "torch.Size([10, 1, 8, 8])" in info_text(app) and "torch.int64" in info_text(app)
        grid = app.query_one("#batch-grid", SampleView)
        captions = [t for row in grid.text_rows if "▀" not in row for t in row.split()]
        assert captions == [str(y) for y in first.labels]  # every sample drawn, its label under it

        await pilot.press("n")
        await settle(app, pilot)
        assert (pane.summary.epoch, pane.summary.index) == (1, 1)

        await pilot.press("e")
        await settle(app, pilot)
        assert (pane.summary.epoch, pane.summary.index) == (2, 0)
        assert pane.summary.labels != first.labels  # a new pass reshuffles
        # the same as a plain stepper with the default settings
        stepper = BatchStepper(digits.split("train"), LoaderSettings())
        stepper.step()
        stepper.new_epoch()
        assert stepper.step().summary.indices == pane.summary.indices

        await pilot.press("g")
        await pilot.press(*"143", "enter")
        await settle(app, pilot)
        assert (pane.summary.epoch, pane.summary.index) == (2, 143)
        assert pane.summary.is_last_smaller and pane.summary.size == 8
        assert "last batch: 8 samples, smaller than 10" in info_text(app)

        await pilot.press("n")
        await settle(app, pilot)
        assert (pane.summary.epoch, pane.summary.index) == (3, 0)


async def test_holding_the_key_draws_the_latest_batch_not_a_backlog(monkeypatch):
    release = threading.Event()
    build = batches_pane.move_and_build

    def slow_build(job):  # a build slower than the key repeat: the presses pile up behind it
        release.wait(timeout=30)
        return build(job)

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        start, renders = pane.summary.index, pane.renders
        shown_before = len(pane.shown)
        monkeypatch.setattr(batches_pane, "move_and_build", slow_build)
        # a held key: the terminal delivers repeats faster than batches are built
        for _ in range(50):
            app.post_message(events.Key("n", "n"))
        await wait_for(pilot, lambda: pane.presses == 50, what=lambda: f"50 presses; {pane.presses} so far")
        release.set()
        await settle(app, pilot)
        assert (pane.summary.epoch, pane.summary.index) == (1, start + 50)
        drawn = pane.shown[shown_before:]
        # the first press's batch, then one for the 49 that came in while it was built
        assert pane.renders - renders == len(drawn) == 2
        assert drawn == [(1, start + 1), (1, start + 50)]
        assert not pane.busy


def test_moves_merge_steps_and_keep_order():
    moves: list[tuple[str, int]] = []
    for kind, value in [
        ("step", 1),
        ("step", 1),
        ("epoch", 0),
        ("step", 1),
        ("step", 1),
        ("jump", 7),
        ("step", 1),
    ]:
        add_move(moves, kind, value)
    assert moves == [("step", 2), ("epoch", 0), ("step", 2), ("jump", 7), ("step", 1)]


async def test_settings_form_rebuilds_the_loader_and_rejects_bad_values():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        await pilot.press("b", "3", "2", "enter")
        await settle(app, pilot)
        assert pane.settings.batch_size == 32
        assert pane.summary.x_shape_text == "torch.Size([32, 1, 8, 8])"
        assert (pane.summary.epoch, pane.summary.index, pane.summary.batches) == (1, 0, 45)
        assert app.focused is pane  # enter hands the keys back to the pane

        await pilot.press("b", "0", "enter")
        await settle(app, pilot)
        assert pane.last_error == "batch size must be a whole number ≥ 1, got 0."
        assert pane.settings.batch_size == 32 and pane.summary.size == 32  # the app keeps running as before

        await pilot.press("escape")
        app.query_one("#batch-size").value = "16"
        form = app.query_one(LoaderSettingsForm)
        app.query_one("#shuffle").value = False
        await settle(app, pilot)
        assert form.applied.shuffle is False and pane.settings.shuffle is False
        assert pane.settings.batch_size == 16
        assert pane.summary.indices == tuple(range(16))


async def test_normalize_and_augment_toggles_show_the_pipeline():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        indices, x_max = pane.summary.indices, pane.summary.x_max
        await pilot.press("t")
        await settle(app, pilot)
        assert "Normalize(mean=" in pane.summary.pipeline and "Normalize(mean=" in info_text(app)
        assert pane.summary.indices == indices and pane.summary.x_max > x_max
        await pilot.press("a")
        await settle(app, pilot)
        assert "RandomAffine" in pane.summary.pipeline
        await pilot.press("t", "a")
        await settle(app, pilot)
        assert pane.summary.pipeline == "Scale(÷16 → 0..1)"


async def test_balanced_sampler_on_red_wine_shows_counts_beside_the_split(red_wine):
    app = build_app(AppOptions(spec=DatasetSpec(str(red_wine), threshold=4.5)))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        assert pane.summary.x_shape_text == "torch.Size([10, 11])"
        app.query_one("#sampler", Select).value = "balanced"
        await settle(app, pilot)
        assert pane.settings.sampler == "balanced"
        for _ in range(39):
            app.post_message(events.Key("n", "n"))
        await settle(app, pilot)
        s = pane.summary
        assert (s.epoch, s.index, s.sampler) == (1, 39, "balanced")
        low = s.epoch_counts[0] / sum(s.epoch_counts)
        assert 0.35 <= low <= 0.65 and sum(s.epoch_counts) == 400
        text = info_text(app)
        assert "3.9%" in text  # the split's own share of the low class, beside the epoch's
        assert "0 low (≤ 4.5) · 1 high (> 4.5)" in text
        await pilot.press("a")  # augmentation is for images: a warning, nothing changes
        await settle(app, pilot)
        assert not pane.augment


async def test_balanced_sampler_without_labels_is_a_message_not_a_crash():
    import torch
    from torch.utils.data import TensorDataset

    from dataloupe.core.data.datasets import from_datasets
    from dataloupe.tui.messages import DatasetOpened

    x = torch.rand(30, 1, 4, 4)
    handle = from_datasets(
        "unlabelled", {"train": TensorDataset(x, torch.arange(30) % 2)}, ["a", "b"], targets_known=False
    )
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        app.post_message(DatasetOpened(handle, DatasetSpec(), "train", 0.0))
        await settle(app, pilot)
        assert pane.summary.x_shape_text == "torch.Size([10, 1, 4, 4])"
        assert pane.summary.dataset_counts is None
        app.query_one("#sampler", Select).value = "balanced"
        await settle(app, pilot)
        assert "needs every sample's label" in (pane.last_error or "")
        assert pane.summary is None and app.is_running
        await pilot.press("n")  # says it again instead of trying
        await settle(app, pilot)
        assert pane.summary is None and not pane.busy


async def test_keys_in_the_footer_and_help_says_why_no_workers():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(app, pilot)
        described = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"next", "epoch", "go to", "normalize", "augment"} <= described
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = app.query_one("#batches-help")
        assert help_text.display and "num_workers=0" in str(help_text.render())


async def test_the_go_to_dialog_has_its_own_footer_and_takes_digits():
    """Issue 9: with the dialog open the footer lists its keys, not "1-6 pane" (bench_keys seed 3 trusted
    that footer and typed 2 into the dialog); digits go into its field; Esc closes it; 2 then switches."""
    from dataloupe.tui.screens.jump_screen import JumpScreen

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(app, pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen), what="the go-to dialog")
        await pilot.pause()
        footer = screen_lines(app)[-1]
        assert "Go" in footer and "Cancel" in footer and "1-6" not in footer, footer
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, JumpScreen), what="the dialog to close")
        assert app.query_one("#tabs").active == "batches"  # the 2 was a batch number, not a pane key
        await wait_for(pilot, lambda: "batch 2 of" in info_text(app), what="batch 2")
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JumpScreen))
        await pilot.press("2")
        await wait_for(pilot, lambda: app.query_one("#tabs").active == "preview", what="2 switching panes")


# ---------------------------------------------------------------------- issue 9: what the pane shows at 80×24
def screen_lines(app) -> list[str]:
    """The screen as lines of text (from the SVG export), top to bottom."""
    import html
    import re
    from collections import defaultdict

    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    svg = app.export_screenshot()
    for x, y, text in re.findall(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows[float(y)].append((float(x), html.unescape(text).replace("\xa0", " ")))
    return ["".join(t for _, t in sorted(rows[y])) for y in sorted(rows)]


def class_rows_on_screen(app, classes) -> list[str]:
    """The class names whose row of the class table is on screen (name, then percentages)."""
    import re

    return [
        c for c in classes if any(re.match(rf"\s*{re.escape(c)}\s.*%.*%", line) for line in screen_lines(app))
    ]


async def test_first_visit_is_laid_out_and_the_whole_class_table_shows_at_80x24():
    """Issue 9, items 5, 6 and 14: batch 0 on the first visit is drawn as after n; ten classes fit."""
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        grid = app.query_one("#batch-grid", SampleView)
        first_width, first_rows = grid._width, len(grid.text_rows)
        assert first_width >= 24  # several tiles a row, not one narrow column
        assert class_rows_on_screen(app, [str(k) for k in range(10)]) == [str(k) for k in range(10)]
        assert "in 1 batch" in info_text(app) and "1 batches" not in info_text(app)
        await pilot.press("n")
        await settle(app, pilot)
        assert (grid._width, len(grid.text_rows)) == (first_width, first_rows)  # the same layout as after n

        app.query_one("#sampler", Select).value = "balanced"
        await settle(app, pilot)
        assert pane.summary.sampler == "balanced"
        assert class_rows_on_screen(app, [str(k) for k in range(10)]) == [str(k) for k in range(10)]

        await pilot.press("b")  # the settings: the footer says how to get back
        await pilot.pause()
        footer = screen_lines(app)[-1]
        assert "back to keys" in footer, footer
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is pane


async def test_table_batches_label_rows_with_the_class_names(red_wine):
    """Issue 9, item 13: the wine quality scores 3-8 are the class names; labels show them, not 0-5."""
    app = build_app(AppOptions(spec=DatasetSpec(str(red_wine))))
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        summary = pane.summary
        names = [summary.class_name(y) for y in summary.labels]
        assert names != [str(y) for y in summary.labels]
        labels_line = next(line for line in info_text(app).splitlines() if line.startswith("labels "))
        assert labels_line.split()[1:] == names
        rows = app.query_one("#batch-grid", SampleView).text_rows[1:]
        assert [row.split()[1] for row in rows] == names  # the y column of the table rows
