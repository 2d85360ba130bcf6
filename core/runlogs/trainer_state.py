"""The Hugging Face Trainer's ``trainer_state.json``: its ``log_history`` and ``max_steps``.

    {"max_steps": 500, "log_history": [{"loss": 2.1, "learning_rate": 5e-05, "epoch": 0.1, "step": 10},
                                       {"eval_loss": 1.9, "eval_accuracy": 0.4, "epoch": 0.2, "step": 20}]}

The Trainer rewrites the whole file at each checkpoint (``output_dir/checkpoint-N/``); the
reader reads it again whenever its size or time changes, and the run model drops the points
it already has. A file caught half-written is tried again at the next poll.

    python -c "from dataloupe.core.runlogs.trainer_state import TrainerStateReader as R; print(R('trainer_state.json').read())"
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from dataloupe.core.runlogs.base import Batch, LogReader, as_number, as_step

NOT_METRICS = frozenset(
    {
        "step",
        "epoch",
        "total_flos",
        "train_runtime",
        "train_samples_per_second",
        "train_steps_per_second",
        "eval_runtime",
        "eval_samples_per_second",
        "eval_steps_per_second",
    }
)
"""Numbers in ``log_history`` that are not metrics to chart."""
SETTLE_SECONDS = 2.0
"""A file that is not valid JSON is reported only once it has not changed for this long
(the Trainer may be writing it right now)."""


class TrainerStateReader(LogReader):
    """Reads ``trainer_state.json`` again each time it changes."""

    format = "trainer_state"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._seen: tuple[int, int] | None = None

    def read(self) -> Batch:
        batch = Batch()
        try:
            st = os.stat(self.path)
        except OSError as e:
            self.problem = f"{self.path}: cannot be read ({e.strerror or e})."
            return batch
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._seen:
            return batch
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if time.time() - st.st_mtime >= SETTLE_SECONDS:
                self._seen = stamp
                self.problem = (
                    f"{self.path}: is not valid JSON; expected the Hugging Face Trainer's trainer_state.json "
                    "(an object with a log_history list)."
                    if st.st_size
                    else f"{self.path}: is empty; expected the Trainer's trainer_state.json."
                )
            return batch
        self._seen = stamp
        history = state.get("log_history") if isinstance(state, dict) else None
        if not isinstance(history, list):
            self.problem = (
                f"{self.path}: has no log_history list; expected the Hugging Face Trainer's "
                "trainer_state.json."
            )
            return batch
        self.problem = None
        batch.total_steps = as_step(state.get("max_steps")) or None
        for entry in history:
            if not isinstance(entry, dict):
                continue
            step = as_step(entry.get("step"))
            if step is None:
                continue
            for key, value in entry.items():
                if key in NOT_METRICS:
                    continue
                number = as_number(value)
                if number is not None:
                    batch.points.append((key, step, number, None))
        return batch
