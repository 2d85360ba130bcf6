"""The system strip: CPU, memory and each NVIDIA GPU in one or two lines at the top of a pane.

A thread of the strip's own runs :class:`dataloupe.core.system.SystemSampler` (once a second) and
posts each :class:`~dataloupe.core.system.SystemSnapshot` as a :class:`SystemStrip.Sampled` message;
a newer one replaces an older one still queued, and the message bubbles on to the pane, which
reads the writers of its runs from it. It is a plain thread, not a Textual worker: it runs as long
as the strip is shown, and a worker that never ends would keep ``App.workers`` busy for good (a
test that waits for the workers to finish would wait forever). It stops when the strip is removed;
an unexpected error stops it with a line on the strip, never a traceback.

The first line holds CPU and memory (and ``CUDA_VISIBLE_DEVICES``), the second one cell per GPU,
shortened until every GPU fits the width; without a GPU the strip is one line that says "no GPU".
The text changes only when a figure shown changes.

    yield SystemStrip(id="watch-system")          # in a pane's compose
    self.query_one(SystemStrip).follow({"run": "logs/run.jsonl"})   # writers to look for
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from dataloupe.core.system import (
    GpuSample,
    SystemSampler,
    SystemSnapshot,
    WriterProcess,
    describe_writer,
    stall_reason,
)

if TYPE_CHECKING:
    from dataloupe.core.runlogs import RunSnapshot

GB = 1e9
STALE_AFTER = 5.0
"""Seconds without a new sample after which the strip says how old its figures are."""
COMPACT_LEGEND = " · GPU n:use/mem %"
"""Said on the first line when the GPU cells are at their most compact with memory (``0:97/89``)."""
HOT_MEMORY = 0.9
"""Share of memory in use from which a figure is drawn in the warning colour."""


class SystemStrip(Static):
    """CPU, memory and GPUs of this box, kept up to date by a sampler thread."""

    DEFAULT_CSS = """
    SystemStrip {
        height: auto;
        max-height: 2;
        padding: 0 1;
        color: $text-muted;
    }
    """

    @dataclass
    class Sampled(Message):
        """The box as last sampled; a newer sample replaces an older one still queued."""

        snapshot: SystemSnapshot
        """CPU, memory, GPUs and the writers of the runs followed."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, SystemStrip.Sampled)

    @dataclass
    class Stopped(Message):
        """The sampler stopped on an unexpected error; the strip says so and the app goes on."""

        text: str
        """What happened."""

    def __init__(self, sampler: SystemSampler | None = None, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("CPU … · memory …", id=id)
        self.sampler = sampler or SystemSampler()
        """Reads the box (in the strip's thread)."""
        self.snapshot: SystemSnapshot | None = None
        """The latest sample."""
        self.samples = 0
        """Samples received (tests wait on it)."""
        self._shown: Text | None = None
        self._stop: threading.Event | None = None

    def on_mount(self) -> None:
        self._stop = self.sampler.start(
            lambda snapshot: self.post_message(self.Sampled(snapshot)),
            on_error=lambda error: self.post_message(self.Stopped(f"{type(error).__name__}: {error}")),
        )
        self.set_interval(STALE_AFTER / 2, self._show)  # says so when samples stop coming

    def follow(self, runs: Mapping[str, str]) -> None:
        """Look for the writers of these runs (name → log path) from the next sample on."""
        self.sampler.follow(runs)

    def on_unmount(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def on_system_strip_stopped(self, message: Stopped) -> None:
        message.stop()
        self.snapshot = None
        self.update(Text(f"CPU, memory and GPU figures stopped: {message.text}", "yellow"))

    def on_system_strip_sampled(self, message: Sampled) -> None:
        # not stopped: the message goes on to the pane, which shows the writers of its runs
        self.snapshot = message.snapshot
        self.samples += 1
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        if self.snapshot is None:
            return
        text = strip_text(self.snapshot, max(20, self.content_size.width or self.size.width), time.time())
        if text != self._shown:  # a repaint only when a figure shown changed
            self._shown = text
            self.update(text)


# ---------------------------------------------------------------------- the text
def strip_text(snapshot: SystemSnapshot, width: int, now: float | None = None) -> Text:
    """The strip's one or two lines for ``width`` columns: host figures, then one cell per GPU.
    Figures older than :data:`STALE_AFTER` at ``now`` say how old they are (a driver call that
    hangs holds the sampler)."""
    age = 0.0 if now is None else now - snapshot.taken_at
    stale = f"({age:.0f} s old) " if age > STALE_AFTER else ""
    if not snapshot.gpus:
        return host_line(snapshot, width, stale=stale)
    cells, detail = gpu_line(snapshot.gpus, width)
    text = host_line(snapshot, width, legend=COMPACT_LEGEND if detail == 3 else "", stale=stale)
    text.append("\n")
    text.append_text(cells)
    return text


def host_line(snapshot: SystemSnapshot, width: int, legend: str = "", stale: str = "") -> Text:
    """``CPU 37% · memory 12.3/62.8 GB`` and "no GPU" or ``CUDA_VISIBLE_DEVICES=…`` after it; ``legend``
    explains compact GPU cells, ``stale`` goes first."""
    cpu = "–" if snapshot.cpu_percent is None else f"{snapshot.cpu_percent:.0f}%"
    hot = snapshot.memory_total and snapshot.memory_used / snapshot.memory_total >= HOT_MEMORY
    text = Text(stale, "bold yellow")
    text.append(f"CPU {cpu} of {snapshot.cpu_count} · memory ")
    text.append(
        f"{snapshot.memory_used / GB:.1f}/{snapshot.memory_total / GB:.1f} GB", "bold yellow" if hot else ""
    )
    if snapshot.gpu_note:
        text.append(f" · {snapshot.gpu_note}")
    if snapshot.cuda_visible is not None:
        mapped = sorted((g.cuda_index, g.index) for g in snapshot.gpus if g.cuda_index is not None)
        full = f" · CUDA_VISIBLE_DEVICES={snapshot.cuda_visible}"
        detail = ", ".join(f"cuda:{c} = GPU {i}" for c, i in mapped)
        if detail and len(text) + len(full) + len(detail) + 3 <= width:
            full += f" ({detail})"
        text.append(full)
    if legend and len(text) + len(legend) <= width:
        text.append(legend)
    text.truncate(width, overflow="ellipsis")
    return text


def gpu_line(gpus: tuple[GpuSample, ...], width: int) -> tuple[Text, int]:
    """One cell per GPU at the most detail that fits ``width`` (every GPU is shown), and that detail."""
    for detail, sep in ((0, " │ "), (1, " │ "), (2, "  "), (3, " "), (4, " ")):
        cells = [gpu_cell(g, detail) for g in gpus]
        if sum(len(c) for c in cells) + len(sep) * (len(cells) - 1) <= width or detail == 4:
            break
    text = Text(sep).join(cells)
    text.truncate(width, overflow="ellipsis")
    return text, detail


def gpu_cell(g: GpuSample, detail: int) -> Text:
    """One GPU: at detail 0 ``GPU0 97% 71.2/80.0 GB 64°C 301 W``, 1 ``GPU0 97% 71/80G 64° 301W``,
    2 ``0:97% 71/80G``, 3 ``0:97/89`` (utilisation / memory used, in percent), 4 ``0:97%``."""
    name = f"GPU{g.index}" + (f"=cuda:{g.cuda_index}" if g.cuda_index is not None and detail < 2 else "")
    if detail >= 2:
        name = f"{g.index}:"
    if g.state == "lost":
        return Text(f"{name} lost" if detail < 2 else f"{name}lost", "bold red")
    util = "MIG" if g.state == "mig" else "–" if g.utilization is None else f"{g.utilization:.0f}%"
    used, total = g.memory_used or 0, g.memory_total or 0
    hot = "bold yellow" if total and used / total >= HOT_MEMORY else ""
    sep = " " if detail < 2 else ""
    if detail == 3:
        util = util.rstrip("%")
    text = Text(f"{name}{sep}{util}")
    if detail == 0:
        text.append(f" {used / GB:.1f}/{total / GB:.1f} GB", hot)
    elif detail in (1, 2):
        text.append(f" {used / GB:.0f}/{total / GB:.0f}G", hot)
    elif detail == 3:
        text.append(f"/{100 * used / total:.0f}" if total else "/–", hot)
    if detail <= 1:
        if g.temperature is not None:
            text.append(f" {g.temperature:.0f}°C" if detail == 0 else f" {g.temperature:.0f}°")
        if g.power is not None:
            text.append(f" {g.power:.0f} W" if detail == 0 else f" {g.power:.0f}W")
    return text


# ---------------------------------------------------------------------- the writers of watched runs
def writer_label(writer: WriterProcess) -> str:
    """What follows a run's name in the run list: its writer's pid, or "writer exited"."""
    return "writer exited" if writer.exited else f"pid {writer.pid}"


def writer_line(system: SystemSnapshot | None, run: RunSnapshot) -> Text:
    """The line under a run's header: its writer, and for a stalled run whether it is stuck or gone."""
    if system is None or run.name not in system.writers:
        return Text()
    writer = system.writers[run.name]
    stalled = run.stalled and not run.finished
    if writer is None and not stalled:
        return Text()  # a finished run, or one written from elsewhere: nothing to say
    text = Text("  writer: ", "dim")
    text.append(describe_writer(writer), "bold red" if writer is not None and writer.exited else "dim")
    if stalled:
        text.append(f"\n  STALLED: {stall_reason(writer)}", "bold red")
    return text + "\n"
