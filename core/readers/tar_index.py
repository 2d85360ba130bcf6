"""One pass over a tar shard: where each sample's input lies, and its label.

WebDataset keeps a sample as consecutive tar members that share a key (``000123.png``,
``000123.cls``). :func:`index_tar` walks the headers once, in large reads, and keeps, for every
sample, the byte offset and size of its input member and the text of its label; the input bytes
themselves are skipped. Reading a sample later is one read at a known offset: no rescan.

    python -c "from dataloupe.core.readers.tar_index import member_key; print(member_key('a/000123.seg.png'))"
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import numpy as np

from dataloupe.core.errors import DatasetError
from dataloupe.core.progress import check_cancel

BLOCK = 512
READ_BYTES = 4 * 2**20
"""Bytes read at a time while indexing: a few large reads, local or remote."""
LABEL_BYTES = 2**16
"""Label members (``cls``, ``json``…) larger than this are not labels."""
_ZERO = bytes(BLOCK)


def member_key(name: str) -> tuple[str, str] | None:
    """A member's sample key and extension, as WebDataset splits them ("a/0001.seg.png" → ("a/0001", "seg.png"))."""
    base = name.rsplit("/", 1)[-1]
    if "." not in base.lstrip("."):
        return None
    head, _, tail = name.rpartition("/")
    stem, _, ext = base.partition(".")
    return (f"{head}/{stem}" if head else stem), ext.lower()


@dataclass
class ShardIndex:
    """The samples of one tar shard."""

    keys: list[str] = field(default_factory=list)
    """Each sample's key."""
    inputs: list[str] = field(default_factory=list)
    """The extension of each sample's input member ("png")."""
    offsets: list[int] = field(default_factory=list)
    """Byte offset of each input member's data."""
    sizes: list[int] = field(default_factory=list)
    """Byte size of each input member."""
    labels: list[str] = field(default_factory=list)
    """Each sample's label, as written ("3", "cat")."""
    note: str = ""
    """What the user should know about the shard (no end marker: perhaps cut short)."""


class _Window:
    """Reads of a random-access file through one large buffer."""

    def __init__(self, f, size: int) -> None:
        self.f, self.size = f, size
        self.start, self.buf = 0, b""

    def get(self, pos: int, n: int) -> bytes:
        o = pos - self.start
        if o < 0 or o + n > len(self.buf):
            self.start, self.buf = pos, self.f.read_at(min(max(READ_BYTES, n), self.size - pos), pos)
            o = 0
        return self.buf[o : o + n]


def _octal(field_bytes: bytes, where: str) -> int:
    if field_bytes[:1] and field_bytes[0] & 0x80:  # base-256, for sizes over 8 GB
        return int.from_bytes(field_bytes[1:], "big")
    text = field_bytes.split(b"\0", 1)[0].strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        raise DatasetError(
            f"{where}: not a tar file, or damaged here (a header's size reads {text!r})."
        ) from None


