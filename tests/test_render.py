"""Samples drawn as text: shapes, aspect, colour, ASCII, normalized values, grids."""

from __future__ import annotations

import numpy as np
import pytest

from dataloupe.core.render import (
    ASCII_RAMP,
    HALF_BLOCK,
    MIN_TILE_PX,
    GridLayout,
    fit_size,
    grid_layout,
    render,
    render_features,
    render_grid,
    render_table_rows,
    resize_area,
    to_unit,
)


def test_half_block_draws_two_pixel_rows_per_cell():
    img = np.zeros((1, 4, 3), np.uint8)
    img[0, 0, :] = 255  # top row white
    out = render(img, 80, 24, upscale=False)
    assert (out.height, out.width) == (2, 3)
    assert set(out.lines()[0]) == {HALF_BLOCK}
    assert out.fg[0, 0].tolist() == [255, 255, 255] and out.bg[0, 0].tolist() == [0, 0, 0]


def test_grey_image_uses_grey_colours_and_rgb_uses_colour():
    grey = render(np.random.default_rng(0).random((1, 6, 6)), 40, 20, upscale=False)
    assert np.all(grey.fg[..., 0] == grey.fg[..., 1]) and np.all(grey.fg[..., 1] == grey.fg[..., 2])
    rgb = np.zeros((3, 2, 2), np.float32)
    rgb[0] = 1.0  # pure red
    out = render(rgb, 40, 20, upscale=False)
    assert out.fg[0, 0].tolist() == [255, 0, 0]


def test_large_images_shrink_to_fit_and_keep_aspect():
    h, w = fit_size(28, 28, 20, 40)
    assert w <= 20 and h <= 80 and abs(h - w) <= 1
    out = render(np.ones((1, 64, 32)), 10, 10)
    assert out.width <= 10 and out.height <= 10
    assert out.height * 2 / out.width == pytest.approx(64 / 32, rel=0.25)


def test_small_images_grow_by_a_whole_factor():
    out = render(np.ones((1, 8, 8)), 40, 20)
    assert (out.width, out.height) == (40, 20)  # 8×8 → 40×40 pixels → 40 cells × 20 rows


def test_area_resize_averages():
    img = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert resize_area(img, 1, 1)[0, 0] == pytest.approx(0.5)


def test_ascii_mode_is_pure_ascii_and_follows_brightness():
    img = np.zeros((1, 4, 4), np.float32)
    img[0, :, 2:] = 1.0
    out = render(img, 80, 24, mode="ascii", upscale=False)
    text = out.plain()
    assert text.isascii()
    assert out.lines()[0] == ASCII_RAMP[0] * 2 + ASCII_RAMP[-1] * 2
    assert not out.colored.any()


def test_normalized_images_with_negative_values_still_draw():
    x = np.full((1, 4, 4), -0.42, np.float32)
    x[0, 0:2, 1:3] = 2.8  # one full cell row bright
    unit = to_unit(x)
    assert unit.min() == 0.0 and unit.max() == 1.0
    out = render(x, 10, 10, mode="ascii", upscale=False)
    assert "@" in out.plain()


def test_uint8_and_raw_ranges_map_to_unit():
    assert to_unit(np.array([[0, 255]], np.uint8)).tolist() == [[0.0, 1.0]]
    assert to_unit(np.array([[0.0, 8.0, 16.0]])).tolist() == [[0.0, 0.5, 1.0]]  # digits 0..16
    assert to_unit(np.array([[0.0, 0.5]])).tolist() == [[0.0, 0.5]]  # already 0..1


def test_grid_tiles_images_with_captions():
    images = [np.full((1, 8, 8), k / 10) for k in range(10)]
    layout = GridLayout(8, 8, 2, 5)
    grid = render_grid(images, [f"c{k}" for k in range(10)], 20, 40, mode="ascii", layout=layout)
    lines = grid.lines()
    # 8 px wide + 1 gap → 2 across; 4 rows of cells + 1 caption row per tile
    assert len(lines) == 5 * 5 and grid.width == 17
    assert "c0" in lines[4] and "c1" in lines[4] and "c2" in lines[9]
    assert lines[0][:8] == ASCII_RAMP[0] * 8 and lines[20][9:17] == ASCII_RAMP[round(0.9 * 9)] * 8


def test_grid_layout_holds_as_many_as_fit_and_shrinks_large_images():
    mnist = grid_layout(28, 28, 48, 20)  # the preview pane at 80×24
    assert mnist.count >= 12 and mnist.pixel_w < 28  # native 28×28 would hold one
    digits = grid_layout(8, 8, 48, 20)
    assert digits.pixel_w >= 8 and digits.count >= 12
    batch = grid_layout(28, 28, 48, 20, count=64)  # all 64 images of a batch, as large as fits
    assert batch.count >= 64 and batch.pixel_w >= MIN_TILE_PX
    fits = grid_layout(28, 28, 200, 100, count=10)
    assert fits.pixel_w == 32 and fits.count >= 10  # room to spare: drawn larger than native


def test_ansi_output_has_colour_codes_and_resets():
    text = render(np.eye(4)[None], 10, 10, upscale=False).to_ansi()
    assert "\x1b[38;2;" in text and text.endswith("\x1b[0m")


def test_feature_rows():
    lines = render_features(["alcohol", "pH"], np.array([9.4, 3.51]), np.array([0.25, 1.0]), bar_width=4)
    assert lines[0].startswith("alcohol") and lines[0].endswith("█░░░")
    assert lines[1].endswith("████")


def test_table_rows_one_line_per_sample_with_a_strip_low_to_high():
    x = np.array([[1.0, 5.0, np.nan], [2.0, 3.0, 4.0]])
    unit = np.array([[0.0, 1.0, np.nan], [0.5, 0.25, 1.0]])
    lines = render_table_rows(x, unit, [7, 12], [0, 1], width=60)
    assert lines[0].startswith("sample") and "low ▁ … █ high" in lines[0]
    assert lines[1].split()[:3] == ["7", "0", "▁█?"]
    assert lines[2].split()[:2] == ["12", "1"] and lines[2].endswith("2 3 4")
    ascii_lines = render_table_rows(x, unit, [7, 12], [0, 1], width=14, ascii_only=True)
    assert all(len(line) <= 14 for line in ascii_lines) and "@" in ascii_lines[1]


def test_table_rows_of_a_users_loader_show_no_made_up_sample_number():
    """A user's DataLoader does not say which samples it drew: the column shows "-", not -1."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    lines = render_table_rows(x, x / 4, [-1, -1], [0, 1], width=60)
    assert [line.split()[0] for line in lines[1:]] == ["-", "-"]
    assert "-1" not in "".join(lines)
