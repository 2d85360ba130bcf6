"""Writing a file so that nothing is lost: checked before the work, locked, atomic, no orphans left.

A checkpoint is written to a temporary file in the target's folder, flushed, fsynced and
renamed over the target, so a crash never destroys an earlier file. The temporary file's
name marks it as dataloupe's (``.NAME.dataloupe-XXXX.tmp``); one left behind by a process
killed mid-save is removed by the next save to that folder. Saves into one folder hold
an exclusive lock on it, so two runs never write at once, and a save can refuse a target
that changed since the run began (another run wrote it meanwhile). Only a regular file is ever
replaced or read as a checkpoint: a device, a FIFO or a socket under the name is refused.

A write can fail with anything, not only ``OSError``: ``torch.save`` reports a full disk as a
``RuntimeError`` from its zip writer. Every failure of the write is a :class:`CheckpointError`,
and when the folder's filesystem has (almost) no space left, the message says the disk is full.

    python -c "from dataloupe.core.training.safe_save import check_writable; check_writable('/tmp/model.pt'); print('ok')"
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from dataloupe.core.errors import CheckpointError
from dataloupe.core.wording import size

try:
    import fcntl
except ImportError:  # not on POSIX: saves still work, without the lock
    fcntl = None  # type: ignore[assignment]

TEMP_TAG = ".dataloupe-"
"""In every temporary file's name, so that a leftover is recognisably ours."""
TEMP_SUFFIX = ".tmp"
"""The ending of a temporary file."""
STARTED = time.time()
"""When this process began saving (this module's import): temporary files older than it are orphans."""

FULL_BELOW = 4 * 2**20
"""Free bytes under which a failed write is put down to a full disk (a write fails a few blocks short)."""
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
"""What the system says when a disk, or a user's quota on it, is full."""

FileState = tuple[int, int, int] | None
"""A file's (inode, size, mtime in ns), or None when it does not exist: what a save checks has not changed."""


def file_state(path: Path) -> FileState:
    """What :data:`FileState` says about ``path`` now."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def kind_of_file(mode: int) -> str:
    """What a file that is not a regular one is, in words ("a FIFO (named pipe)", "a character device")."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def special_file(path: Path) -> str | None:
    """What ``path`` is when it exists and, links followed, is not a regular file ("a character
    device (/dev/zero)" for a link to it); None for a regular file or nothing at all. Asked without
    opening it, so a FIFO never blocks."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode):
        return None
    what = kind_of_file(st.st_mode)
    real = os.path.realpath(path)
    return f"{what} ({real})" if real != str(Path(path).absolute()) else what


def free_space(folder: Path) -> int | None:
    """Bytes a user may still write on ``folder``'s filesystem, or None when it cannot be asked."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def why_write_failed(target: Path, error: BaseException) -> str:
    """The reason a write to ``target`` failed, for the user: a full disk said as such, with the space left."""
    free = free_space(target.parent)
    full = getattr(error, "errno", None) in FULL_ERRNOS or (free is not None and free < FULL_BELOW)
    if full:
        said = [error.strerror] if isinstance(error, OSError) and error.strerror else []
        said += [f"{size(free)} free"] if free is not None else []
        left = f" ({'; '.join(said)})" if said else ""
        return (
            f"cannot save to {target}: the disk holding {target.parent} is full{left}. "
            "Free some space there or save to another disk."
        )
    if isinstance(error, OSError):
        return f"cannot save to {target}: {error.strerror or error}."
    return f"cannot save to {target}: the write failed ({type(error).__name__}: {_first_line(error)})."


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else "no details"


