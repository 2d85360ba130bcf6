"""With ``--ascii`` (or a locale that is not UTF-8) every character on screen is 7-bit (issue 9, item 16).

Drives each of the six panes at 80×24, with its content drawn (counts, checklist, a batch, a run's
charts, a toast, the settings form), and reads the whole screen as exported.
"""

from __future__ import annotations

import re

from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.training_pane import TrainingPane
from dataloupe.tui.widgets.accuracy_chart import AccuracyChart
from dataloupe.tui.widgets.per_class_chart import PerClassChart

from support.makers import training_snapshot as snapshot
from support.pilot import screen_lines, screen_text, settle, wait_for


def non_ascii(app) -> str:
    """The characters above 127 on screen, each once."""
    return "".join(sorted({ch for ch in screen_text(app) if ord(ch) > 127}))


async def test_every_pane_is_7_bit_ascii_under_ascii():
    app = build_app(AppOptions(ascii=True))
    seen: dict[str, str] = {}
    async with app.run_test(size=(80, 24)) as pilot:

        async def look(name: str, *keys: str) -> None:
            for key in keys:
                await pilot.press(key)
                await settle(app, pilot)
            await pilot.pause()
            seen[name] = non_ascii(app)

        await settle(app, pilot)
        await look("1 dataset", "1")
        await look("2 preview", "2")
        await look("2 preview grid", "m")
        await look("3 balance", "3")
        await look("3 balance, one split", "b")
        await look("4 checklist", "4")
        await look("5 batches", "5", "n")
        await look("5 batches settings", "b")
        await pilot.press("escape")
        await look("6 training settings", "6")
        pane = app.query_one(TrainingPane)
        await look("6 training, a toast", "s")  # no model to save: a warning toast
        pane.running = True
        pane.post_message(TrainingPane.Progress(snapshot()))
        pane.show_view(1)
        await wait_for(pilot, lambda: app.query_one(AccuracyChart).points == 12, what="the charts")
        await look("6 training curves")
        lines = "\n".join(screen_lines(app))
        assert re.search(r"#+-+ +28%", lines)  # done and left differ by glyph, not colour only
        pane.post_message(TrainingPane.Finished(snapshot("finished", eta=None), None))
        pane.show_view(2)
        await wait_for(pilot, lambda: len(app.query_one(PerClassChart).bars) == 10, what="the bars")
        await look("6 training classes")
        assert "true v / predicted >" in screen_text(app)  # the matrix is drawn, in ASCII
    assert seen == {name: "" for name in seen}, seen


async def test_without_ascii_the_screen_keeps_its_unicode():
    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        assert non_ascii(app)  # the filter is only for --ascii
        await pilot.press("2", "a")  # the preview's samples in ASCII: the rest of the screen stays as it is
        await settle(app, pilot)
        assert app.ascii and not app.ascii_screen and "▏" in non_ascii(app)


def test_a_c_locale_starts_the_app_in_ascii(monkeypatch):
    import dataloupe.tui.app
    from dataloupe.tui.cli import entry

    started = []

    class FakeApp:
        return_code = 0

        def __init__(self, options) -> None:
            started.append(options)

        def run(self) -> None:
            pass

    monkeypatch.setattr(dataloupe.tui.app, "build_app", FakeApp)
    for env, expected in (({"LANG": "C.UTF-8"}, False), ({"LANG": "C"}, True), ({"LC_ALL": "C"}, True)):
        for name in ("LANG", "LC_ALL", "LC_CTYPE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert entry.main(["digits"]) == 0
        assert started[-1].ascii is expected, env
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    entry.main(["digits", "--ascii"])
    assert started[-1].ascii is True
