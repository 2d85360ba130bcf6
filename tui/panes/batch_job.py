"""One run of the batches pane's worker, off the UI thread: build the batch, draw it as text.

Nothing here touches a widget: :func:`build_and_draw` takes a :class:`BatchJob` (everything read on
the UI thread): :func:`move_and_build` moves the stepper and builds the batch, :func:`draw` draws
its samples (or table rows) as strips and :func:`info_text` writes the info column. The pane only
puts them on screen.

    job = BatchJob(0, handle, "train", LoaderSettings(), None, (("step", 3),), False, False, 60, 20, False)
    stepper, batch = move_and_build(job)
    strips, info = draw(batch, job), info_text(batch.summary, stepper, job)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.strip import Strip

from dataloupe.core.wording import plural
from dataloupe.tui.widgets.sample_view import text_strips, to_strips

if TYPE_CHECKING:
    import numpy as np

    from dataloupe.core.batching import Batch, BatchStepper, BatchSummary, LoaderSettings
    from dataloupe.core.data.datasets import DatasetHandle

BAR = 8
"""Widest bar of the per-batch label histogram, in cells."""


@dataclass(frozen=True)
class BatchJob:
    """What one worker run does: everything it needs, read on the UI thread."""

    generation: int
    """Which settings and dataset this job belongs to; a newer generation makes older results stale."""
    handle: DatasetHandle
    """The open dataset."""
    split_name: str
    """The split the loader reads."""
    settings: LoaderSettings
    """The loader settings a new stepper is built with."""
    stepper: BatchStepper | None
    """The stepper to continue, or None to build a new one from ``settings``."""
    moves: tuple[tuple[str, int], ...]
    """("step", k), ("epoch", 0) or ("jump", n), in the order they were asked for."""
    normalize: bool
    """Normalize(mean, std) after scaling."""
    augment: bool
    """Random rotation and shift (images only)."""
    cols: int
    """Width of the sample grid, in cells."""
    rows: int
    """Height of the visible sample grid, in cells: tiles shrink so a whole batch fits when it can."""
    ascii: bool
    """Draw with the ASCII ramp instead of half-blocks."""
    info_cols: int = 42
    """Width of the info column, in cells: the labels line is cut to it."""


def add_move(moves: list[tuple[str, int]], kind: str, value: int = 0) -> None:
    """Queue a move, adding a step to the steps queued just before it ("next" ×12 is one step of 12).

    Nothing else is dropped: passing over batches decodes nothing, and the steps before a jump or a
    new epoch decide which epoch it lands in, exactly as pressing the keys one by one would.
    """
    if kind == "step" and moves and moves[-1][0] == "step":
        moves[-1] = ("step", moves[-1][1] + value)
    else:
        moves.append((kind, value))


def move_and_build(job: BatchJob) -> tuple[BatchStepper, Batch]:
    from dataloupe.core.batching.user_loader import stepper_for

    handle = job.handle
    pipeline = handle.pipeline.with_(
        mode="normalized" if job.normalize else "scaled",
        augment=job.augment and handle.pipeline.sample_type == "image",
    )
    stepper = job.stepper
    if stepper is None:
        stepper = stepper_for(handle, handle.split(job.split_name, pipeline), job.settings)
        stepper.advance(1)
    stepper.set_pipeline(pipeline)
    for kind, value in job.moves:
        if kind == "step":
            stepper.advance(value)
        elif kind == "epoch":
            stepper.new_epoch()
            stepper.advance(1)
        elif kind == "jump":
            stepper.seek(value)
    return stepper, stepper.build()


def draw(batch: Batch, job: BatchJob) -> list[Strip]:
    """The batch's samples as a grid with their labels, or its table rows, one strip per line."""
    from dataloupe.core.render import grid_layout, render_grid, render_table_rows

    summary = batch.summary
    x = batch.x.detach().cpu().numpy()
    if job.handle.pipeline.sample_type == "table":
        pipeline = job.handle.pipeline
        unit = x * _consts(pipeline.std, 1.0) + _consts(pipeline.mean, 0.0) if job.normalize else x
        return text_strips(
            render_table_rows(x, unit, summary.indices, label_words(summary), job.cols, job.ascii)
        )
    images = [x[k] for k in range(len(x))]
    captions = [summary.class_name(y) for y in summary.labels]
    height, width = images[0].shape[-2:]
    layout = grid_layout(int(height), int(width), job.cols, job.rows, count=len(images))
    image = render_grid(
        images, captions, job.cols, job.rows, "ascii" if job.ascii else "blocks", layout=layout
    )
    return to_strips(image)