def _checksum_ok(header: bytes) -> bool:
    try:
        stored = int(header[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(header[:148]) + 256 + sum(header[156:])


def _pax_path(data: bytes) -> str | None:
    """The ``path`` record of a pax extended header, if any."""
    for record in data.split(b"\n"):
        _, _, kv = record.partition(b" ")
        key, _, value = kv.partition(b"=")
        if key == b"path":
            return value.decode("utf-8", errors="replace")
    return None


def label_of(members: dict[str, bytes | tuple[int, int]], label_keys: tuple[str, ...]) -> str | None:
    """A sample's label: the first of ``label_keys`` among its members, or that field of its ``json``."""
    for key in label_keys:
        value = members.get(key)
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace").strip()
    meta = members.get("json")
    if isinstance(meta, bytes):
        try:
            parsed = json.loads(meta)
        except ValueError:
            return None
        if isinstance(parsed, dict):
            for key in label_keys:
                if key in parsed and isinstance(parsed[key], int | str) and not isinstance(parsed[key], bool):
                    return str(parsed[key]).strip()
    return None


def index_tar(
    f,
    size: int,
    where: str,
    input_keys: tuple[str, ...],
    label_keys: tuple[str, ...],
    cancel: threading.Event | None = None,
) -> ShardIndex:
    """Index one tar shard (``f``: a pyarrow random-access file of ``size`` bytes).

    Raises :class:`DatasetError` for a file that is not a tar, a member cut short, or a sample with
    no input or no label, naming the shard and the sample.
    """
    out = ShardIndex()
    window = _Window(f, size)
    pos, pending, seen_end = 0, None, False
    key, members = None, {}
    small = set(label_keys) | {"json"}

    def finish() -> None:
        if key is None:
            return
        chosen = next((k for k in input_keys if isinstance(members.get(k), tuple)), None)
        listed = ", ".join(f"{key}.{ext}" for ext in members)
        if chosen is None:
            raise DatasetError(
                f"{where}: sample {key} has no input (members: {listed}); expected a {key}.jpg, .png, .webp "
                "or .npy. Add it, or name the input with --keys INPUT,LABEL."
            )
        label = label_of(members, label_keys)
        if label is None:
            raise DatasetError(
                f"{where}: sample {key} has no label (members: {listed}); expected {key}.cls, {key}.label "
                f'or a {key}.json with a "label" field. Add it, or name the label with --keys INPUT,LABEL.'
            )
        offset, nbytes = members[chosen]  # type: ignore[misc]
        out.keys.append(key)
        out.inputs.append(chosen)
        out.offsets.append(offset)
        out.sizes.append(nbytes)
        out.labels.append(label)

    while pos + BLOCK <= size:
        header = window.get(pos, BLOCK)
        if header == _ZERO:
            seen_end = True
            break
        if pos == 0 and not _checksum_ok(header):
            raise DatasetError(
                f"{where}: not a tar file (its first header does not check). Pass .tar shards."
            )
        nbytes = _octal(header[124:136], where)
        data = pos + BLOCK
        if data + nbytes > size:
            name = header[:100].split(b"\0", 1)[0].decode("utf-8", errors="replace")
            raise DatasetError(
                f"{where}: cut short. Member {name} needs {nbytes:,} bytes from byte {data:,}, but the file ends "
                f"at {size:,}. Copy or write the shard again."
            )
        flag = header[156:157]
        if flag in (b"0", b"\0", b"7"):
            if pending is not None:
                name, pending = pending, None
            else:
                name = header[:100].split(b"\0", 1)[0].decode("utf-8", errors="replace")
                if header[257:262] == b"ustar":
                    prefix = header[345:500].split(b"\0", 1)[0]
                    if prefix:
                        name = prefix.decode("utf-8", errors="replace") + "/" + name
            parts = member_key(name)
            if parts is not None:
                if parts[0] != key:
                    finish()
                    key, members = parts[0], {}
                    if len(out.keys) % 4096 == 0:
                        check_cancel(cancel)
                ext = parts[1]
                if ext in small and nbytes <= LABEL_BYTES:
                    members[ext] = window.get(data, nbytes)
                else:
                    members[ext] = (data, nbytes)
        elif flag == b"x":
            pending = _pax_path(window.get(data, nbytes))
        elif flag == b"L":
            pending = window.get(data, nbytes).split(b"\0", 1)[0].decode("utf-8", errors="replace")
        else:
            pending = None
        pos = data + (nbytes + BLOCK - 1) // BLOCK * BLOCK
    if not seen_end and pos != size:
        raise DatasetError(
            f"{where}: cut short. Its last member runs past the end of the file ({size:,} bytes). "
            "Copy or write the shard again."
        )
    finish()
    if not seen_end:
        out.note = f"{where} ends without tar's end marker: it may be cut short"
    return out


def as_arrays(index: ShardIndex) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and sizes as int64 arrays."""
    return np.asarray(index.offsets, np.int64), np.asarray(index.sizes, np.int64)
