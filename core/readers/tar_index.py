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
_REGULAR = (ord("0"), 0, ord("7"))
"""Type flags of a regular file's header."""


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
    no input or no label, naming the shard and the sample. A plain shard (ustar headers, short
    names, an end marker: what WebDataset writes) is read by :func:`_members_at_once`, a whole
    window of headers at a time; any other, and every fault, by the member-by-member walk.
    """
    members = _members_at_once(_block_reader(f, size), size, cancel)
    if members is not None:
        found = _group(members, f, input_keys, label_keys)
        if found is not None:
            return found
    return _index_slowly(f, size, where, input_keys, label_keys, cancel)


def _index_slowly(
    f,
    size: int,
    where: str,
    input_keys: tuple[str, ...],
    label_keys: tuple[str, ...],
    cancel: threading.Event | None = None,
) -> ShardIndex:
    """The member-by-member walk: any tar layout, and the message that names a fault."""
    out = ShardIndex()
    window = _Window(f, size)
    pos, pending, seen_end = 0, None, False
    key, members = None, {}
    small = set(label_keys) | {"json"}

    def finish() -> None:
        chosen = next((k for k in input_keys if isinstance(members.get(k), tuple)), None)
        label = label_of(members, label_keys) if chosen is not None else None
        if chosen is None or label is None:
            listed = ", ".join(f"{key}.{ext}" for ext in members)
            if chosen is None:
                raise DatasetError(
                    f"{where}: sample {key} has no input (members: {listed}); expected a {key}.jpg, .png, "
                    ".webp or .npy. Add it, or name the input with --keys INPUT,LABEL."
                )
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

    if size >= BLOCK and not _checksum_ok(window.get(0, BLOCK)):
        raise DatasetError(f"{where}: not a tar file (its first header does not check). Pass .tar shards.")
    # the hot loop of opening a tar set (two members a sample): header fields are read straight
    # from the window's buffer, and nothing is decoded that a sample does not need
    while pos + BLOCK <= size:
        o = pos - window.start
        if o < 0 or o + BLOCK > len(window.buf):
            window.get(pos, BLOCK)
            o = 0
        buf = window.buf
        if buf[o] == 0 and buf[o : o + BLOCK] == _ZERO:
            seen_end = True
            break
        try:
            nbytes = int(buf[o + 124 : o + 135], 8)
        except ValueError:
            nbytes = _octal(buf[o + 124 : o + 136], where)
        data = pos + BLOCK
        if data + nbytes > size:
            name = buf[o : o + 100].split(b"\0", 1)[0].decode("utf-8", errors="replace")
            raise DatasetError(
                f"{where}: cut short. Member {name} needs {nbytes:,} bytes from byte {data:,}, but the file ends "
                f"at {size:,}. Copy or write the shard again."
            )
        flag = buf[o + 156]
        if flag in _REGULAR:
            if pending is not None:
                name, pending = pending, None
            else:
                raw = buf[o : o + 100]
                z = raw.find(0)
                name = (raw if z < 0 else raw[:z]).decode("utf-8", errors="replace")
                if buf[o + 345] and buf[o + 257 : o + 262] == b"ustar":
                    prefix = buf[o + 345 : o + 500].split(b"\0", 1)[0]
                    name = prefix.decode("utf-8", errors="replace") + "/" + name
            slash = name.rfind("/")
            dot = name.find(".", slash + 2)  # a name that starts with a dot is no sample's member
            if dot > 0:
                stem = name[:dot]
                if stem != key:
                    if key is not None:
                        finish()
                    key, members = stem, {}
                    if len(out.keys) % 4096 == 0:
                        check_cancel(cancel)
                ext = name[dot + 1 :].lower()
                if ext in small and nbytes <= LABEL_BYTES:
                    members[ext] = window.get(data, nbytes)
                else:
                    members[ext] = (data, nbytes)
        elif flag == 120:  # "x": a pax header, which may carry the next member's long name
            pending = _pax_path(window.get(data, nbytes))
        elif flag == 76:  # "L": a GNU long name
            pending = window.get(data, nbytes).split(b"\0", 1)[0].decode("utf-8", errors="replace")
        else:
            pending = None
        pos = data + (nbytes + BLOCK - 1) // BLOCK * BLOCK
    if not seen_end and pos != size:
        raise DatasetError(
            f"{where}: cut short. Its last member runs past the end of the file ({size:,} bytes). "
            "Copy or write the shard again."
        )
    if key is not None:
        finish()
    if not seen_end:
        out.note = f"{where} ends without tar's end marker: it may be cut short"
    return out


def as_arrays(index: ShardIndex) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and sizes as int64 arrays."""
    return np.asarray(index.offsets, np.int64), np.asarray(index.sizes, np.int64)


_USTAR = np.frombuffer(b"ustar", np.uint8)
_OCTAL = 8 ** np.arange(10, -1, -1, dtype=np.int64)
_PAX = ord("x")
_PLAIN = (ord("0"), 0, _PAX)
"""Header types the window scan reads: regular files, and pax headers that do not rename."""
LABEL_PEEK = 32
"""Bytes of a label member read straight from the window (longer labels are read one by one)."""


