"""The app through Textual's Pilot: the first two panes as a user drives them, at 80×24."""

from __future__ import annotations

from textual.widgets import Input, Static

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.preview_pane import PreviewPane
from dataloupe.tui.widgets.sample_view import SampleView

from support.pilot import screen_text, settle, wait_for

SIZE = (80, 24)


def info_text(app) -> str:
    return app.query_one(PreviewPane).last_info.plain


async def test_starts_on_the_bundled_digits_and_shows_a_sample():
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.handle is not None and app.handle.name == "digits"
        assert app.query_one("#tabs").active == "preview"
        info = info_text(app)
        assert "sample 0 of 1,438" in info
        assert "shape 1×8×8" in info and "dtype float32" in info
        assert "range 0 .. 0.9375" in info
        rows = app.query_one(SampleView).text_rows
        assert len(rows) == 20 and all(set(r) == {"▀"} for r in rows)  # 8×8 drawn 5× larger, half-blocks
        status = str(app.query_one("#status-line", Static).render())
        assert "digits · train 1,438 / test 359 · 10 classes" in status


async def test_keys_move_page_jump_and_switch_views():
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("right")
        await wait_for(pilot, lambda: "sample 1 of" in info_text(app))
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: "sample 11 of" in info_text(app))
        await pilot.press("left", "left")
        await wait_for(pilot, lambda: "sample 9 of" in info_text(app))
        await pilot.press("g")
        await pilot.press(*"1234", "enter")
        await wait_for(pilot, lambda: "sample 1,234 of" in info_text(app))
        await pilot.press("g")
        await pilot.press(*"99999", "enter")  # out of range: the modal says so and stays
        await pilot.pause()
        assert "out of range" in str(app.screen.query_one("#jump-error").render())
        await pilot.press("escape")
        await pilot.press("m")
        await wait_for(pilot, lambda: info_text(app).startswith("samples 1,234–"))
        assert app.query_one(PreviewPane).per_page > 10  # a grid of as many as the pane holds
        page = app.query_one(PreviewPane).per_page
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: info_text(app).startswith(f"samples {1234 + page:,}–"))


async def test_ascii_transform_and_split_keys():
    app = build_app(AppOptions(ascii=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = app.query_one(SampleView).text_rows
        assert "".join(rows).isascii() and "%" in "".join(rows)  # digits peak at 15/16: the densest but one
        await pilot.press("t")  # scaled → normalized
        await wait_for(
            pilot, lambda: "Normalize(mean=" in info_text(app), what=lambda: f"normalized: {info_text(app)!r}"
        )
        assert "negative values" in info_text(app)
        await pilot.press("t")  # → raw
        await wait_for(
            pilot, lambda: "as stored" in info_text(app), what=lambda: f"as stored: {info_text(app)!r}"
        )
        assert "range 0 .. 15" in info_text(app)
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: "of 359" in info_text(app),
            what=lambda: f"the test split: {info_text(app)!r}, split {app.split}",
        )
        assert app.split == "test"
        await pilot.press("a")  # back to half-blocks
        await wait_for(pilot, lambda: "▀" in "".join(app.query_one(SampleView).text_rows))


async def test_opening_a_bad_path_shows_a_message_and_keeps_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths typed relative to the current folder, as a user would
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("1")  # the dataset pane; focus starts on the built-in chooser
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "builtin")
        await pilot.press("tab")  # → the path field, as a user would
        path_input = app.query_one("#path", Input)
        await wait_for(pilot, lambda: app.focused is path_input)
        await pilot.press(*"nope", "enter")
        await wait_for(
            pilot, lambda: "no such file or folder" in str(app.query_one("#open-status", Static).render())
        )
        assert app.handle.name == "digits"  # what was open stays open
        assert app.is_running
        # the same form then opens a real table
        (tmp_path / "t.csv").write_text("a;b;q\n" + "\n".join(f"{i};{i % 7};{i % 2}" for i in range(40)))
        assert app.focused is path_input  # the message did not move the cursor away from what was typed
        await pilot.press("ctrl+u")  # clear the field (readline-style), type the table's path
        await pilot.press(*"t.csv", "enter")
        await wait_for(pilot, lambda: app.handle.name == "t.csv")
        assert app.query_one("#tabs").active == "dataset"


