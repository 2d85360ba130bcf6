"""A TensorBoard run folder: the scalars in its ``events.out.tfevents.*`` files.

Records are read with TensorBoard's own reader (``RawEventFileLoader``, which keeps its
place in each file and stops quietly at a truncated last record, to resume when the writer
completes it) and decoded with TensorBoard's ``Event`` proto. New event files in the folder
(a restarted writer) are picked up at the next read. Garbage, where the reader stops for
good (a checksum that does not match), is reported with its byte offset. Without TensorFlow,
TensorBoard's reader checks checksums in pure Python; :mod:`dataloupe.core.runlogs.fast_crc` makes it
do that in C on first use.

``tensorboard`` is imported on first use, so importing this module costs nothing.

    python -c "from dataloupe.core.runlogs.tensorboard_events import EventFolderReader as R; \
print(len(R('runs/exp1').read().points))"
"""

from __future__ import annotations

import itertools
import os
import struct
from pathlib import Path
from typing import Any

from dataloupe.core.runlogs.base import Batch, LogReader, Point
from dataloupe.core.runlogs.fast_crc import install as install_fast_crc

EVENT_FILE_MARK = "tfevents"
"""Event files have this in their name (``events.out.tfevents.<time>.<host>``)."""
RECORDS_PER_READ = 50_000
"""Records decoded at most per read and file, so a large backlog arrives in pieces."""
_HEADER = 12  # 8-byte length + 4-byte masked CRC of the length
_FOOTER = 4  # masked CRC of the data


def is_event_file(name: str) -> bool:
    """Whether a file name is a TensorBoard event file."""
    return EVENT_FILE_MARK in name and not name.endswith((".tmp", ".lock"))


class _EventFile:
    """One event file: TensorBoard's loader plus how many bytes it has consumed."""

    def __init__(self, path: Path) -> None:
        from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader

        install_fast_crc()
        self.path = path
        self.loader = RawEventFileLoader(str(path))
        self.consumed = 0
        """Bytes of whole records read."""
        self.records = 0
        self.garbage: str | None = None

    def records_since(self, limit: int) -> tuple[list[bytes], bool]:
        """Up to ``limit`` new serialized events, and whether more are waiting."""
        # islice leaves the loader's generator paused after a whole record: nothing is lost.
        out = list(itertools.islice(self.loader.Load(), limit))
        self.consumed += sum(map(len, out)) + len(out) * (_HEADER + _FOOTER)
        self.records += len(out)
        return out, len(out) >= limit

    def check_stuck(self) -> None:
        """When bytes remain after the reader stopped, tell a record still being written from garbage."""
        masked_crc32c = install_fast_crc()
        try:
            size = os.path.getsize(self.path)
            if size - self.consumed < _HEADER:
                return
            with open(self.path, "rb") as f:
                f.seek(self.consumed)
                header = f.read(_HEADER)
                (length,) = struct.unpack("<Q", header[:8])
                (crc,) = struct.unpack("<I", header[8:])
                if masked_crc32c(header[:8]) != crc:
                    self.garbage = "a record header whose checksum does not match"
                    return
                if size - self.consumed < _HEADER + length + _FOOTER:
                    return  # the writer has not finished this record yet
                data = f.read(length)
                (data_crc,) = struct.unpack("<I", f.read(_FOOTER))
                if masked_crc32c(data) != data_crc:
                    self.garbage = "a record whose data checksum does not match"
        except OSError:
            return


def _size(path: Path) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _scalar(value: Any) -> float | None:
    """The number in a summary value, when it holds a scalar (old ``simple_value`` or a 0-d tensor)."""
    if value.HasField("simple_value"):
        return float(value.simple_value)
    if value.HasField("tensor"):
        tensor = value.tensor
        if tensor.tensor_shape.dim:  # not a scalar
            return None
        if tensor.float_val:
            return float(tensor.float_val[0])
        if tensor.double_val:
            return float(tensor.double_val[0])
        if tensor.tensor_content and tensor.dtype in (1, 2):  # DT_FLOAT, DT_DOUBLE
            fmt = "<f" if tensor.dtype == 1 else "<d"
            return float(struct.unpack(fmt, tensor.tensor_content[: struct.calcsize(fmt)])[0])
    return None


def _scalars(records: list[bytes], points: list[Point]) -> None:
    """Append the scalars of serialized events to ``points``; records that do not decode are skipped.

    The loop of the 1M-point benchmark: each proto field is read once, and the common case
    (``simple_value``, what ``SummaryWriter.add_scalar`` writes) takes no function call."""
    from tensorboard.compat.proto import event_pb2

    decode = event_pb2.Event.FromString
    append = points.append
    for raw in records:
        try:
            event = decode(raw)
        except Exception:  # noqa: BLE001 - protobuf's DecodeError; the next record may be fine
            continue
        values = event.summary.value  # empty when the event holds no summary (file_version, graph)
        if not values:
            continue
        step, wall = event.step, event.wall_time
        for index in range(len(values)):  # indexing is cheaper than upb's iterator
            value = values[index]
            if value.HasField("simple_value"):
                append((value.tag, step, value.simple_value, wall))
            else:
                number = _scalar(value)
                if number is not None:
                    append((value.tag, step, number, wall))


class EventFolderReader(LogReader):
    """All event files directly inside one folder (TensorBoard's notion of a run)."""

    format = "tensorboard"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._files: dict[Path, _EventFile] = {}

    def read(self) -> Batch:
        batch = Batch()
        try:
            names = sorted(n for n in os.listdir(self.path) if is_event_file(n))
        except OSError as e:
            self.problem = f"{self.path}: cannot be listed ({e.strerror or e})."
            return batch
        for gone in set(self._files) - {self.path / n for n in names}:
            del self._files[gone]  # removed or rotated away: its points are kept
        problems = []
        for name in names:  # in name order, which is creation-time order
            path = self.path / name
            event_file = self._files.get(path)
            if event_file is None:
                try:
                    event_file = self._files[path] = _EventFile(path)
                except Exception as e:  # noqa: BLE001 - TensorBoard raises its own error types
                    problems.append(f"{path}: cannot be opened ({e}).")
                    continue
            records, more = event_file.records_since(RECORDS_PER_READ)
            batch.more = batch.more or more
            _scalars(records, batch.points)
            if not more:
                event_file.check_stuck()
            if event_file.garbage:
                problems.append(
                    f"{path}: {event_file.garbage} at byte {event_file.consumed:,}; expected a TensorBoard "
                    f"event record. {event_file.records:,} records before it were read; the rest is skipped."
                )
            elif event_file.consumed == 0 and _size(path) == 0:
                problems.append(f"{path}: is empty; expected TensorBoard event records.")
        self.problem = " ".join(problems) or None
        return batch
