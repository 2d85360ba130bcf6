"""Find the runs under a path and poll them all: what ``dataloupe watch PATH`` reads.

A path may be one log file, one run folder, or a folder of many runs (a Lightning
``lightning_logs/``, a TensorBoard ``runs/``, a Trainer ``output_dir``). Each folder that
holds event files directly is one TensorBoard run; each ``metrics*.csv``, ``*.jsonl`` and
Trainer output folder (its newest ``trainer_state.json``) is one run. The folder is searched
again every few seconds, so runs started later join the list.

    python -c "from dataloupe.core.runlogs import Watch; w = Watch('lightning_logs'); print(w.poll())"
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dataloupe.core.runlogs.base import LogReader, printable
from dataloupe.core.runlogs.csv_metrics import CsvReader
from dataloupe.core.runlogs.jsonl import JsonlReader
from dataloupe.core.runlogs.run import STALL_AFTER, Run, RunSnapshot
from dataloupe.core.runlogs.tensorboard_events import EventFolderReader, is_event_file
from dataloupe.core.runlogs.trainer_state import TrainerStateReader
from dataloupe.core.threads import GIVE_WAY

RESCAN_EVERY = 2.0
"""Seconds between two searches of the folder for new runs."""
MAX_DEPTH = 8
"""Sub-folder levels searched below the path."""
SKIP_DIRS = frozenset({".git", "__pycache__", "node_modules", ".venv", "venv", "wandb", ".ipynb_checkpoints"})
"""Folders never searched."""
EXPECTED = (
    "TensorBoard event files (events.out.tfevents.*), a metrics.csv (Lightning's CSVLogger), "
    "a .jsonl file of metrics, or a Hugging Face trainer_state.json"
)
"""What the watcher reads, for messages."""
_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")


@dataclass(frozen=True)
class WatchSnapshot:
    """Every run under the path at one moment."""

    root: str
    """The path watched."""
    runs: tuple[RunSnapshot, ...]
    """The runs, sorted by name."""
    problems: tuple[str, ...]
    """Messages about the path itself (no logs found) and about each run's files."""
    taken_at: float
    """Unix time of the snapshot."""
    loading: bool
    """Some run still has a backlog to read, or has not been read at all yet."""
    unread: int = 0
    """Runs listed but not read yet (a folder of thousands is listed first and read in the background)."""

    @property
    def healthy(self) -> bool:
        """Every run is free of NaN and not stalled, and there is at least one run."""
        return bool(self.runs) and all(r.healthy for r in self.runs)


@dataclass(frozen=True)
class Source:
    """A run found on disk: its name and how to read it."""

    name: str
    path: Path
    kind: str
    """"tensorboard", "csv", "jsonl" or "trainer_state"."""

    def reader(self) -> LogReader:
        """A fresh reader for it."""
        cls = {
            "tensorboard": EventFolderReader,
            "csv": CsvReader,
            "jsonl": JsonlReader,
            "trainer_state": TrainerStateReader,
        }[self.kind]
        return cls(self.path)


def kind_of_file(path: Path) -> str | None:
    """The format of a log file by its name, or None when it is not one the watcher reads."""
    name = path.name
    if is_event_file(name):
        return "tensorboard"
    if name == "trainer_state.json":
        return "trainer_state"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    return None


