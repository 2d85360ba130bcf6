"""Samples drawn as text: half-block Unicode in grey or colour, or a pure-ASCII ramp.

One function, :func:`render`, turns one image into a :class:`TextImage`; :func:`render_grid`
tiles many with a caption under each. Both work on numpy arrays (C×H×W, H×W or H×W×C),
so this module needs neither torch nor any UI library. Table rows are drawn here too:
:func:`render_features` lists one row's features with a bar each (the preview), and
:func:`render_table_rows` draws several rows as one line each (a batch). The app turns a ``TextImage``
into styled segments; a script prints :meth:`TextImage.to_ansi`.

Half-block: every character cell shows two pixels, one above the other: ``▀`` with the
top pixel as foreground colour and the bottom pixel as background. Terminal cells are
about twice as tall as they are wide, so pixels come out roughly square.

    python -c "from dataloupe.core.render import render; import numpy as np; \
print(render(np.eye(16), 40, 20).to_ansi())"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HALF_BLOCK = "▀"
ASCII_RAMP = " .:-=+*#%@"
"""Dark to bright, for a dark terminal background."""


@dataclass(frozen=True)
class TextImage:
    """A picture made of character cells, each with an optional foreground and background colour."""

    chars: np.ndarray
    """rows × cols of one-character strings."""
    fg: np.ndarray
    """rows × cols × 3 uint8 foreground colours."""
    bg: np.ndarray
    """rows × cols × 3 uint8 background colours."""
    colored: np.ndarray
    """rows × cols bool: False cells use the terminal's default colours (captions, ASCII)."""

    @property
    def height(self) -> int:
        return int(self.chars.shape[0])

    @property
    def width(self) -> int:
        return int(self.chars.shape[1]) if self.chars.ndim == 2 else 0

    def lines(self) -> list[str]:
        """The characters of each row, without colour."""
        return ["".join(row) for row in self.chars]

    def plain(self) -> str:
        """The picture as plain text (meaningful in ASCII mode)."""
        return "\n".join(line.rstrip() for line in self.lines())

    def to_ansi(self) -> str:
        """The picture with 24-bit colour escape codes, for a terminal."""
        out: list[str] = []
        for r in range(self.height):
            parts: list[str] = []
            last = None
            for c in range(self.width):
                if self.colored[r, c]:
                    key = (tuple(self.fg[r, c]), tuple(self.bg[r, c]))
                    if key != last:
                        (fr, fgc, fb), (br, bgc, bb) = key
                        parts.append(f"\x1b[38;2;{fr};{fgc};{fb};48;2;{br};{bgc};{bb}m")
                        last = key
                elif last is not None:
                    parts.append("\x1b[0m")
                    last = None
                parts.append(self.chars[r, c])
            if last is not None:
                parts.append("\x1b[0m")
            out.append("".join(parts))
        return "\n".join(out)


def _blank(rows: int, cols: int) -> TextImage:
    return TextImage(
        chars=np.full((rows, cols), " ", dtype="<U1"),
        fg=np.zeros((rows, cols, 3), np.uint8),
        bg=np.zeros((rows, cols, 3), np.uint8),
        colored=np.zeros((rows, cols), bool),
    )


# ---------------------------------------------------------------------- values to pixels
def to_unit(x: np.ndarray) -> np.ndarray:
    """An image as H×W (grey) or H×W×3 (colour) floats in 0..1, however it was scaled.

    - already in 0..1: kept as is;
    - uint8 (or values above 16 and at most 255): divided by 255, so a dim image stays dim;
    - anything else (normalized, negative, 0..16): stretched from its own minimum to maximum.
    """
    a = np.asarray(x)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)  # C×H×W → H×W×C
    elif a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] in (1, 3, 4) and a.shape[0] < a.shape[-1]:
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 3 and a.shape[-1] == 4:
        a = a[..., :3]
    if a.ndim == 1:
        a = a[None, :]
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    f = a.astype(np.float32)
    finite = np.isfinite(f)
    if not finite.all():
        f = np.where(finite, f, 0.0)
    lo, hi = (float(f.min()), float(f.max())) if f.size else (0.0, 1.0)
    if lo >= 0.0 and hi <= 1.0:
        return f
    if lo >= 0.0 and 16.0 < hi <= 255.0 and np.all(f == np.round(f)):
        return f / 255.0
    span = hi - lo
    return (f - lo) / span if span > 0 else np.zeros_like(f)


