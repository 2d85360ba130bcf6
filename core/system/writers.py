"""Which process writes each watched run, and how it is doing: running, sleeping, or gone.

The operating system knows who holds a log file open: the writer is the process that has the run's
log (or, for a TensorBoard folder, a file in it) open for writing. TensorBoard's writers close
their event file between flushes, but put their process id in its name. Another run written in bursts (a CSV
opened, appended and closed at each log call) leaves nothing open between writes; then the run
is matched by its folder: a process whose command line names the log or a folder holding it,
whose working folder is the run's folder (or inside a TensorBoard run's folder), or that holds some file open in it. A writer found
once is followed until it exits, even while it holds nothing open; then it is reported "gone",
and the search goes on for a process that takes the run up again.

Shells, terminal multiplexers and programs that only read logs (TensorBoard, ``tail``, another
``dataloupe``) are never taken for a writer, nor is this process or one of its ancestors. A
DataLoader worker inherits its parent's open files; the parent is the one reported.

    python -c "from dataloupe.core.system.writers import WriterFinder as F; f = F(); f.follow({'r': 'run.jsonl'}); print(f.poll())"
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataloupe.core.system.processes import ProcessInfo, ProcessTable, ancestors, process_table
from dataloupe.core.wording import size

RESCAN_EVERY = 5.0
"""Seconds between two searches of the process table while some run has no live writer."""
RESCAN_AT_MOST = 40.0
"""The gap doubles after each search that changes nothing, up to this (a search of a thousand
processes takes about 50 ms); a new run to follow starts it again from :data:`RESCAN_EVERY`."""
BUSY_CPU = 5.0
"""CPU percent above which a writer counts as working (a stalled one then is stuck, not idle)."""
COMMAND_WIDTH = 48
"""Characters of a command line shown before it is cut."""
SHELLS = frozenset(
    {
        "bash",
        "sh",
        "zsh",
        "fish",
        "dash",
        "ksh",
        "tcsh",
        "csh",
        "tmux",
        "tmux: server",
        "screen",
        "login",
        "sshd",
    }
)
"""Programs whose working folder or open files say nothing about who writes a log."""
READERS = ("tensorboard", "tail", "less", "more", "cat", "nvitop", "htop", "vim", "nvim", "nano")
"""Programs that read logs: never a run's writer (nor ``dataloupe``, unless it trains)."""
_CHECKPOINT = re.compile(r"checkpoint-\d+$")
EVENT_PREFIX = "events.out.tfevents."

OPEN_FOR_WRITING, EVENT_FILE, NAMED, HOLDS_A_FILE = 0, 1, 2, 3
"""How a writer was found, best first: it holds the log open for writing; the name of the run's
newest TensorBoard event file carries its process id (``events.out.tfevents.TIME.HOST.PID.N``, as
TensorBoard and PyTorch name them; their writers open and close the file at each flush); its
command line or working folder names the run's folder; it holds some file open in that folder."""
SURE = (OPEN_FOR_WRITING, EVENT_FILE)
"""Matches that need no better one: the search stops for a run found so, while its writer lives."""
FOUND_BY = {
    OPEN_FOR_WRITING: "log open for writing",
    EVENT_FILE: "event file names its pid",
    NAMED: "run folder",
    HOLDS_A_FILE: "file open in run folder",
}


@dataclass(frozen=True)
class WriterProcess:
    """The process that writes a run, at one moment."""

    pid: int
    """Its process id."""
    command: str
    """Its command line, shortened (``python train.py --lr 3e-4``)."""
    state: str
    """"running", "sleeping", "stopped" (Ctrl-Z) or "gone" (it exited)."""
    cpu_percent: float | None
    """CPU use over the last second, in percent of one core (None until measured, and once gone)."""
    rss: int | None
    """Resident memory in bytes."""
    gpu_memory: int | None
    """Bytes it holds on all GPUs (None where there is no GPU or NVML does not list it)."""
    found_by: str
    """How it was matched to the run (a value of :data:`FOUND_BY`)."""

    @property
    def exited(self) -> bool:
        """The writer has exited."""
        return self.state == "gone"