def find_sources(root: Path) -> tuple[list[Source], list[str]]:
    """The runs under ``root`` and messages about it (missing, unreadable, or holding no logs)."""
    root = Path(root)
    if not root.exists():
        return [], [f"{root} does not exist; give a log file or a folder of runs ({EXPECTED})."]
    refused: list[str] = []

    def unlisted(error: OSError) -> None:
        where = error.filename or root
        if isinstance(error, PermissionError):
            refused.append(
                f"{where}: permission denied; cannot list this folder (give your user read access)."
            )
        else:
            refused.append(f"{where}: cannot be listed ({error.strerror or error}).")

    if root.is_file():
        kind = kind_of_file(root)
        if kind is None:
            return [], [f"{root}: not a log dataloupe reads; expected {EXPECTED}."]
        if kind == "tensorboard":
            return [Source(printable(root.parent.name or str(root.parent)), root.parent, kind)], []
        return [Source(printable(root.name), root, kind)], []
    sources: list[Source] = []
    trainer: dict[Path, tuple[float, Path]] = {}
    base_depth = len(root.parts)
    for folder, dirs, files in os.walk(root, onerror=unlisted):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        if len(here.parts) - base_depth >= MAX_DEPTH:
            dirs[:] = []
        name = _name(root, here)
        if any(is_event_file(f) for f in files):
            sources.append(Source(name, here, "tensorboard"))
        for f in sorted(files):
            path = here / f
            if f == "trainer_state.json":
                run_dir = here.parent if _CHECKPOINT.search(here.name) else here
                mtime = _mtime(path)
                if run_dir not in trainer or mtime > trainer[run_dir][0]:
                    trainer[run_dir] = (mtime, path)
            elif f.endswith((".jsonl", ".ndjson")):
                sources.append(Source(_name(root, path), path, "jsonl"))
            elif f.endswith(".csv") and "metrics" in f:
                sources.append(Source(_name(root, path) if f != "metrics.csv" else name, path, "csv"))
    for run_dir, (_, path) in trainer.items():
        sources.append(Source(_name(root, run_dir), path, "trainer_state"))
    refused = [printable(r) for r in refused]
    if not sources:
        return [], refused or [f"{root}: no logs found in it or its sub-folders; expected {EXPECTED}."]
    taken: dict[str, int] = {}
    for s in sources:
        taken[s.name] = taken.get(s.name, 0) + 1
    # A Lightning version folder can hold event files and a metrics.csv: two runs, two names.
    sources = [Source(f"{s.name} ({s.kind})", s.path, s.kind) if taken[s.name] > 1 else s for s in sources]
    return sorted(sources, key=lambda s: s.name), refused


def _name(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, root)
    return printable(root.name if rel == "." else rel)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class Watch:
    """Every run under a path, polled together."""

    def __init__(
        self, root: Path | str, stall_after: float = STALL_AFTER, rescan_every: float = RESCAN_EVERY
    ):
        self.root = Path(root).expanduser()
        """The path watched."""
        self.stall_after = stall_after
        """Seconds without a point before a run is stalled."""
        self.rescan_every = rescan_every
        """Seconds between searches for new runs."""
        self.runs: dict[str, Run] = {}
        """Run name → run."""
        self._paths: dict[str, Path] = {}
        self._problems: list[str] = []
        self._scanned_at = -1e9
        self._cursor = 0
        self._read: set[str] = set()

    def rescan(self) -> None:
        """Search the path for runs; new ones join, a Trainer run follows its newest checkpoint."""
        self._scanned_at = time.monotonic()
        sources, self._problems = find_sources(self.root)
        for source in sources:
            run = self.runs.get(source.name)
            if run is None:
                self.runs[source.name] = Run(source.name, source.reader())
                self._paths[source.name] = source.path
            elif self._paths[source.name] != source.path:
                run.use_reader(source.reader())
                self._paths[source.name] = source.path

    def poll(self, cancel: threading.Event | None = None, budget: float | None = None) -> WatchSnapshot:
        """Read what every run wrote since the last poll and return the new state.

        With ``budget`` (seconds), stop once that much time has gone and go on from the next run at the
        next call: a folder of thousands of runs shows its first ones at once, and the snapshot says
        ``loading`` until every run has been read."""
        if time.monotonic() - self._scanned_at >= self.rescan_every:
            self.rescan()
        names = list(self.runs)
        start = time.monotonic()
        polled = 0
        while polled < len(names):
            if cancel is not None and cancel.is_set():
                break
            if budget is not None and polled and time.monotonic() - start >= budget:
                break
            GIVE_WAY.wait()  # the user pressed a key: the screen answers first
            name = names[self._cursor % len(names)]
            self._cursor = (self._cursor + 1) % len(names)
            self.runs[name].poll()
            self._read.add(name)
            polled += 1
        return self.snapshot()

    def snapshot(self) -> WatchSnapshot:
        """The state as read so far."""
        now = time.time()
        runs = tuple(self.runs[name].snapshot(now, self.stall_after) for name in sorted(self.runs))
        problems = tuple(self._problems) + tuple(p for r in runs for p in r.problems)
        unread = len(self.runs) - len(self._read)
        return WatchSnapshot(
            root=printable(str(self.root)),
            runs=runs,
            problems=problems,
            taken_at=now,
            loading=bool(unread) or any(r.more for r in self.runs.values()),
            unread=unread,
        )

    def read_all(self, cancel: threading.Event | None = None) -> WatchSnapshot:
        """Poll until every backlog is read (the headless ``--once``)."""
        snapshot = self.poll(cancel)
        while snapshot.loading and not (cancel is not None and cancel.is_set()):
            snapshot = self.poll(cancel)
        return snapshot

    def close(self) -> None:
        """Release every open file."""
        for run in self.runs.values():
            run.close()
