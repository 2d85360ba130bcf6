"""Read a text file that another process is still writing, a few new lines at a time.

:class:`TailReader` remembers how far it has read (a byte offset) and returns only the
complete lines written since; a last line without its newline is held back until the
writer finishes it. A line longer than :data:`LINE_LIMIT` is not held in memory: it is skipped,
and returned as None so the reader can name it. A file that was replaced (another inode),
truncated (shorter than what was read) or rewritten (its first bytes changed) is read again
from the start, and the run starts over with it.

    python -c "from dataloupe.core.runlogs.tail import TailReader; t = TailReader('metrics.csv'); print(t.read_lines())"
"""

from __future__ import annotations

import os
from pathlib import Path

READ_LIMIT = 8 << 20
"""Bytes read at most per call, so a huge file arrives in pieces and the caller stays responsive."""
LINE_LIMIT = READ_LIMIT
"""Longest line read; a longer one (a 50 MB JSON object) is skipped whole, and returned as None."""
SKIP_PER_CALL = 8
"""Chunks of READ_LIMIT bytes looked through at most per call for the end of a line too long."""
SIGNATURE_BYTES = 256
"""Bytes at the start of the file compared at each read to notice a rewrite in place."""


class TailReader:
    """Incremental reader of the complete lines of a growing text file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        """The file."""
        self.offset = 0
        """Bytes consumed: everything before this offset has been returned as lines."""
        self.restarts = 0
        """Times the file was found replaced, truncated or rewritten and read again from the start."""
        self.cut = False
        """The last read stopped at READ_LIMIT with more of the file waiting."""
        self.skipping = False
        """In the middle of a line too long to read: the bytes up to its newline are passed over."""
        self._inode: int | None = None
        self._signature = b""
        self._stamp: tuple[int, int, int] | None = None

    def read_lines(self) -> tuple[list[str | None], bool]:
        """(new complete lines, None standing for each line too long to read; whether reading started
        over from the top of the file).

        Raises OSError when the file cannot be read (it was removed, or permission is refused).
        """
        st = os.stat(self.path)
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp and not self.cut and not self.skipping:
            return [], False  # unchanged since the last read: a folder of 2,000 quiet runs costs a stat each
        self._stamp = stamp
        restarted = False
        with open(self.path, "rb") as f:
            head = f.read(SIGNATURE_BYTES)
            if self._inode is not None and (
                st.st_ino != self._inode
                or st.st_size < self.offset
                or head[: len(self._signature)] != self._signature
            ):
                self.offset = 0
                self.restarts += 1
                self.skipping = False
                restarted = True
            self._inode = st.st_ino
            self._signature = head
            self.cut = False
            if st.st_size <= self.offset:
                return [], restarted
            lines: list[str | None] = []
            if self.skipping:
                if not self._skip(f):
                    return lines, restarted
                lines.append(None)  # the line too long has ended
            for _ in range(SKIP_PER_CALL):  # one line too long after another: a few per call
                if st.st_size <= self.offset:
                    return lines, restarted
                f.seek(self.offset)
                data = f.read(min(st.st_size - self.offset, READ_LIMIT))
                self.cut = st.st_size - self.offset > READ_LIMIT
                end = data.rfind(b"\n")
                if end >= 0:
                    break
                if len(data) < LINE_LIMIT:
                    return lines, restarted  # a half-written line: wait for its newline
                self.offset += len(data)  # no newline in a whole chunk: a line too long to hold
                self.skipping = True
                if not self._skip(f):
                    return lines, restarted
                lines.append(None)
            else:
                return lines, restarted
        self.offset += end + 1
        text = data[: end + 1].decode("utf-8", errors="replace")
        return lines + text.splitlines(), restarted

    def _skip(self, f) -> bool:
        """Pass over the rest of a line too long to read; whether its end was found (else try again)."""
        for _ in range(SKIP_PER_CALL):
            f.seek(self.offset)
            chunk = f.read(READ_LIMIT)
            if not chunk:
                self.cut = False  # the writer is still in the middle of that line: wait for it
                return False
            newline = chunk.find(b"\n")
            if newline >= 0:
                self.offset += newline + 1
                self.skipping = False
                return True
            self.offset += len(chunk)
        self.cut = True
        return False

    @property
    def empty(self) -> bool:
        """Whether nothing has been read and the file holds no bytes at all (a gone file is not empty)."""
        if self.offset:
            return False
        try:
            return os.path.getsize(self.path) == 0
        except OSError:
            return False

    @property
    def more(self) -> bool:
        """Whether the last read left part of the file unread (a READ_LIMIT cut, a long line being passed)."""
        return self.cut
