"""Read a text file that another process is still writing, a few new lines at a time.

:class:`TailReader` remembers how far it has read (a byte offset) and returns only the
complete lines written since; a last line without its newline is held back until the
writer finishes it. A file that was replaced (another inode), truncated (shorter than
what was read) or rewritten (its first bytes changed) is read again from the start; the
run model drops the points it has already seen.

    python -c "from dataloupe.core.runlogs.tail import TailReader; t = TailReader('metrics.csv'); print(t.read_lines())"
"""

from __future__ import annotations

import os
from pathlib import Path

READ_LIMIT = 8 << 20
"""Bytes read at most per call, so a huge file arrives in pieces and the caller stays responsive."""
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
        self._inode: int | None = None
        self._signature = b""

    def read_lines(self) -> tuple[list[str], bool]:
        """(new complete lines, whether reading started over from the top of the file).

        Raises OSError when the file cannot be read (it was removed, or permission is refused).
        """
        st = os.stat(self.path)
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
                restarted = True
            self._inode = st.st_ino
            self._signature = head
            if st.st_size <= self.offset:
                return [], restarted
            f.seek(self.offset)
            data = f.read(min(st.st_size - self.offset, READ_LIMIT))
        end = data.rfind(b"\n")
        if end < 0:
            return [], restarted  # a half-written first line: wait for its newline
        self.offset += end + 1
        text = data[: end + 1].decode("utf-8", errors="replace")
        return text.splitlines(), restarted

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
        """Whether the file holds more complete data than has been read (after a READ_LIMIT cut)."""
        try:
            return os.path.getsize(self.path) - self.offset > READ_LIMIT // 2
        except OSError:
            return False