async def test_a_table_previews_as_feature_rows(red_wine):
    app = build_app(AppOptions(spec=DatasetSpec(str(red_wine), threshold=4.5)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = app.query_one(SampleView).text_rows
        assert rows[0].startswith("fixed acidity") and len(rows) == 11
        assert "label 1 (high (> 4.5))" in info_text(app) and "shape 11" in info_text(app)


async def test_a_damaged_dataset_on_start_shows_the_dataset_pane_with_the_reason(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05")
    app = build_app(AppOptions(spec=DatasetSpec(str(tmp_path / "bad"))))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.handle is None
        assert app.query_one("#tabs").active == "dataset"
        assert "t10k-labels-idx1-ubyte" in str(app.query_one("#open-status", Static).render())
        await pilot.press("2")  # the other panes say what to do instead of failing
        assert app.query_one("#tabs").active == "preview"


async def test_footer_shows_the_keys_at_80_columns():
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        for label in ("sample", "page", "go to", "grid", "ascii", "scale", "split", "pane", "quit"):
            assert label in text, label
        await pilot.press("1")
        text = screen_text(app)
        assert "Open" in text and "pane" in text


async def test_pane_keys_switch_tabs():
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key, pane in zip(
            "123456", ("dataset", "preview", "balance", "checklist", "batches", "training"), strict=True
        ):
            await pilot.press(key)
            await pilot.pause()
            assert app.query_one("#tabs").active == pane


async def test_the_underline_is_under_the_new_tab_in_the_next_frame():
    """bench_keys timed every switch at 0.3 s more than it took: the underline slid to the new tab."""
    import asyncio

    from textual import events
    from textual.widgets import Tabs
    from textual.widgets._tabs import Underline

    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        app.animation_level = "full"  # as in a terminal (tests run with animations off)
        await settle(app, pilot)
        underline = app.query_one("#tabs Tabs", Tabs).query_one(Underline)
        for key, pane in (("6", "training"), ("1", "dataset"), ("3", "balance")):
            before = (underline.highlight_start, underline.highlight_end)
            key_event = events.Key(key, key)  # as a terminal sends it: pilot.press would wait for animations
            key_event.set_sender(app)
            app._driver.send_message(key_event)
            seen = []
            for _ in range(40):
                await asyncio.sleep(0.01)
                seen.append((underline.highlight_start, underline.highlight_end))
            tab = app.query_one(f"#tabs Tab#--content-tab-{pane}")
            after = tab.virtual_region.shrink(tab.styles.gutter).column_span
            assert set(seen) <= {before, after}, f"the underline slid through {set(seen) - {before, after}}"
            assert seen[-1] == after


async def test_the_key_bar_follows_the_focus_without_mounting_a_widget_per_key():
    """The footer is one widget redrawn on each switch (Textual's Footer mounted a widget per key each
    time: 40% of a pane switch's time); it lists what the keys do where the focus is."""
    from dataloupe.tui.widgets.key_bar import KeyBar

    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        bar = app.query_one(KeyBar)
        expected = {
            "2": "←→ sample PgUp/Dn page g go to m grid a ascii t scale s split 1-6 pane q quit",
            "3": "s split b train|test  +- threshold 1-6 pane q quit",
            "4": "r re-check t raw|scaled d deep check 1-6 pane q quit",
        }
        for key, keys in expected.items():
            await pilot.press(key)
            await wait_for(pilot, lambda k=keys: bar.keys == k, what=f"the keys of pane {key}: {bar.keys!r}")
            assert not bar.children
        await pilot.press("1")
        await wait_for(pilot, lambda: bar.keys.startswith("^o Open esc Cancel"), what=repr(bar.keys))


async def test_pane_keys_work_while_a_drop_down_list_is_open():
    """Found by bench_keys (seed 0): an open drop-down ate the digits, so 1-6 seemed dead."""
    from textual.widgets import Select

    app = build_app(AppOptions(start_pane="dataset"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        chooser = app.query_one("#builtin", Select)
        chooser.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: chooser.expanded, what="the list to open")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#tabs").active == "balance", what="key 3")


async def test_the_shuffled_verdict_does_not_depend_on_the_batches_panes_loader(tmp_path):
    """The batches pane previews batches and trains nothing: looking at it, or unticking its shuffle,
    leaves the checklist's "shuffled" as the command line gives it, with or without a resize."""
    from textual.widgets import Checkbox

    from dataloupe.core.checks import run_checklist
    from dataloupe.core.readers import open_dataset
    from dataloupe.tui.panes.checklist_pane import ChecklistPane

    from support.makers import write_image_folder

    root = write_image_folder(tmp_path / "sorted" / "train", {"a": 12, "b": 12}).parent

    def shuffled(report) -> tuple[str, str]:
        result = next(r for r in report.results if r.name == "shuffled")
        return result.verdict, result.evidence

    for resize in (None, "8"):
        spec = DatasetSpec(str(root), resize=resize)
        command_line = shuffled(run_checklist(open_dataset(spec)))
        assert command_line[0] == "warn" and "sorted by label" in command_line[1]
        app = build_app(AppOptions(spec=spec))
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            pane = app.query_one(ChecklistPane)
            await pilot.press("5")  # only looking at the batches: the verdict said "✓ … shuffles" then
            await settle(app, pilot)
            await pilot.press("4")
            await wait_for(pilot, lambda p=pane: p.report is not None and not p.running, what="the checklist")
            assert shuffled(pane.report) == command_line
            await pilot.press("5")
            await settle(app, pilot)
            app.query_one("#shuffle", Checkbox).value = False
            await settle(app, pilot)
            await pilot.press("4")
            await pilot.press("r")  # checked again, after the batches pane's shuffle was unticked
            await wait_for(pilot, lambda p=pane: p.report is not None and not p.running, what="the checklist")
            assert shuffled(pane.report) == command_line


# ---------------------------------------------------------------------- issue 9: keys, focus, superseded work
async def test_esc_leaves_a_text_field_then_pane_keys_and_q_work_and_focus_is_marked(tmp_path, monkeypatch):
    """Issue 9, item 1: after a path and Enter, Esc leaves the field; 2 switches panes, q quits."""
    monkeypatch.chdir(tmp_path)
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "builtin")
        await pilot.press("tab")
        path_input, root_input = app.query_one("#path", Input), app.query_one("#root", Input)
        await wait_for(pilot, lambda: app.focused is path_input)
        # the focused field is marked, not only by a 5% tint: its colour and its row's label differ
        assert path_input.styles.background != root_input.styles.background
        path_label = path_input.parent.query_one(".field-label")
        root_label = root_input.parent.query_one(".field-label")
        await wait_for(pilot, lambda: path_label.styles.text_style.reverse, what="the label in reverse")
        assert not root_label.styles.text_style.reverse
        await pilot.press(*"nope", "enter")
        await wait_for(pilot, lambda: "no such file" in str(app.query_one("#open-status", Static).render()))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.focused, Input)
        await wait_for(pilot, lambda: "1-6" in screen_text(app) and "quit" in screen_text(app), what="footer")
        await pilot.press("2")
        await wait_for(pilot, lambda: app.query_one("#tabs").active == "preview", what="the 2 key")
        assert path_input.value == "nope"  # nothing was typed into the field
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit_renderables is not None and not app.is_running, what="q")


async def test_a_superseded_open_does_not_hide_the_newer_ones_progress(monkeypatch, tmp_path):
    """Issue 9, item 4: the first open, cancelled by a second, must not report over the second."""
    import threading

    import dataloupe.core.readers
    from dataloupe.core.errors import Cancelled
    from dataloupe.core.progress import Progress

    real_open = dataloupe.core.readers.open_dataset
    second_reported, first_ended, release = threading.Event(), threading.Event(), threading.Event()

    def gated_open(spec, progress=None, cancel=None):
        if spec.source.endswith("first"):
            try:
                cancel.wait(30)
                second_reported.wait(10)  # fail after the second open has shown its progress
                raise Cancelled()
            finally:
                first_ended.set()
        if spec.source.endswith("second"):
            progress(Progress("reading the second", 1, 10))
            second_reported.set()
            release.wait(10)
            return real_open(DatasetSpec("digits"), cancel=cancel)
        return real_open(spec, progress=progress, cancel=cancel)

    monkeypatch.setattr(dataloupe.core.readers, "open_dataset", gated_open)
    monkeypatch.chdir(tmp_path)
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        status = app.query_one("#open-status", Static)
        await pilot.press("1")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "builtin")
        await pilot.press("tab", *"first", "enter")
        await wait_for(pilot, lambda: "first" in str(status.render()), what="the first open")
        try:
            await pilot.press("ctrl+u", *"second", "enter")
            await wait_for(pilot, lambda: first_ended.is_set(), what="the first open to end")
            await pilot.pause(0.3)  # its failure, had it been posted, is on screen by now
            assert "reading the second" in str(status.render())
            assert app.query_one("#open-progress").display
            assert not any("cancelled" in n.message for n in app._notifications)
        finally:
            release.set()
        await wait_for(pilot, lambda: "✓ opened" in str(status.render()), what="the second open")


