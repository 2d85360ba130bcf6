"""The processes on this box as the writer search needs them: command line, working folder, and the
files each holds open under some folders, with whether it may write them.

On Linux the table reads ``/proc`` directly, and reads a file descriptor's flags only for the
files under the folders asked about: a search over a hundred processes takes about 5 ms. Elsewhere
it asks ``psutil`` (slower, and without the write flag on some systems). Processes of other users
are skipped where they cannot be read.

    python -c "from dataloupe.core.system.processes import process_table; print(process_table()(('/tmp',))[:3])"
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessInfo:
    """One process, as read for the writer search."""

    pid: int
    """Its id."""
    ppid: int
    """Its parent's id."""
    name: str
    """The executable's short name ("python3.11")."""
    cmdline: tuple[str, ...]
    """Its arguments, the program first."""
    cwd: str
    """Its working folder ("" where it cannot be read)."""
    files: tuple[tuple[str, bool], ...]
    """(path, open for writing) of each file it holds open under the folders asked about."""


ProcessTable = Callable[[tuple[str, ...]], list[ProcessInfo]]
"""Lists the processes, with their open files under the given folder prefixes (ending in ``/``)."""


def process_table() -> ProcessTable:
    """The fastest table this system has."""
    return proc_table if os.path.isdir("/proc/self/fd") else psutil_table


def proc_table(prefixes: tuple[str, ...], proc: str = "/proc") -> list[ProcessInfo]:
    """The processes, read from ``/proc`` (Linux)."""
    me = os.getpid()
    uid = os.getuid()
    found: list[ProcessInfo] = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        base = f"{proc}/{entry.name}"
        try:
            if uid != 0 and entry.stat().st_uid != uid:
                continue  # another user's: its fd folder is closed to us
            with open(f"{base}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            with open(f"{base}/cmdline", "rb") as f:
                cmdline = tuple(a.decode(errors="replace") for a in f.read().split(b"\0") if a)
        except (OSError, ValueError):
            continue  # exited while we looked, or a kernel thread
        try:
            cwd = os.readlink(f"{base}/cwd")
        except OSError:
            cwd = ""
        files: list[tuple[str, bool]] = []
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            fds = []
        for fd in fds:
            try:
                target = os.readlink(f"{base}/fd/{fd}")
            except OSError:
                continue
            if prefixes and target.startswith(prefixes):
                files.append((target, _writable(f"{base}/fdinfo/{fd}")))
        found.append(ProcessInfo(int(entry.name), ppid, name, cmdline, cwd, tuple(files)))
    return found


def _writable(fdinfo: str) -> bool:
    """Whether the descriptor was opened for writing (its flags end in O_WRONLY or O_RDWR)."""
    try:
        with open(fdinfo) as f:
            for line in f:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8) & 0o3 in (1, 2)
    except (OSError, ValueError, IndexError):
        pass
    return False


def psutil_table(prefixes: tuple[str, ...]) -> list[ProcessInfo]:
    """The processes, through psutil (any system it supports)."""
    import psutil

    me = os.getpid()
    found: list[ProcessInfo] = []
    for p in psutil.process_iter(["pid", "ppid", "name", "cmdline", "cwd"]):
        if p.info["pid"] == me:
            continue
        files: list[tuple[str, bool]] = []
        try:
            for f in p.open_files() if prefixes else ():
                if f.path.startswith(prefixes):
                    files.append((f.path, getattr(f, "mode", "w") != "r"))
        except (psutil.Error, OSError):
            pass
        found.append(
            ProcessInfo(
                p.info["pid"],
                p.info["ppid"] or 0,
                p.info["name"] or "",
                tuple(p.info["cmdline"] or ()),
                p.info["cwd"] or "",
                tuple(files),
            )
        )
    return found


def ancestors(pid: int, parents: dict[int, int]) -> Iterable[int]:
    """``pid``'s parent, its parent's parent, … as far as ``parents`` (pid → ppid) knows them."""
    seen = {pid}
    while (pid := parents.get(pid, 0)) and pid not in seen:
        seen.add(pid)
        yield pid