def resize_area(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Shrink (area average) or enlarge (nearest) an H×W or H×W×C image to out_h × out_w."""
    h, w = img.shape[:2]
    if (h, w) == (out_h, out_w):
        return img
    if out_h >= h and out_w >= w:
        rows = (np.arange(out_h) * h // out_h).astype(np.intp)
        cols = (np.arange(out_w) * w // out_w).astype(np.intp)
        return img[rows][:, cols]
    # area average: sum over the source pixels that fall in each target pixel
    r_edges = np.linspace(0, h, out_h + 1).astype(np.intp)
    c_edges = np.linspace(0, w, out_w + 1).astype(np.intp)
    r_start = np.minimum(r_edges[:-1], h - 1)
    c_start = np.minimum(c_edges[:-1], w - 1)
    summed = np.add.reduceat(np.add.reduceat(img, r_start, axis=0), c_start, axis=1)
    r_count = np.maximum(r_edges[1:] - r_edges[:-1], 1)
    c_count = np.maximum(c_edges[1:] - c_edges[:-1], 1)
    count = np.outer(r_count, c_count)
    if img.ndim == 3:
        count = count[..., None]
    return summed / count


def fit_size(h: int, w: int, max_cols: int, max_rows: int, upscale: bool = True) -> tuple[int, int]:
    """Pixel size (height, width) that fits max_cols × max_rows cells (two pixel rows per cell), keeping aspect.

    Larger images shrink to fit; smaller ones grow by a whole factor when ``upscale``.
    """
    max_w, max_h = max(1, max_cols), max(2, 2 * max_rows)
    if w > max_w or h > max_h:
        s = min(max_w / w, max_h / h)
        return max(1, int(h * s)), max(1, int(w * s))
    if upscale:
        k = max(1, min(max_w // w, max_h // h))
        return h * k, w * k
    return h, w


# ---------------------------------------------------------------------- one image
def render(
    x: np.ndarray,
    max_cols: int = 80,
    max_rows: int = 24,
    mode: str = "blocks",
    upscale: bool = True,
) -> TextImage:
    """Draw one image (C×H×W, H×W or H×W×C; any value range) in at most max_cols × max_rows cells.

    ``mode`` is "blocks" (half-block Unicode, grey or colour) or "ascii" (a brightness ramp).
    """
    unit = to_unit(x)
    h, w = unit.shape[:2]
    out_h, out_w = fit_size(h, w, max_cols, max_rows, upscale)
    img = np.clip(resize_area(unit, out_h, out_w), 0.0, 1.0)
    if out_h % 2:  # pad to an even number of pixel rows with black
        pad = np.zeros((1, *img.shape[1:]), img.dtype)
        img = np.concatenate([img, pad], axis=0)
    top, bottom = img[0::2], img[1::2]
    rows, cols = top.shape[:2]
    if mode == "ascii":
        lum = (top + bottom) / 2.0
        if lum.ndim == 3:
            lum = lum @ np.array([0.299, 0.587, 0.114], np.float32)
        idx = np.clip((lum * (len(ASCII_RAMP) - 1) + 0.5).astype(np.intp), 0, len(ASCII_RAMP) - 1)
        ramp = np.array(list(ASCII_RAMP), dtype="<U1")
        image = _blank(rows, cols)
        image.chars[:] = ramp[idx]
        return image

    def rgb(a: np.ndarray) -> np.ndarray:
        a = (a * 255.0 + 0.5).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=-1) if a.ndim == 2 else a

    return TextImage(
        chars=np.full((rows, cols), HALF_BLOCK, dtype="<U1"),
        fg=rgb(top),
        bg=rgb(bottom),
        colored=np.ones((rows, cols), bool),
    )


# ---------------------------------------------------------------------- many images
@dataclass(frozen=True)
class GridLayout:
    """How a grid of images is laid out: the size each is drawn at, and how many fit."""

    pixel_h: int
    """Height each image is drawn at, in pixels (two per character row)."""
    pixel_w: int
    """Width each image is drawn at, in pixels (one per character column)."""
    across: int
    """Tiles per row."""
    down: int
    """Rows of tiles."""

    @property
    def count(self) -> int:
        """Tiles in the grid."""
        return self.across * self.down


MIN_TILE_PX = 6
"""Images are never drawn narrower than this in a grid: below it nothing can be recognised."""


def grid_layout(
    img_h: int,
    img_w: int,
    max_cols: int,
    max_rows: int,
    *,
    count: int | None = None,
    min_tiles: int = 12,
    gap: int = 1,
    caption: bool = True,
) -> GridLayout:
    """Choose the tile size for a grid in a max_cols × max_rows box.

    With ``count``, the largest tiles (up to twice the native size) that fit all ``count``
    images, or the smallest allowed when they cannot all fit. Without it, the largest tiles
    that still give at least ``min_tiles`` images (as many samples as the pane holds).
    """
    max_w = max(img_w, min(2 * img_w, 32))
    best: GridLayout | None = None
    for w in range(max_w, MIN_TILE_PX - 1, -1):
        h = max(1, round(img_h * w / img_w))
        across = (max_cols + gap) // (w + gap)
        down = max_rows // ((h + 1) // 2 + (1 if caption else 0))
        layout = GridLayout(h, w, max(1, across), max(1, down))
        if across < 1 or down < 1:
            best = layout
            continue
        need = count if count is not None else min_tiles
        if across * down >= need:
            return layout
        best = layout
    if (
        count is not None and best is not None
    ):  # cannot fit them all: the smallest tiles, as many rows as needed
        return GridLayout(best.pixel_h, best.pixel_w, best.across, -(-count // best.across))
    return best or GridLayout(img_h, img_w, 1, 1)


def render_grid(
    images: list[np.ndarray],
    captions: list[str],
    max_cols: int,
    max_rows: int,
    mode: str = "blocks",
    gap: int = 1,
    layout: GridLayout | None = None,
) -> TextImage:
    """Tile images left to right, top to bottom, each with its caption below.

    Tiles are drawn at ``layout``'s size; without one, the size that fits all the images.
    """
    if not images:
        return _blank(1, 1)
    if layout is None:
        h, w = to_unit(images[0]).shape[:2]
        layout = grid_layout(h, w, max_cols, max_rows, count=len(images), gap=gap)
    tiles = []
    for x in images:
        unit = np.clip(resize_area(to_unit(x), layout.pixel_h, layout.pixel_w), 0.0, 1.0)
        tiles.append(render(unit, 10_000, 10_000, mode, upscale=False))
    tw = max(t.width for t in tiles)
    th = max(t.height for t in tiles)
    across = max(1, min(len(tiles), layout.across))
    down = -(-len(tiles) // across)
    rows, cols = down * (th + 1), across * (tw + gap) - gap
    canvas = _blank(rows, cols)
    for k, (tile, cap) in enumerate(zip(tiles, captions, strict=False)):
        r0, c0 = (k // across) * (th + 1), (k % across) * (tw + gap)
        canvas.chars[r0 : r0 + tile.height, c0 : c0 + tile.width] = tile.chars
        canvas.fg[r0 : r0 + tile.height, c0 : c0 + tile.width] = tile.fg
        canvas.bg[r0 : r0 + tile.height, c0 : c0 + tile.width] = tile.bg
        canvas.colored[r0 : r0 + tile.height, c0 : c0 + tile.width] = tile.colored
        text = cap[:tw].center(tw)
        canvas.chars[r0 + th, c0 : c0 + tw] = list(text)
    return canvas


# ---------------------------------------------------------------------- table rows
def render_features(
    names: list[str],
    values: np.ndarray,
    unit: np.ndarray | None = None,
    bar_width: int = 20,
    ascii_only: bool = False,
) -> list[str]:
    """One line per feature: name, value, and a bar showing where ``unit`` (0..1) puts it.

    Features without a name (a user's Dataset has none to give) are named by their place: "x[0]"."""
    names = [*names, *(f"x[{k}]" for k in range(len(names), len(values)))]
    width = max((len(n) for n in names), default=0)
    full, empty = ("#", ".") if ascii_only else ("█", "░")
    lines = []
    for k, (name, value) in enumerate(zip(names, values, strict=False)):
        u = float(unit[k]) if unit is not None else float("nan")
        if np.isfinite(u):
            n = int(round(np.clip(u, 0.0, 1.0) * bar_width))
            bar = full * n + empty * (bar_width - n)
        else:
            bar = " " * bar_width
        lines.append(f"{name:<{width}}  {float(value):>10.4g}  {bar}")
    return lines


SPARK = "▁▂▃▄▅▆▇█"
"""Low to high, one character per feature in :func:`render_table_rows`."""


def render_table_rows(
    x: np.ndarray,
    unit: np.ndarray,
    indices: Sequence[int],
    labels: Sequence[int | str],
    width: int,
    ascii_only: bool = False,
) -> list[str]:
    """Several table rows, one line each: index, label, a strip of its features (low ▁ … █ high), values.

    ``x`` holds the values shown (N×F) and ``unit`` the same rows scaled to 0..1 for the strip;
    ``labels`` are label numbers or short class names; lines are cut at ``width`` characters. An
    index below 0 is unknown (a user's DataLoader does not say which samples it drew) and shows as "-".
    """
    ramp = ASCII_RAMP if ascii_only else SPARK
    key = "low . @ high" if ascii_only else "low ▁ … █ high"
    lines = [f"{'sample':>6} {'y':>2}  features, {key}"[:width]]
    for k, (index, label) in enumerate(zip(indices, labels, strict=False)):
        u = np.asarray(unit[k], dtype=np.float64)
        cells = np.rint(np.clip(np.nan_to_num(u), 0.0, 1.0) * (len(ramp) - 1)).astype(int)
        strip = "".join(ramp[c] if np.isfinite(v) else "?" for c, v in zip(cells, u, strict=True))
        values = " ".join(f"{v:.3g}" for v in x[k])
        lines.append(f"{index if index >= 0 else '-':>6} {label:>2}  {strip}  {values}"[:width])
    return lines