async def test_an_open_that_reports_a_finished_stage_shows_no_full_bar(monkeypatch):
    """Issue 9, item 12: a stage at 100% while opening goes on is an indeterminate bar, not 100%."""
    import threading

    from textual.widgets import ProgressBar

    import dataloupe.core.readers
    from dataloupe.core.progress import Progress

    real_open = dataloupe.core.readers.open_dataset
    reported, release = threading.Event(), threading.Event()

    def slow_open(spec, progress=None, cancel=None):
        progress(Progress("listing files", 40, 40))  # the list is read; decoding goes on
        reported.set()
        release.wait(10)
        return real_open(DatasetSpec("digits"), cancel=cancel)

    app = build_app(AppOptions(open_on_start=False))
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(dataloupe.core.readers, "open_dataset", slow_open)
        await wait_for(pilot, lambda: app.first_paint is not None)
        await pilot.press("ctrl+o")
        bar = app.query_one("#open-progress", ProgressBar)
        try:
            await wait_for(pilot, lambda: "listing files" in str(app.query_one("#open-status").render()))
            assert bar.total is None  # indeterminate: it moves, and never says 100%
        finally:
            release.set()
        await wait_for(pilot, lambda: app.handle is not None, what="the open")


async def test_preview_wording_label_and_a_page_that_wraps():
    """Issue 9, item 14: "label 3" not "label 3 (3)"; a grid page past the end wraps in words."""
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        info = info_text(app)
        assert "label 0\n" in info and "(0)" not in info
        await pilot.press("s", "m")  # the test split (359 samples), as a grid
        await wait_for(pilot, lambda: info_text(app).startswith("samples 0–"))
        await pilot.press("right", "right")
        await wait_for(pilot, lambda: info_text(app).startswith("samples 2–"))
        await pilot.press("pageup")  # back a page from sample 2: the page runs past the last sample
        await wait_for(pilot, lambda: " and 0–" in info_text(app).split("\n")[0], what="the wrapped page")
        first = info_text(app).split("\n")[0]
        assert "–358 and 0–" in first and first.endswith("of 359"), first


async def test_the_offline_message_names_the_apps_download_box(tmp_path):
    """Issue 9, item 14: in the app the fix is the download checkbox, not a command-line flag."""
    from textual.widgets import Select

    app = build_app(AppOptions(open_on_start=False))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.first_paint is not None)
        app.query_one("#builtin", Select).value = "mnist"
        app.query_one("#root", Input).value = str(tmp_path)
        await pilot.press("ctrl+o")
        status = app.query_one("#open-status", Static)
        await wait_for(pilot, lambda: "not under" in str(status.render()), timeout=60, what="the failure")
        assert "tick download" in str(status.render())
