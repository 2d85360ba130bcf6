"""JSON Lines metrics: one object per line with a step and numbers, as scripts (and
``dataloupe train --log``) write them.

    {"step": 100, "epoch": 0.2, "train_loss": 0.93, "test_loss": 0.97, "time": 1732300000.5}

Numbers become tags (nested objects are flattened: ``{"train": {"loss": 1}}`` → ``train/loss``);
``step`` (or ``global_step``, ``iteration``) is the x axis; ``time``/``timestamp``/``wall_time``
is the wall-clock time; ``total_steps``/``max_steps`` is the planned length of the run.
:class:`JsonlLog` writes such a file.

    python -c "from dataloupe.core.runlogs.jsonl import JsonlReader; print(JsonlReader('run.jsonl').read())"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dataloupe.core.errors import SettingsError
from dataloupe.core.runlogs.base import Batch, LogReader, as_number, as_step
from dataloupe.core.runlogs.tail import LINE_LIMIT, TailReader

STEP_KEYS = ("step", "global_step", "iteration", "iter")
"""Keys that hold the step, first found wins."""
TIME_KEYS = ("time", "timestamp", "wall_time")
"""Keys that hold a Unix time in seconds."""
TOTAL_KEYS = ("total_steps", "max_steps")
"""Keys that hold the planned number of steps."""
NOT_METRICS = frozenset({*STEP_KEYS, *TIME_KEYS, *TOTAL_KEYS, "epoch", "elapsed"})
"""Numeric keys that are not metrics to chart."""


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "/"))
        else:
            out[name] = value
    return out


class JsonlReader(LogReader):
    """Reads a ``.jsonl`` file incrementally; a half-written last line waits for its newline."""

    format = "jsonl"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._tail = TailReader(self.path)
        self._line = 0
        self._bad = 0

    def read(self) -> Batch:
        batch = Batch()
        read = self.lines_from(self._tail)
        if read is None:
            return batch
        lines, restarted = read
        if restarted:
            self._line = self._bad = 0
            batch.restarted = True
        if not lines and self._line == 0 and self._tail.offset == 0:
            if self._tail.empty:
                self.problem = f"{self.path}: is empty; expected one JSON object per line with a step."
            return batch
        for text in lines:
            self._line += 1
            if text is None:
                self._complain(f"line {self._line} is longer than {LINE_LIMIT >> 20} MB and was skipped")
                continue
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                self._complain(f"line {self._line} is not JSON")
                continue
            if not isinstance(obj, dict):
                self._complain(f"line {self._line} is a JSON {type(obj).__name__}, not an object")
                continue
            self._take(_flatten(obj), batch)
        batch.more = self._tail.more
        if self._bad == 0 and lines:
            self.problem = None
        return batch

    def _complain(self, what: str) -> None:
        self._bad += 1
        self.problem = (
            f"{self.path}: {what}; expected one JSON object per line with a step and numbers, "
            f'such as {{"step": 10, "loss": 0.5}} ({self._bad} bad line{"s" if self._bad > 1 else ""} skipped).'
        )

    def _take(self, obj: dict[str, Any], batch: Batch) -> None:
        for key in TOTAL_KEYS:
            total = as_step(obj.get(key))
            if total:
                batch.total_steps = total
        step = next((s for s in (as_step(obj.get(k)) for k in STEP_KEYS) if s is not None), None)
        wall = next((t for t in (as_number(obj.get(k)) for k in TIME_KEYS) if t is not None), None)
        numbers = ((k, as_number(v)) for k, v in obj.items() if k not in NOT_METRICS)
        metrics = [(k, v) for k, v in numbers if v is not None]
        if step is None:
            if metrics:
                self._complain(f'line {self._line} has numbers but no "step"')
            return
        for key, value in metrics:
            batch.points.append((key, step, value, wall))

    def close(self) -> None:
        pass


class JsonlLog:
    """Appends one JSON object per line to a metrics file, flushed at once so a watcher sees it.

    ``dataloupe train --log runs/run.jsonl`` writes its run through this class; missing folders
    are made, as TensorBoard's and Lightning's loggers make theirs."""

    def __init__(self, path: Path, total_steps: int | None = None) -> None:
        self.path = Path(path).expanduser()
        """The file written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - open for the run's life
        except OSError as e:
            raise SettingsError(
                f"--log {self.path}: cannot be written ({e.strerror or e}); give a file in a folder you can write to."
            ) from e
        self._total_written = False
        if total_steps:
            self.write({"total_steps": int(total_steps)})

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` (a ``time`` is added when missing) as one line."""
        line = {"time": round(time.time(), 3), **record}
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def log(self, step: int, **metrics: float) -> None:
        """Append the metrics of ``step``."""
        self.write({"step": int(step), **metrics})

    def follow(self, on_report: Callable | None, on_evaluation: Callable | None) -> tuple[Callable, Callable]:
        """Wrap a training run's two callbacks so that they also log: the smoothed loss of each
        report (with the run's total steps once) and the accuracies and losses of each evaluation."""

        def report(snapshot: Any) -> None:
            if not self._total_written and snapshot.total_steps:
                self.write({"total_steps": int(snapshot.total_steps)})
                self._total_written = True
            if snapshot.loss is not None and snapshot.step > 0:
                epoch = (snapshot.epoch - 1) + snapshot.epoch_step / max(1, snapshot.steps_per_epoch)
                self.log(snapshot.step, epoch=round(epoch, 4), loss=snapshot.loss)
            if on_report is not None:
                on_report(snapshot)

        def evaluation(e: Any) -> None:
            self.log(
                e.step,
                epoch=round(e.epoch, 4),
                train_loss=e.train.loss,
                test_loss=e.test.loss,
                train_accuracy=e.train.accuracy,
                test_accuracy=e.test.accuracy,
            )
            if on_evaluation is not None:
                on_evaluation(e)

        return report, evaluation

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