@dataclass
class _Followed:
    process: Any  # psutil.Process
    command: str
    rank: int
    gone: bool = False
    measured: bool = False


@dataclass(frozen=True)
class _Target:
    log: str
    """The log's real path (a file, or a TensorBoard folder)."""
    folder: str
    """The run's folder, ending in a separator."""
    is_file: bool


class WriterFinder:
    """Finds and follows the writer of each run; :meth:`poll` says how each is doing."""

    def __init__(self, table: ProcessTable | None = None, rescan_every: float = RESCAN_EVERY) -> None:
        self.table = table or process_table()
        """How the processes are listed."""
        self.rescan_every = rescan_every
        """Seconds between two searches while a run lacks a live writer."""
        self.scans = 0
        """Searches of the process table so far (the benchmark reports it)."""
        self._runs: dict[str, str] = {}
        self._followed: dict[str, _Followed] = {}
        self._scanned_at = -1e9
        self._gap = rescan_every

    def follow(self, runs: Mapping[str, str]) -> None:
        """Watch these runs (name → log file or folder) from the next poll on; others are forgotten.
        Safe to call from another thread."""
        runs = dict(runs)
        if runs != self._runs:
            self._runs = runs
            self._scanned_at = -1e9  # a new run is searched for at once
            self._gap = self.rescan_every

    def poll(self, gpu_memory: Mapping[int, int] | None = None) -> dict[str, WriterProcess | None]:
        """Each run's writer as it is now, or None where none was found. ``gpu_memory`` (pid → bytes,
        from :meth:`dataloupe.core.system.gpus.Gpus.process_memory`) fills in GPU memory."""
        runs = self._runs
        for name in [n for n in self._followed if n not in runs]:
            del self._followed[name]
        for followed in self._followed.values():
            _check(followed)
        needs = [
            n
            for n in runs
            if n not in self._followed or self._followed[n].gone or self._followed[n].rank not in SURE
        ]
        if needs and time.monotonic() - self._scanned_at >= self._gap:
            changed = self._scan({n: runs[n] for n in needs}, runs)
            self._gap = self.rescan_every if changed else min(RESCAN_AT_MOST, 2 * self._gap)
        return {name: self._report(name, gpu_memory) for name in runs}

    def _report(self, name: str, gpu_memory: Mapping[int, int] | None) -> WriterProcess | None:
        f = self._followed.get(name)
        if f is None:
            return None
        pid = f.process.pid
        found_by = FOUND_BY[f.rank]
        if f.gone:
            return WriterProcess(pid, f.command, "gone", None, None, None, found_by)
        import psutil

        try:
            with f.process.oneshot():
                status = f.process.status()
                cpu = f.process.cpu_percent(None)
                rss = f.process.memory_info().rss
        except psutil.NoSuchProcess:
            f.gone = True
            return WriterProcess(pid, f.command, "gone", None, None, None, found_by)
        except psutil.Error:
            status, cpu, rss = "sleeping", None, None
        if status in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            f.gone = True
            return WriterProcess(pid, f.command, "gone", None, None, None, found_by)
        first, f.measured = not f.measured, True
        cpu = None if first else cpu
        if status in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP):
            state = "stopped"
        elif status == psutil.STATUS_RUNNING or (cpu or 0) >= 1.0:
            state = "running"
        else:
            state = "sleeping"
        gpu = None if gpu_memory is None else gpu_memory.get(pid)
        return WriterProcess(pid, f.command, state, cpu, rss, gpu, found_by)

    # ------------------------------------------------------------------ the search
    def _scan(self, wanted: dict[str, str], every: dict[str, str]) -> bool:
        """Search for the writers of ``wanted``; whether one was found or replaced."""
        import psutil

        changed = False
        self._scanned_at = time.monotonic()
        self.scans += 1
        targets = {name: _target(path) for name, path in wanted.items()}
        logs = {os.path.realpath(p) for p in every.values()}
        prefixes = tuple(sorted({t.folder for t in targets.values()}))
        table = self.table(prefixes)
        parents = {p.pid: p.ppid for p in table}
        mine = set(ancestors(os.getpid(), parents))
        candidates = [p for p in table if p.pid not in mine and not _reads_only(p)]
        by_pid = {p.pid: p for p in candidates}
        for name, target in targets.items():
            best: dict[int, list[ProcessInfo]] = {}
            for p in candidates:
                rank = _rank(p, target, logs)
                if rank is not None:
                    best.setdefault(rank, []).append(p)
            named = _event_file_pid(target)
            if named is not None and named in by_pid and OPEN_FOR_WRITING not in best:
                best[EVENT_FILE] = [by_pid[named]]
            if not best:
                continue
            rank = min(best)
            current = self._followed.get(name)
            if current is not None and not current.gone and current.rank <= rank:
                continue
            chosen = _eldest(best[rank], parents)
            try:
                process = psutil.Process(chosen.pid)
            except psutil.Error:
                continue
            self._followed[name] = _Followed(process, short_command(chosen.cmdline) or chosen.name, rank)
            changed = True
        return changed