def _block_reader(f, size: int):
    """``read(pos, n)``: the 512-byte blocks of ``n`` bytes from ``pos``, as a uint8 array.

    A memory-mapped file (pyarrow's ``MemoryMappedFile``) is viewed in place, whole: no copy, and
    only the pages that hold headers are touched. Any other file is read a window at a time.
    """
    import pyarrow as pa

    if isinstance(f, pa.MemoryMappedFile):
        f.seek(0)
        whole = np.frombuffer(f.read_buffer(size - size % BLOCK), np.uint8)
        blocks = whole.reshape(-1, BLOCK)
        return lambda pos, n: blocks[pos // BLOCK : (pos + n) // BLOCK], size

    def read(pos: int, n: int) -> np.ndarray:
        return np.frombuffer(f.read_at(n, pos), np.uint8).reshape(-1, BLOCK)

    return read, READ_BYTES


def _members_at_once(reader, size: int, cancel: threading.Event | None) -> dict | None:
    """Every member of a plain ustar shard, found with numpy a window at a time; None for anything else.

    In each window the blocks holding "ustar" at byte 257 are the candidate headers; they are
    headers exactly when each one's size leads to the next (a "ustar" inside a member's data breaks
    that chain, and the walk takes over). A member larger than the window is skipped by reading the
    next window where its successor starts.
    """
    read, window = reader
    pos, names, offsets, sizes, peeks = 0, [], [], [], []
    while True:
        check_cancel(cancel)
        want = min(window, size - pos) // BLOCK * BLOCK
        if want < BLOCK:
            return None  # no end marker
        blocks = read(pos, want)
        heads = np.flatnonzero(blocks[:, 257] == _USTAR[0])
        heads = heads[np.all(blocks[heads, 258:262] == _USTAR[1:], axis=1)]
        if not len(heads) or heads[0] != 0:
            return None if blocks[0].any() else _joined(names, offsets, sizes, peeks)
        fields = blocks[heads]
        digits = fields[:, 124:135].astype(np.int64) - 48
        if ((digits < 0) | (digits > 7)).any() or fields[:, 345].any():
            return None  # sizes written another way, or long names: the walk reads those
        flags = fields[:, 156]
        if not np.isin(flags, _PLAIN).all():
            return None  # links, folders, GNU long names
        nbytes = digits @ _OCTAL
        following = heads + 1 + (nbytes + BLOCK - 1) // BLOCK
        if not np.array_equal(following[:-1], heads[1:]):
            return None
        if (pos + (heads + 1) * BLOCK + nbytes > size).any():
            return None
        pax = flags == _PAX
        if pax.any():  # the headers tarfile's PAX format writes (mtime…): harmless unless one renames
            if (nbytes[pax] > BLOCK).any() or (heads[pax] + 1 >= len(blocks)).any():
                return None
            if b" path=" in np.ascontiguousarray(blocks[heads[pax] + 1]).tobytes():
                return None
            heads, fields, nbytes = heads[~pax], fields[~pax], nbytes[~pax]
        names.append(fields[:, :100].copy().view("S100").ravel())
        offsets.append(pos + (heads + 1) * BLOCK)
        sizes.append(nbytes)
        peek = np.zeros((len(heads), LABEL_PEEK), np.uint8)
        inside = heads + 1 < len(blocks)
        peek[inside] = blocks[heads[inside] + 1, :LABEL_PEEK]
        peek[(nbytes > LABEL_PEEK) | ~inside] = 0
        peeks.append(peek.view(f"S{LABEL_PEEK}").ravel())
        last = int(following[-1])
        if last < len(blocks):  # the chain ends inside the window: the end marker must be there
            return _joined(names, offsets, sizes, peeks) if not blocks[last].any() else None
        pos += last * BLOCK


def _joined(names, offsets, sizes, peeks) -> dict | None:
    if not names:
        return None
    return {
        "names": np.concatenate(names),
        "offsets": np.concatenate(offsets).astype(np.int64),
        "sizes": np.concatenate(sizes).astype(np.int64),
        "peeks": np.concatenate(peeks),
    }


def _group(members: dict, f, input_keys: tuple[str, ...], label_keys: tuple[str, ...]) -> ShardIndex | None:
    """Members grouped into samples by key, with numpy; None when a sample lacks its input or label
    (the walk then names it) or a name has a folder part."""
    names = members["names"]
    if np.char.find(names, b"/").max(initial=-1) >= 0:
        return None
    keys, dots, exts = np.char.partition(names, b".").T
    if not (dots == b".").all():
        return None
    exts = np.char.lower(exts)
    new = np.ones(len(keys), bool)
    new[1:] = keys[1:] != keys[:-1]
    group = np.cumsum(new) - 1
    count = int(group[-1]) + 1
    chosen = np.full(count, -1, np.int64)
    kinds = np.full(count, -1, np.int64)
    for k in range(len(input_keys) - 1, -1, -1):
        at = np.flatnonzero(exts == input_keys[k].encode())
        chosen[group[at]] = at
        kinds[group[at]] = k
    labelled = np.full(count, -1, np.int64)
    for key in reversed(label_keys):
        at = np.flatnonzero(exts == key.encode())
        labelled[group[at]] = at
    if (chosen < 0).any() or (labelled < 0).any():
        return None
    sizes, peeks = members["sizes"], members["peeks"]
    tokens = peeks[labelled]
    long = np.flatnonzero(sizes[labelled] > LABEL_PEEK)
    if len(long):
        tokens = tokens.astype(object)
        for g in long:
            m = labelled[g]
            tokens[g] = f.read_at(int(sizes[m]), int(members["offsets"][m]))
    labels = [t.decode("utf-8", errors="replace").strip() for t in tokens.tolist()]
    return ShardIndex(
        keys=[k.decode("utf-8", errors="replace") for k in keys[new].tolist()],
        inputs=[input_keys[k] for k in kinds.tolist()],
        offsets=members["offsets"][chosen].tolist(),
        sizes=sizes[chosen].tolist(),
        labels=labels,
    )