def _consts(values: tuple[float, ...], fallback: float) -> np.ndarray:
    import numpy as np

    return np.asarray([v or fallback for v in values], dtype=np.float32)


def info_text(summary: BatchSummary, stepper: BatchStepper, job: BatchJob) -> Text:
    """Position, shapes, statistics, labels and the class table, for the info column.

    One line each, so that the class table of ten classes fits under them at 80×24; the loader
    settings are not repeated (the form above shows them, the position line the sampler), except
    for the user's own DataLoader, which the form does not describe.
    """
    t = Text()
    t.append(f"epoch {summary.epoch}", style="bold")
    t.append(" · ")
    t.append(f"batch {summary.index:,}", style="bold")
    t.append(f" of {summary.batches:,} · {summary.sampler}\n")
    if summary.is_last_smaller:
        t.append(
            f"last batch: {summary.size} samples, smaller than {summary.batch_size}\n", style="bold yellow"
        )
    elif summary.is_last:
        t.append("last batch of the epoch\n", style="yellow")
    t.append("X ", style="dim")
    t.append(f"{summary.x_shape_text} {summary.x_dtype}\n")
    t.append("y ", style="dim")
    t.append(f"{summary.y_shape_text} {summary.y_dtype}\n")
    for name, value in (("min", summary.x_min), ("max", summary.x_max), ("mean", summary.x_mean)):
        t.append(f"{name} ", style="dim")
        t.append(f"{value:.4g}  ")
    t.append("std ", style="dim")
    t.append(f"{summary.x_std:.4g}\n")
    if summary.nonfinite:
        t.append(f"{summary.nonfinite:,} NaN/inf values left out\n", style="bold red")
    t.append("labels ", style="dim")
    t.append(_one_line(label_words(summary), job.info_cols - len("labels ")) + "\n")
    t.append("transform ", style="dim")
    t.append(summary.pipeline + "\n")
    from dataloupe.core.batching.settings import LoaderSettings

    if not isinstance(
        stepper.settings, LoaderSettings
    ):  # the user's own DataLoader: the form does not show it
        t.append("loader ", style="dim")
        t.append(stepper.settings.describe() + "\n")
    t.append_text(class_table(summary))
    legend = summary.legend() if any(len(c) > SHORT_NAME for c in summary.classes) else ""
    if legend:
        t.append("\n" + legend, style="dim")
    return t


def class_table(summary: BatchSummary) -> Text:
    """Per class: a bar of its count in this batch, its share of this epoch so far, its share of the split."""
    rows = list(enumerate(summary.count_rows()))
    if len(rows) > 12:  # the classes in this batch first, then the largest in the split
        rows = sorted(rows, key=lambda r: (-r[1][1], -(r[1][3] or 0.0)))[:12]
    biggest = max((count for _, (_, count, _, _) in rows), default=0) or 1
    t = Text()
    t.append(f"{'class':<6}{'this batch':<{BAR + 5}}{'epoch':>6}{'split':>7}\n", style="dim")
    for k, (name, count, share, data_share) in rows:
        label = name if len(name) <= 5 else str(k)  # long names: the number, with the legend below
        bar = "█" * round(BAR * count / biggest) if count else ""
        t.append(f"{label:<6}")
        t.append(f"{bar:<{BAR}}", style="cyan")
        t.append(f"{count:>4} ")
        t.append(f"{share:>6.1%}")
        t.append(f"{data_share:>7.1%}\n" if data_share is not None else f"{'?':>7}\n", style="dim")
    if len(summary.histogram) > 12:
        t.append(f"… {len(summary.histogram) - 12} more classes\n", style="dim")
    seen = plural(sum(summary.epoch_counts), "sample")
    t.append(f"epoch so far: {seen} in {plural(summary.epoch_batches, 'batch', 'batches')}\n", style="dim")
    return t


SHORT_NAME = 3
"""Class names this short are written for labels ("3".."9" quality scores, "cat"); longer ones as
their number, with the legend under the class table."""


def label_words(summary: BatchSummary) -> list[str]:
    """The batch's labels as words: class names when they are short, else the label numbers."""
    if summary.classes and max(len(c) for c in summary.classes) <= SHORT_NAME:
        return [summary.class_name(y) for y in summary.labels]
    return [str(y) for y in summary.labels]


def _one_line(words: list[str], width: int) -> str:
    """``words`` joined by spaces, cut to ``width`` cells with "… (n)" saying how many there are."""
    text = " ".join(words)
    if len(text) <= width:
        return text
    tail = f" … ({len(words)})"
    return text[: max(0, width - len(tail))].rsplit(" ", 1)[0] + tail
