"""Class balance: a bar chart of class counts (train and test side by side), a table of counts and
percentages, the summary, and a warning with remedies when one class dominates.

Counts come from ``dataloupe.core.stats.classes.class_counts``. When a split's targets are known they are
counted at once; otherwise a worker reads the labels in chunks, the bars grow as it counts,
and ``c`` cancels it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static
from textual.worker import Worker

from dataloupe.core.stats.classes import (
    BalanceSummary,
    PartialCounts,
    balance_summary,
    class_counts,
    class_names,
)
from dataloupe.tui.panes.base import Pane, show_fraction
from dataloupe.tui.widgets.class_chart import ChartData, ClassChart
from dataloupe.tui.workers import ended_unheard, run_job, stop_job, throttled

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle

THRESHOLD_STEP = 0.5
"""How much ``+`` and ``-`` move the imbalance threshold."""


class BalancePane(Pane):
    """Class counts of the shown split, compared with the other split, and what they mean."""

    _THRESHOLD = Binding.Group("threshold", compact=True)
    BINDINGS = [
        Binding("s", "split", "split"),
        Binding("b", "compare", "train|test"),
        Binding("plus,equals_sign", "threshold(1)", "±", group=_THRESHOLD, key_display="+"),
        Binding("minus", "threshold(-1)", "±", group=_THRESHOLD, key_display="-"),
        Binding("c", "cancel", "cancel"),
        Binding("r", "recount", "recount"),
    ]

    @dataclass
    class Counting(Message):
        """Labels counted so far in one split; a newer report replaces an older one."""

        handle: DatasetHandle
        """The dataset being counted."""
        split: str
        """The split being counted."""
        partial: PartialCounts
        """Counts so far, samples read, samples in all."""

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, BalancePane.Counting)
                and message.handle is self.handle
                and message.split == self.split
            )

    @dataclass
    class Counted(Message):
        """A split has been counted to the end."""

        handle: DatasetHandle
        """The dataset counted."""
        split: str
        """The split counted."""
        counts: tuple[int, ...]
        """Samples per class."""

    @dataclass
    class Stopped(Message):
        """Counting stopped early: cancelled, or the labels could not be read."""

        handle: DatasetHandle
        """The dataset that was being counted."""
        text: str
        """What happened, for the user."""
        error: bool
        """True for a failure, False for a cancel."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.counts: dict[str, tuple[int, ...]] = {}
        """Finished counts of the open dataset, by split."""
        self.partial: dict[str, PartialCounts] = {}
        """Counts of splits still being counted."""
        self.compare = True
        """Chart train and test side by side (as shares) instead of the shown split alone."""
        self.counting = False
        """A counting worker is running."""
        self.stopped_text = ""
        """Why counting stopped early, shown until the next count."""
        self._counted_handle: DatasetHandle | None = None
        self._worker: Worker | None = None
        """The newest counting worker."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="balance-top"):
            yield ClassChart(id="balance-chart")
            yield DataTable(id="balance-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="balance-progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="balance-progress")
            yield Static("", id="balance-progress-label")
        yield Static("Open a dataset to see its class balance (key 1).", id="balance-summary")

    def on_mount(self) -> None:
        self.query_one("#balance-progress-row").display = False

    # ------------------------------------------------------------------ actions
    def action_split(self) -> None:
        self.app.next_split()

    def action_compare(self) -> None:
        self.compare = not self.compare
        self.redraw()

    @property
    def threshold(self) -> float:
        """Largest ÷ smallest above which the warning shows: the app's, shared with the checklist."""
        return self.app.imbalance_threshold

    def action_threshold(self, direction: int) -> None:
        self.app.imbalance_threshold = max(1.0, self.threshold + direction * THRESHOLD_STEP)
        self.redraw()

    def action_cancel(self) -> None:
        stop_job(self._worker)  # it reports the stop even if it has not begun

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.counting
        if action == "recount":
            return self._uncounted() and not self.counting
        return True

    def _uncounted(self) -> bool:
        return self.handle is not None and any(n not in self.counts for n in self.handle.split_names)

    # ------------------------------------------------------------------ counting
    def dataset_changed(self) -> None:
        handle = self.handle
        if handle is None:
            return
        if handle is not self._counted_handle:
            self.workers.cancel_group(self, "balance-count")
            self._counted_handle = handle
            self.counts, self.partial, self.stopped_text = {}, {}, ""
            self._set_counting(False)
            for name in handle.split_names:
                split = handle.split(name)
                if split.targets is not None:  # a bincount: no need for a worker
                    self.counts[name] = tuple(int(c) for c in class_counts(split, handle.num_classes))
            self._count_missing()
        self.redraw()

    def _count_missing(self) -> None:
        """Start a worker on the splits whose targets are unknown, the shown split first."""
        handle = self.handle
        assert handle is not None
        todo = [n for n in handle.split_names if n not in self.counts]
        if not todo:
            return
        todo.sort(key=lambda n: n != self.split_name)
        self.stopped_text = ""
        self._set_counting(True)
        self._worker = self._count_worker(handle, todo)

    def action_recount(self) -> None:
        """Count again what a cancel left uncounted."""
        if self.handle is not None and not self.counting:
            self._count_missing()
            self.redraw()

    @work(thread=True, exclusive=True, group="balance-count", exit_on_error=False)
    def _count_worker(self, handle: DatasetHandle, names: list[str]) -> None:
        for name in names:

            def job(cancel: threading.Event, name: str = name) -> BalancePane.Counted:
                partial = throttled(
                    lambda p: self.post_message(self.Counting(handle, name, p)),
                    is_final=lambda p: p.done == p.total,
                )
                counts = class_counts(
                    handle.split(name), handle.num_classes, on_partial=partial, cancel=cancel
                )
                return self.Counted(handle, name, tuple(int(c) for c in counts))

            stopped = f"counting {name} was cancelled"
            failed = lambda text, error: self.Stopped(handle, text, error)  # noqa: E731
            if not run_job(self, job, failed, what=f"counting {name}", cancelled=stopped):
                return

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and ended_unheard(event) and self.handle is not None:
            # cancelled before its thread began: no Stopped will come, so stop waiting here
            error = event.worker.error
            text = (
                "counting was cancelled"
                if error is None
                else f"counting failed: {type(error).__name__}: {error}"
            )
            self.on_balance_pane_stopped(self.Stopped(self.handle, text, error is not None))

    def on_balance_pane_counting(self, message: Counting) -> None:
        if message.handle is self.handle and message.split not in self.counts:
            self.partial[message.split] = message.partial
            self.redraw()

    def on_balance_pane_counted(self, message: Counted) -> None:
        if message.handle is not self.handle:
            return
        self.counts[message.split] = message.counts
        self.partial.pop(message.split, None)
        if all(n in self.counts for n in message.handle.split_names):
            self._set_counting(False)
        self.redraw()

    def on_balance_pane_stopped(self, message: Stopped) -> None:
        if message.handle is not self.handle:
            return
        self._set_counting(False)
        self._set_stopped(message.text)
        if message.error:
            self.app.notify(message.text, title="Could not count the classes", severity="error", timeout=12)
        self.redraw()

    def _set_counting(self, counting: bool) -> None:
        self.counting = counting
        self.query_one("#balance-progress-row").display = counting
        self.refresh_bindings()

    def _set_stopped(self, text: str) -> None:
        self.stopped_text = text
        self.refresh_bindings()

    # ------------------------------------------------------------------ drawing
    def _counts_of(self, split: str) -> tuple[tuple[int, ...], bool] | None:
        """(counts, finished) of ``split``: final counts, counts so far, or None."""
        if split in self.counts:
            return self.counts[split], True
        if split in self.partial:
            return self.partial[split].counts, False
        return None

    def summary(self) -> BalanceSummary | None:
        """The balance summary of the shown split's counts (so far), or None before any."""
        if self.handle is None:
            return None
        found = self._counts_of(self.split_name)
        return balance_summary(found[0], self.handle.classes, self.threshold) if found else None

    def redraw(self) -> None:
        """Draw the chart, the table, the progress and the summary from the counts there are."""
        handle = self.handle
        if handle is None:
            return
        classes = tuple(handle.classes)
        shown = self._counts_of(self.split_name)
        other = next((n for n in handle.split_names if n != self.split_name), None)
        other_counts = self._counts_of(other) if other else None
        self._draw_chart(classes, shown, other, other_counts)
        self._draw_table(classes, shown, other, other_counts)
        self._draw_progress()
        self._draw_summary(shown)

    def _draw_chart(self, classes, shown, other, other_counts) -> None:
        chart = self.query_one(ClassChart)
        if shown is None:
            chart.show(None)
            return
        counts, done = shown
        classes = class_names(classes, len(counts))
        both_done = done and (other_counts is None or other_counts[1])
        so_far = "" if (both_done if self.compare else done) else " (so far)"
        if self.compare and other_counts is not None:
            pairs = sorted(
                [(self.split_name, counts), (other, other_counts[0])], key=lambda p: p[0] != "train"
            )
            width = max(len(counts), len(other_counts[0]))
            series = tuple((name, _shares(c, width)) for name, c in pairs)
            chart.show(
                ChartData(class_names(classes, width), series, f"% of each split, train and test{so_far}")
            )
        else:
            values = tuple(float(c) for c in counts)
            chart.show(
                ChartData(
                    classes, ((self.split_name, values),), f"{self.split_name}: samples per class{so_far}"
                )
            )

    def _draw_table(self, classes, shown, other, other_counts) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        if shown is None:
            return
        counts, _ = shown
        total = sum(counts)
        columns = ["class", self.split_name, "%"]
        if other_counts is not None:
            columns.append(f"{other} %")
        table.add_columns(*columns)
        other_total = sum(other_counts[0]) if other_counts else 0
        for k, name in enumerate(class_names(classes, len(counts))):
            row = [Text(name), _right(f"{counts[k]:,}"), _right(f"{counts[k] / total:.1%}" if total else "–")]
            if other_counts is not None:
                oc = other_counts[0]
                n = oc[k] if k < len(oc) else 0
                row.append(_right(f"{n / other_total:.1%}" if other_total else "–"))
            table.add_row(*row)

    def _draw_progress(self) -> None:
        label = self.query_one("#balance-progress-label", Static)
        if not self.counting:
            return
        current = next(iter(self.partial.items()), None)
        if current is None:
            label.update("counting labels…  c cancels")
            return
        name, p = current
        show_fraction(self.query_one("#balance-progress", ProgressBar), p.done, p.total)
        label.update(f"{name}: {p.done:,} of {p.total:,} labels · c cancels")

    def _draw_summary(self, shown: tuple[tuple[int, ...], bool] | None) -> None:
        summary = self.summary()
        lines: list[Text] = []
        if summary is None or shown is None:
            lines.append(Text("counting…" if self.counting else (self.stopped_text or "no counts")))
        else:
            done = shown[1]
            head = Text.assemble((f"{self.split_name}: ", "bold"), summary.describe())
            if not done:
                head.append(" (so far)", style="italic")
            lines.append(head)
            if done and summary.unbalanced:
                lines.append(
                    Text.assemble(("⚠ ", "bold yellow"), (f"Unbalanced: {summary.danger()}", "yellow"))
                )
                lines.append(Text(summary.remedies(), style="italic"))
            elif done:
                lines.append(
                    Text(
                        f"✓ balanced: largest ÷ smallest {summary.ratio_text} ≤ threshold {self.threshold:g} "
                        "(+/- change it)",
                        style="green",
                    )
                )
            if self.stopped_text:
                lines.append(Text(f"{self.stopped_text}; r counts again", style="italic"))
        self.query_one("#balance-summary", Static).update(Text("\n").join(lines))


def _right(text: str) -> Text:
    """A table cell aligned right, for numbers."""
    return Text(text, justify="right")


def _shares(counts: tuple[int, ...], width: int) -> tuple[float, ...]:
    """Percent of the split in each class, padded to ``width`` classes."""
    c = np.zeros(width)
    c[: len(counts)] = counts
    total = c.sum()
    return tuple(float(v) for v in (100 * c / total if total else c))