def _check(f: _Followed) -> None:
    """Mark ``f`` gone when its process has exited (or its id now belongs to another)."""
    if not f.gone and not f.process.is_running():
        f.gone = True


def _event_file_pid(target: _Target) -> int | None:
    """The process id in the name of the run folder's newest event file, when it was written on this
    host by a process that is still the same one (started before the file was)."""
    if target.is_file:
        return None
    import psutil

    try:
        names = [n for n in os.listdir(target.log) if n.startswith(EVENT_PREFIX)]
    except OSError:
        return None
    newest: tuple[int, int] | None = None
    for name in names:
        parts = name[len(EVENT_PREFIX) :].split(".")
        if parts and parts[-1] == "v2":  # TensorFlow 2's suffix
            parts = parts[:-1]
        if len(parts) < 4 or not (parts[0].isdigit() and parts[-2].isdigit()):
            continue
        if ".".join(parts[1:-2]) != socket.gethostname():
            continue
        if newest is None or int(parts[0]) > newest[0]:
            newest = (int(parts[0]), int(parts[-2]))
    if newest is None:
        return None
    try:
        started = psutil.Process(newest[1]).create_time()
    except psutil.Error:
        return None
    return newest[1] if started <= newest[0] + 1 else None  # else the id now belongs to another process


def _target(path: str) -> _Target:
    real = os.path.realpath(path)
    if os.path.isdir(real):
        return _Target(real, real.rstrip(os.sep) + os.sep, False)
    folder = os.path.dirname(real)
    if _CHECKPOINT.search(os.path.basename(folder)):  # a Trainer's checkpoint-N: the run is its output folder
        folder = os.path.dirname(folder)
    return _Target(real, folder.rstrip(os.sep) + os.sep, True)


def _rank(p: ProcessInfo, target: _Target, logs: set[str]) -> int | None:
    """How well ``p`` matches ``target`` (a value of :data:`FOUND_BY`'s keys), or None."""
    inside = [(path, w) for path, w in p.files if path.startswith(target.folder)]
    if target.is_file:
        if any(w and path == target.log for path, w in inside):
            return OPEN_FOR_WRITING
    elif any(w for _, w in inside):
        return OPEN_FOR_WRITING
    if p.name in SHELLS:
        return None
    if target.is_file and any(w and path not in logs for path, w in inside):
        return NAMED  # writes beside the log (its checkpoints, hparams): the same run, most likely
    if p.cwd and (p.cwd + os.sep == target.folder or not target.is_file and p.cwd.startswith(target.folder)):
        return NAMED  # works in the run's own folder (a folder of other runs holds no clue)
    if _names(p, target):
        return NAMED
    if any(path not in logs or path == target.log for path, _ in inside):
        return HOLDS_A_FILE
    return None


