"""Terminals without colour or without Unicode: the ASCII stand-ins, the locale test, and ``check`` under NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from rich.cells import cell_len

from dataloupe.tui.terminal import (
    ASCII_GLYPHS,
    MONO_GLYPHS,
    UNICODE_GLYPHS,
    glyphs,
    locale_is_utf8,
    no_color,
    to_ascii,
)


def test_to_ascii_keeps_every_cell_in_place():
    text = "┌─┬┐│├┼┤└┴┘╭╮╰╯━╸╺┃╋═║ ⣿⠀▁▄█ ▐X▌ é ✓⚠✗ · … × ÷ ≤ → 日本"
    out = to_ascii(text)
    assert out.isascii()
    assert len(out) == cell_len(text)
    assert out.startswith("+-++|++++++++++---|+-| . _=# |X| e +!X")
    assert "+!X" in out and "e" in out and "?" * 4 in out  # wide characters keep their two cells


def test_locale_is_utf8_reads_lc_all_then_lc_ctype_then_lang():
    assert locale_is_utf8({"LANG": "en_US.UTF-8"})
    assert locale_is_utf8({"LANG": "C.utf8"})
    assert not locale_is_utf8({"LANG": "en_US.UTF-8", "LC_ALL": "C"})
    assert not locale_is_utf8({"LANG": "en_US.ISO-8859-1"})
    assert not locale_is_utf8({})
    # Python coerces a C locale into LC_CTYPE=C.UTF-8 at start: that is still LANG=C's terminal
    assert not locale_is_utf8({"LANG": "C", "LC_CTYPE": "C.UTF-8"})
    assert locale_is_utf8({"LANG": "C", "LC_CTYPE": "en_GB.UTF-8"})


def test_no_color_follows_no_color_org():
    assert no_color({"NO_COLOR": "1"}) and not no_color({"NO_COLOR": ""}) and not no_color({})


def test_series_differ_by_glyph_without_colour_and_stay_ascii_in_ascii_mode():
    assert glyphs(ascii=False, color=True) is UNICODE_GLYPHS
    for g in (MONO_GLYPHS, ASCII_GLYPHS):
        assert g.lines[0] != g.lines[1] and g.bars[0] != g.bars[1]
    assert glyphs(ascii=True, color=False) is ASCII_GLYPHS
    assert all(m.isascii() and len(m) == 1 for m in (*ASCII_GLYPHS.lines, *ASCII_GLYPHS.bars))


def _check_in_a_terminal(env: dict[str, str]) -> str:
    """``dataloupe check digits`` with stdout a pseudo-terminal; what the terminal received."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", "check", "digits"],
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=120)
    return b"".join(chunks).decode("utf-8", "replace")


def test_check_in_a_terminal_prints_colour_codes_unless_no_color():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _check_in_a_terminal(env)
    assert "verdict:" in coloured and "\x1b[3" in coloured  # a terminal gets colours...
    plain = _check_in_a_terminal({**env, "NO_COLOR": "1"})
    assert "verdict:" in plain and "\x1b" not in plain  # ...unless NO_COLOR says no


async def test_checkboxes_and_radio_buttons_show_their_state_by_glyph():
    from textual.widgets import Checkbox

    from dataloupe.tui.app import AppOptions, build_app

    from support.pilot import screen_lines, settle

    def screen_text(app) -> str:
        return "\n".join(screen_lines(app))

    app = build_app(AppOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await pilot.pause()
        assert "[ ] download" in screen_text(app) and "(*) train   ( ) test" in screen_text(app)
        app.query_one("#download", Checkbox).value = True
        await pilot.pause()
        assert "[x] download" in screen_text(app)  # on and off differ without colour


def test_the_app_draws_at_120_frames_a_second_unless_the_user_chose_a_rate():
    from dataloupe.tui.terminal import FRAME_RATE, set_frame_rate

    environ: dict[str, str] = {}
    assert set_frame_rate(environ) == str(FRAME_RATE) == "120" and environ == {"TEXTUAL_FPS": "120"}
    chosen = {"TEXTUAL_FPS": "30"}
    assert set_frame_rate(chosen) == "30" and chosen == {"TEXTUAL_FPS": "30"}


def test_the_command_sets_the_frame_rate_before_textual_reads_it():
    """Textual reads TEXTUAL_FPS once, when imported: ``main`` sets it first thing."""
    code = (
        "import os, sys; from dataloupe.tui.cli.entry import main; "
        "assert 'textual' not in sys.modules\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "import textual.constants as c; print('fps', c.MAX_FPS)"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "fps 120", out.stderr[-2000:]
