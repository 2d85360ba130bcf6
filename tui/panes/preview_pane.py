"""Samples drawn as text, one at a time or as a grid, with label, shape, dtype and range."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from dataloupe.core.data.pipeline import MODES
from dataloupe.tui.panes.base import Pane
from dataloupe.tui.screens.jump_screen import JumpScreen
from dataloupe.tui.widgets.sample_view import SampleView, text_strips, to_strips
from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle, SampleInfo


@dataclass(frozen=True)
class PreviewRequest:
    """What to draw: everything the worker needs, read on the UI thread."""

    serial: int
    """Increases with every request; a result for an older one is dropped."""
    handle: DatasetHandle
    """The dataset to read."""
    split: str
    """The split to read."""
    index: int
    grid: bool
    ascii: bool
    mode: str
    cols: int
    rows: int


class PreviewPane(Pane):
    """Step through samples; the drawing happens in a worker, newest request wins."""

    # One footer entry per pair of keys, to fit 80 columns.
    BINDINGS = [
        Binding("right", "move(1)", "sample", key_display="←→"),
        Binding("left", "move(-1)", "previous sample", show=False),
        Binding("pagedown", "page(1)", "page", key_display="PgUp/Dn"),
        Binding("pageup", "page(-1)", "previous page", show=False),
        Binding("g", "jump", "go to"),
        Binding("m", "grid", "grid"),
        Binding("a", "ascii", "ascii"),
        Binding("t", "transform", "scale"),
        Binding("s", "split", "split"),
        Binding("c", "copy_source", "copy path", show=False),  # the info says so beside the path
        Binding("home", "move_to(0)", "first", show=False),
        Binding("end", "move_to(-1)", "last", show=False),
    ]

    @dataclass
    class Rendered(Message):
        """A worker finished drawing a request."""

        request: PreviewRequest
        """What was drawn."""
        strips: list[Strip]
        """The picture, row by row."""
        info: Text
        """Label, shape, dtype and range."""
        count: int
        """Samples drawn (1, or the grid's size)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.index = 0
        """First sample shown."""
        self.grid = False
        """Grid of samples instead of one."""
        self.mode = "scaled"
        """Pipeline mode shown: raw, scaled or normalized."""
        self.per_page = 1
        """Samples the last grid held (a page)."""
        self.copied: str | None = None
        """What ``c`` last copied to the clipboard."""
        self.last_info: Text = Text("")
        """The info text last shown (for tests)."""
        self._serial = 0
        """Serial number of the newest request."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield SampleView(id="sample-view")
            yield Static("Open a dataset to see its samples (key 1).", id="sample-info")

    def on_mount(self) -> None:
        self.can_focus = True

    def pane_activated(self) -> None:
        self.focus()

    def on_resize(self) -> None:
        if self.handle is not None:
            self.request_render()

    # ------------------------------------------------------------------ actions
    def _length(self) -> int:
        if self.handle is None or self.split_name not in self.handle.splits:
            return 0
        return self.handle.splits[self.split_name].length

    def action_move(self, delta: int) -> None:
        n = self._length()
        if n:
            self.index = (self.index + delta) % n
            self.request_render()

    def action_move_to(self, index: int) -> None:
        n = self._length()
        if n:
            self.index = index % n
            self.request_render()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * (self.per_page if self.grid else 10))

    def action_grid(self) -> None:
        self.grid = not self.grid
        self.request_render()

    def action_ascii(self) -> None:
        self.app.ascii = not self.app.ascii
        self.request_render()

    def action_transform(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.request_render()

    def action_split(self) -> None:
        self.app.next_split()

    def action_copy_source(self) -> None:
        """Copy the shown sample's file path (or table row) to the clipboard, by OSC 52 (works over SSH)."""
        if self.handle is None or self.split_name not in self.handle.splits:
            return
        source = sample_source(self.handle.splits[self.split_name], self.index, full=True)
        if source is None:
            self.app.notify(f"sample {self.index:,} has no file or table row of its own to copy.")
            return
        self.app.copy_to_clipboard(source)
        self.copied = source
        self.app.notify(f"copied: {source}", timeout=4)

    def action_jump(self) -> None:
        n = self._length()
        if not n:
            return

        def done(index: int | None) -> None:
            if index is not None:
                self.action_move_to(index)

        self.app.push_screen(JumpScreen(f"Go to sample (0..{n - 1:,})", n), done)

    # ------------------------------------------------------------------ drawing
    def dataset_changed(self) -> None:
        n = self._length()
        self.index = min(self.index, n - 1) if n else 0
        self.request_render()

    def request_render(self) -> None:
        if self.handle is None or self.split_name not in self.handle.splits:
            return
        view = self.query_one(SampleView)
        size = view.size
        self._serial += 1
        request = PreviewRequest(
            serial=self._serial,
            handle=self.handle,
            split=self.split_name,
            index=self.index,
            grid=self.grid,
            ascii=self.app.ascii,
            mode=self.mode,
            cols=max(8, size.width),
            rows=max(4, size.height),
        )
        self._render_worker(request)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _render_worker(self, request: PreviewRequest) -> None:
        def job(cancel: threading.Event) -> PreviewPane.Rendered:
            return self.Rendered(request, *self._draw(request, cancel))

        def failed(text: str, error: bool) -> PreviewPane.Rendered | None:
            # drawn where the sample would be: the pane shows what it could not draw, and why
            strips = text_strips([f"Cannot draw sample {request.index}:", text])
            return self.Rendered(request, strips, Text(""), 1) if error else None

        run_job(self, job, failed, what="Drawing")

    def _draw(self, request: PreviewRequest, cancel: threading.Event) -> tuple[list[Strip], Text, int]:
        """Read and render on the worker thread. Pure: touches no widget."""
        from dataloupe.core.render import grid_layout, render, render_features, render_grid

        handle = request.handle
        split = handle.split(request.split, handle.pipeline.with_(mode=request.mode))
        n = len(split)
        style = "ascii" if request.ascii else "blocks"
        if handle.pipeline.sample_type == "table":
            x, label = split[request.index]
            unit = None  # no bars for a user's features: their range was never measured
            if not handle.pipeline.own_transform:
                raw, _ = split.raw(request.index)
                unit = handle.pipeline.with_(mode="scaled")(raw).numpy()
            lines = render_features(
                handle.feature_names or [],
                x.numpy(),
                unit,
                bar_width=max(5, request.cols - 40),
                ascii_only=request.ascii,
            )
            info = split.info(request.index, x, label)
            return text_strips(lines), self._info_text(info, split, 1), 1
        if request.grid:
            x0, label0 = split[request.index]  # read once: it sizes the tiles, leads the grid and the info
            h, w = x0.shape[-2:]
            layout = grid_layout(int(h), int(w), request.cols, request.rows)
            count = min(n, layout.count)
            images, captions = [x0.numpy()], [f"{request.index}:{split.class_name(label0)}"]
            for k in range(1, count):
                if cancel.is_set():
                    break
                i = (request.index + k) % n
                x, label = split[i]
                images.append(x.numpy())
                captions.append(f"{i}:{split.class_name(label)}")
            image = render_grid(images, captions, request.cols, request.rows, style, layout=layout)
            first = split.info(request.index, x0, label0)
            return to_strips(image), self._info_text(first, split, count), count
        x, label = split[request.index]
        image = render(x.numpy(), request.cols, request.rows, style)
        info = self._info_text(split.info(request.index, x, label), split, 1)
        if handle.reader == "code" and not torch_equal(x, split[request.index][0]):
            # read twice, the user's Dataset gave two different samples: its transform draws at random
            info.append(
                "random: your Dataset's transform draws anew at every read; this is one draw\n",
                style="italic",
            )
        return to_strips(image), info, 1

    def _info_text(self, info: SampleInfo, split, count: int) -> Text:
        n = len(split)
        lines = Text()
        if count > 1:
            lines.append(samples_range(info.index, count, n), style="bold")
            lines.append(f" of {n:,}\n")
            lines.append("first: ", style="dim")
        else:
            lines.append(f"sample {info.index:,}", style="bold")
            lines.append(f" of {n:,}\n")
        lines.append("label ", style="dim")
        # "label 1" for digits, whose names are the numbers; "label 1 (high (> 4.5))" otherwise
        named = f" ({info.class_name})" if info.class_name != str(info.label) else ""
        lines.append(f"{info.label}{named}\n", style="bold")
        lines.append("shape ", style="dim")
        lines.append(f"{info.shape_text}\n")
        lines.append("dtype ", style="dim")
        lines.append(f"{info.dtype.replace('torch.', '')}\n")
        lines.append("range ", style="dim")
        lines.append(f"{info.min:.4g} .. {info.max:.4g}\n")
        lines.append("split ", style="dim")
        lines.append(f"{split.name}\n")
        source = sample_source(split.data, info.index)
        if source is not None:  # which file to open or delete: c copies it
            lines.append("file " if split.data.files is not None else "from ", style="dim")
            lines.append(f"{source} (c copies)\n")
        lines.append("transform ", style="dim")
        lines.append(split.pipeline.describe() + "\n")
        if info.min < 0 and split.pipeline.sample_type == "image":
            lines.append("negative values: drawn stretched from min to max\n", style="italic")
        return lines

    def on_preview_pane_rendered(self, message: Rendered) -> None:
        if message.request.serial != self._serial:
            return  # a slower, older drawing finished after a newer request: never show it
        self.query_one(SampleView).show(message.strips)
        self.query_one("#sample-info", Static).update(message.info)
        self.last_info = message.info
        if message.request.grid:
            self.per_page = message.count


def samples_range(first: int, count: int, n: int) -> str:
    """ "samples 10–29", or "samples 349–358 and 0–1" for a page that wraps past the last sample."""
    last = first + count - 1
    if last < n:
        return f"samples {first:,}–{last:,}"
    return f"samples {first:,}–{n - 1:,} and 0–{last % n:,}"


def sample_source(data, index: int, full: bool = False) -> str | None:
    """Where sample ``index`` of a split (``SplitData``) comes from: its image file (relative to the
    folder, or ``full``), or its table's row counted below the header; None when it has neither."""
    import os

    files = data.files
    if files is not None and 0 <= index < len(files.paths):
        path = files.paths[index]
        if full or not files.root:
            return os.path.abspath(path)
        return os.path.relpath(path, files.root)
    if data.rows is not None and 0 <= index < len(data.rows):
        return f"{data.origin or 'the file'} row {int(data.rows[index]) + 1:,} (below the header)"
    return None


def torch_equal(a, b) -> bool:
    """Two reads of one sample are the same tensor (shape and values)."""
    import torch

    return a.shape == b.shape and bool(torch.equal(a, b))