def _names(p: ProcessInfo, target: _Target) -> bool:
    """Whether an argument of ``p`` is the log, the run's folder or a folder above it (not ``/``)."""
    for arg in p.cmdline[1:]:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if value in ("", ".", "..", "~", os.sep) or value.startswith("-"):
            continue  # a flag, or a folder too vague to name a run
        if os.path.basename(value.rstrip(os.sep)) not in target.log:
            continue  # cheap: the log's path holds no such name
        full = os.path.realpath(os.path.join(p.cwd or os.sep, os.path.expanduser(value)))
        if full != os.sep and (full == target.log or target.folder.startswith(full.rstrip(os.sep) + os.sep)):
            return True
    return False


def _reads_only(p: ProcessInfo) -> bool:
    """Whether ``p`` is a program that only reads logs (``dataloupe train --log`` writes one)."""
    words = [p.name, *(os.path.basename(a) for a in p.cmdline[:3])]
    if any(w.startswith("dataloupe") for w in words):
        return "train" not in p.cmdline
    return any(w.startswith(READERS) for w in words)


def _eldest(found: list[ProcessInfo], parents: dict[int, int]) -> ProcessInfo:
    """The process among ``found`` that no other one started (DataLoader workers share their parent's
    files); among several, the newest."""
    pids = {p.pid for p in found}
    roots = [p for p in found if not pids.intersection(ancestors(p.pid, parents))]
    return max(roots or found, key=lambda p: p.pid)


def short_command(cmdline: tuple[str, ...] | list[str], width: int = COMMAND_WIDTH) -> str:
    """A command line to show: programs and paths by their last part, code given inline (``python -c
    …``) by its first word, cut at ``width`` characters."""
    parts = []
    for arg in cmdline:
        if any(c.isspace() for c in arg.strip()):
            arg = arg.split()[0] + "…"  # a program in an argument
        elif os.sep in arg and not arg.startswith("-"):
            arg = os.path.basename(arg.rstrip(os.sep))
        parts.append(arg)
    text = " ".join(p for p in parts if p)
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_writer(writer: WriterProcess | None) -> str:
    """One line about a run's writer: ``pid 4242 python train.py · 97% CPU · 1.2 GB · running``."""
    if writer is None:
        return "no writer process found"
    head = f"pid {writer.pid} {writer.command}"
    if writer.exited:
        return f"{head} · writer exited"
    parts = [head]
    if writer.cpu_percent is not None:
        parts.append(f"{writer.cpu_percent:.0f}% CPU")
    if writer.rss is not None:
        parts.append(size(writer.rss))
    if writer.gpu_memory:
        parts.append(f"{size(writer.gpu_memory)} on GPU")
    parts.append(writer.state)
    return " · ".join(parts)


def stall_reason(writer: WriterProcess | None) -> str:
    """Why a stalled run may have stopped, from its writer: crashed (gone) or stuck (alive)."""
    if writer is None:
        return "no writer process found"
    if writer.exited:
        return f"writer {writer.pid} exited: crashed or killed?"
    busy = (writer.cpu_percent or 0) >= BUSY_CPU
    using = f"{writer.cpu_percent or 0:.0f}% CPU" + (
        f", {size(writer.gpu_memory)} on GPU" if writer.gpu_memory else ""
    )
    if busy:
        return f"writer {writer.pid} alive and busy ({using}): stuck in a data loader or a loop?"
    if writer.state == "stopped":
        return f"writer {writer.pid} is stopped (Ctrl-Z?): resume it with fg or kill -CONT {writer.pid}"
    return f"writer {writer.pid} alive but idle ({using}): waiting on something, or deadlocked?"
