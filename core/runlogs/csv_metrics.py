"""A metrics CSV as Lightning's ``CSVLogger`` writes it (``metrics.csv``).

    epoch,step,train_loss,val_loss,val_acc
    0,49,0.91,,
    0,99,0.62,0.58,0.81

A ``step`` column is required; ``epoch`` is optional; every other column is a metric, and
an empty cell means the metric was not logged at that step. Lightning rewrites the file
when a new metric appears; the reader notices (the header changed) and reads it again,
and the run model drops the points it already has.

    python -c "from dataloupe.core.runlogs.csv_metrics import CsvReader; print(CsvReader('metrics.csv').read())"
"""

from __future__ import annotations

import csv
from pathlib import Path

from dataloupe.core.runlogs.base import Batch, LogReader, as_number, as_step
from dataloupe.core.runlogs.tail import LINE_LIMIT, TailReader

STEP_COLUMNS = ("step", "global_step")
"""Column names accepted for the step (case does not matter)."""
NOT_METRICS = frozenset({"step", "global_step", "epoch", "time", "timestamp", "wall_time", "created_at"})
"""Columns that are not metrics to chart."""


class CsvReader(LogReader):
    """Reads a growing metrics CSV incrementally; a half-written last row waits for its newline."""

    format = "csv"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._tail = TailReader(self.path)
        self._header: list[str] | None = None
        self._step_col = -1
        self._time_col = -1
        self._line = 0
        self._long: list[int] = []
        self._bad = 0

    def read(self) -> Batch:
        batch = Batch()
        read = self.lines_from(self._tail)
        if read is None:
            return batch
        lines, restarted = read
        if restarted:
            self._header = None
            self._line = 0
            self._long = []
            self._bad = 0
            batch.restarted = True
        if None in lines:
            lines = self._drop_long(lines)
        else:
            self._line += len(lines)
        if not lines:
            if self._header is None and self._tail.empty:
                self.problem = f"{self.path}: is empty; expected a header line with a 'step' column."
            return batch
        rows = csv.reader(lines)
        if self._header is None:
            header = next(rows, None)
            if header is None:
                return batch
            self._set_header([h.strip() for h in header])
        if self._step_col < 0:
            return batch
        header = self._header or []
        for row in rows:
            step = as_step(row[self._step_col]) if len(row) > self._step_col else None
            if step is None:
                if any(cell.strip() for cell in row):
                    self._garbage(row)
                continue
            wall = as_number(row[self._time_col]) if 0 <= self._time_col < len(row) else None
            for i, cell in enumerate(row[: len(header)]):
                name = header[i]
                if name.lower() in NOT_METRICS or not name:
                    continue
                value = as_number(cell)
                if value is not None:
                    batch.points.append((name, step, value, wall))
        batch.more = self._tail.more
        return batch

    def _garbage(self, row: list[str]) -> None:
        """Count a row that has cells but no step number, and say so."""
        self._bad += 1
        shown = ",".join(row)[:60]
        self.problem = (
            f"{self.path}: {self._bad} row{'s' if self._bad > 1 else ''} without a step number skipped "
            f"(the last: {shown!r}); expected numbers under the header, a whole number in the step column."
        )

    def _drop_long(self, lines: list[str | None]) -> list[str]:
        """``lines`` without the lines too long to read, each named in ``problem``."""
        kept = []
        for text in lines:
            self._line += 1
            if text is None:
                self._long.append(self._line)
            else:
                kept.append(text)
        numbers = ", ".join(map(str, self._long[:5])) + (", …" if len(self._long) > 5 else "")
        self.problem = (
            f"{self.path}: line{'s' if len(self._long) > 1 else ''} {numbers} longer than "
            f"{LINE_LIMIT >> 20} MB, skipped; expected one row of numbers per line."
        )
        return kept

    def _set_header(self, header: list[str]) -> None:
        self._header = header
        lower = [h.lower() for h in header]
        self._step_col = next((lower.index(c) for c in STEP_COLUMNS if c in lower), -1)
        self._time_col = next((lower.index(c) for c in ("time", "timestamp", "wall_time") if c in lower), -1)
        if self._step_col < 0:
            found = ", ".join(header[:8]) + (", …" if len(header) > 8 else "")
            self.problem = (
                f"{self.path}: expected a 'step' column in the header line (Lightning's CSVLogger writes "
                f"one); found: {found or 'an empty line'}."
            )
        else:
            self.problem = None
