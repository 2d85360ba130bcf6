"""A training run's writer stood in for by a small process: it writes a log and waits until told to end.

``start_writer(log)`` returns once the process has written its lines (it says "ready" on stdout),
so a test waits on that condition, never on a clock. The process holds the log open for
appending (``keep_open``), or closes it after each burst as Lightning's CSV logger does; with
``fork`` it starts a child that inherits the open file, as a DataLoader worker does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from support.processes import Output

CODE = """
import json, os, sys
path, keep_open, fork = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
f = open(path, "a")
for step in range(50):
    f.write(json.dumps({"step": step, "loss": 1 / (step + 1)}) + "\\n")
f.flush()
if not keep_open:
    f.close()
child = os.fork() if fork else None
if child == 0:
    sys.stdin.read()
    os._exit(0)
print("ready", child or "", flush=True)
sys.stdin.read()
"""


def start_writer(log: Path, *, keep_open: bool = True, fork: bool = False, cwd: Path | None = None):
    """The writer process, once its lines are on disk. ``proc.child`` is the forked child's pid (or None).
    End it with ``proc.kill(); proc.wait()`` (or close its stdin)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CODE, str(log), "1" if keep_open else "0", "1" if fork else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    words = Output(proc).wait_for_line(lambda line: line.startswith("ready"), timeout=30).split()
    proc.child = int(words[1]) if len(words) > 1 else None
    return proc


def end(proc) -> None:
    """Kill the writer (and its child) and reap it; a second call does nothing more."""
    if getattr(proc, "child", None):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.child, signal.SIGKILL)
    proc.kill()
    proc.wait()
    proc.stdin.close()