def _file_target(path: str | os.PathLike[str]) -> Path:
    """``path`` expanded; CheckpointError when it is a folder, is not a regular file, or its folder does
    not exist."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise CheckpointError(f"{target} is a folder; give a file name such as {target / 'model.pt'}.")
    special = special_file(target)
    if special is not None:
        raise CheckpointError(
            f"cannot save to {target}: it is {special}, not a regular file, and is never replaced. "
            "Choose a file name."
        )
    if not target.parent.is_dir():
        raise CheckpointError(
            f"cannot save to {target}: the folder {target.parent} does not exist. Create it first."
        )
    return target


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`CheckpointError` unless a file can be written at ``path``; return the path.

    Checked by creating (and removing) a temporary file in its folder, so a read-only folder,
    a full disk or a path under /proc is found before a run, not after it.
    """
    target = _file_target(path)
    folder = target.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}{TEMP_TAG}", suffix=TEMP_SUFFIX, dir=folder)
        try:
            os.write(fd, b"dataloupe")
            os.fsync(fd)
        finally:
            os.close(fd)
            Path(probe).unlink(missing_ok=True)
    except OSError as e:
        if e.errno in FULL_ERRNOS:
            raise CheckpointError(why_write_failed(target, e)) from None
        raise CheckpointError(
            f"cannot save to {target}: {e.strerror or e}. Choose a folder you can write to."
        ) from None
    return target


def remove_leftovers(folder: Path, older_than: float = STARTED) -> list[Path]:
    """Delete dataloupe's temporary files in ``folder`` last written before ``older_than``; return them.

    Call it holding :func:`folder_lock`: no save can then be under way there, so every such file
    is one whose writer died.
    """
    removed = []
    for path in folder.glob(f".*{TEMP_TAG}*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < older_than:
                path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (POSIX ``flock``) for one save; other saves there wait."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield  # a folder that cannot be opened cannot be locked; the rename still keeps the save atomic
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], None],
    *,
    unchanged_since: FileState | bool = False,
) -> Path:
    """Write ``path`` through ``write(file)``, atomically, under the folder's lock; return the path.

    With ``unchanged_since`` (a :func:`file_state` taken before the work), the save is refused
    when the target changed since: another run wrote it meanwhile, and it is not overwritten.
    """
    target = _file_target(path)
    folder = target.parent
    with folder_lock(folder):
        remove_leftovers(folder)
        if unchanged_since is not False and file_state(target) != unchanged_since:
            raise CheckpointError(
                f"{target} was written by someone else while this run trained; it was not overwritten."
            )
        tmp_name = ""
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}{TEMP_TAG}", suffix=TEMP_SUFFIX, dir=folder
            )
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the file
            os.chmod(tmp_name, 0o644)
            if special_file(target) is not None:  # became a device or a FIFO while the run trained
                _file_target(target)
            os.replace(tmp_name, target)
            tmp_name = ""
        except CheckpointError:
            raise
        except Exception as e:  # noqa: BLE001 - a write fails in many ways (torch.save: RuntimeError on ENOSPC)
            reason = why_write_failed(target, e)  # asked before the partial file goes and frees its space
            raise CheckpointError(reason) from None
        finally:
            if tmp_name:  # failed before the rename: remove the partial file, keep the old one
                Path(tmp_name).unlink(missing_ok=True)
        _fsync_folder(folder)
    return target


def rescue_path(target: Path, tag: str, folder: Path | None = None) -> Path:
    """Where to put a model that could not go to ``target``: ``NAME.TAG.pt`` in ``folder`` (default: beside
    the target), numbered when taken ("digits.rescued.pt", "digits.rescued-2.pt", …)."""
    folder = folder if folder is not None else target.parent
    stem, suffix = target.stem or "model", target.suffix or ".pt"
    candidate = folder / f"{stem}.{tag}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}.{tag}-{n}{suffix}"
        n += 1
    return candidate


def save_or_rescue(
    save: Callable[[Path], Path], path: Path, target: Path, tag: str
) -> tuple[Path | None, str]:
    """``save(path)``; when that fails, ``save`` to ``NAME.TAG.pt`` (``target``'s name) in the first of the
    current folder, the home folder and the system's temporary folder that takes it.

    Returns (the path written or None, why ``path`` could not be written: "" when it was). Nothing
    trained is lost to a full disk or a folder gone read-only while the run trained.
    """
    try:
        return save(path), ""
    except CheckpointError as e:
        reason = str(e)
    folders = [Path(tempfile.gettempdir())]
    with contextlib.suppress(OSError, RuntimeError):  # no current folder any more, no home
        folders[:0] = [Path.cwd(), Path.home()]
    for folder in folders:
        try:
            return save(rescue_path(target, tag, folder)), reason
        except (CheckpointError, OSError):
            continue
    return None, reason


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
