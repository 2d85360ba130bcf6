"""A program started by a test, whose output is read as it comes, with real deadlines.

``process.stdout.readline()`` blocks until a line comes, so a loop around it never reaches its
deadline when the program prints nothing. :class:`Output` reads both streams in threads instead,
and every wait ends at its deadline.

    output = Output(subprocess.Popen([...], stdout=PIPE, stderr=PIPE, text=True))
    output.wait_for_line(lambda line: line.startswith("epoch "), timeout=90)
    process.send_signal(signal.SIGINT)
    out, err = output.finish(timeout=30)
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable


class Output:
    """Both output streams of ``process``, read line by line in threads as the program writes them."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        """stdout's lines as they come; None once it has closed."""
        self._out: list[str] = []
        self._err: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, args=(process.stdout, self._out, True), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self._err, False), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, stream, into: list[str], announce: bool) -> None:
        for line in iter(stream.readline, ""):
            into.append(line)
            if announce:
                self.lines.put(line)
        if announce:
            self.lines.put(None)

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float) -> str:
        """The first stdout line for which ``predicate`` holds; AssertionError after ``timeout`` seconds
        or when the program closes its output first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                raise AssertionError(
                    f"no such line within {timeout} s; stdout so far:\n{''.join(self._out)}"
                ) from None
            if line is None:
                raise AssertionError(f"the program closed its output first; stdout:\n{''.join(self._out)}")
            if predicate(line):
                return line

    def finish(self, timeout: float) -> tuple[str, str]:
        """Wait for the program to end (``subprocess.TimeoutExpired`` after ``timeout``); its whole output."""
        self.process.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=timeout)
        return "".join(self._out), "".join(self._err)


def quit_on_pty(pid: int, fd: int, timeout: float = 10.0) -> None:
    """Press q in the app that runs on the pseudo-terminal ``fd`` (a ``pty.fork`` child), reading what
    it draws meanwhile so that it never blocks on a full terminal; kill it after ``timeout`` seconds."""
    import os
    import select

    os.write(fd, b"q")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        try:
            select.select([fd], [], [], 0.1)
            os.read(fd, 65536)
        except OSError:
            pass
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
