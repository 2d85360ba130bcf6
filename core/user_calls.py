"""Calling the user's own code: importing their file or module, and running what it defines.

Whenever the user's code raises, :class:`~dataloupe.core.errors.UserCodeError` carries their own
traceback (their file and line, without dataloupe's frames or DataLoader's plumbing) as its message.
Readers of a user's Dataset, their DataLoader's batches, and a user's own model all call it through
:func:`run_user`, so nothing here imports a reader or the loader code.

A call into the user's code may never return (a ``__getitem__`` waiting on a lock or a network),
and a thread cannot be killed. So every call is registered while it runs: :func:`running_calls`
lists them with how long each has run, which lets the app say which one is stuck ("your
``__getitem__(17)`` has not returned for 30 s") and leave its thread behind when the user quits.

    python -c "from dataloupe.core.user_calls import run_user; run_user('calling int()', int, 'x')"
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import reprlib
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dataloupe.core.errors import Cancelled, DataloupeError, DatasetError, UserCodeError

T = TypeVar("T")

_OURS = tuple(str(Path(__file__).resolve().parents[1] / d) + os.sep for d in ("core", "tui"))
_PLUMBING = (
    os.sep + os.path.join("torch", "utils", "data") + os.sep,
    os.sep + os.path.join("torch", "_utils.py"),
    "<frozen ",
)


# ---------------------------------------------------------------------- calls under way
@dataclass(frozen=True)
class UserCall:
    """A call into the user's code that has not returned yet."""

    call: str
    """The call as the user wrote it: "__getitem__(17)", "next(<generator object stream>)"."""
    what: str
    """What dataloupe was doing: "reading sample 17 of the train split"."""
    started: float
    """When it began (``time.monotonic()``)."""
    thread: int
    """The identity of the thread that made it."""

    def seconds(self, now: float | None = None) -> float:
        """How long it has run."""
        return (time.monotonic() if now is None else now) - self.started

    def describe(self, now: float | None = None) -> str:
        """ "your `__getitem__(17)` has not returned for 30 s" """
        return f"your `{self.call}` has not returned for {self.seconds(now):.0f} s"


_RUNNING: dict[int, UserCall] = {}
"""The user's calls under way, by a serial of their own (a call may call back into run_user)."""
_SERIAL = iter(range(1, 2**62))
_LOCK = threading.Lock()
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 24


def describe_call(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """``fn(*args)`` as a short line: the function's name and each argument's (shortened) repr."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return f"{name}({', '.join(_short(a) for a in args)})"


def _short(value: Any) -> str:
    """A value as an argument in :func:`describe_call`: numbers and strings as written, objects by type."""
    if value is None or isinstance(value, (int, float, str, bytes, tuple)):
        return _REPR.repr(value)
    return f"<{type(value).__name__}>"


def running_calls(longer_than: float = 0.0) -> list[UserCall]:
    """The user's calls under way that have run longer than ``longer_than`` seconds, the oldest first."""
    now = time.monotonic()
    with _LOCK:
        calls = list(_RUNNING.values())
    return sorted((c for c in calls if c.seconds(now) > longer_than), key=lambda c: c.started)


def in_user_code(thread: int) -> bool:
    """Whether the thread ``thread`` (a ``threading.get_ident()``) is inside a call of the user's code."""
    with _LOCK:
        return any(c.thread == thread for c in _RUNNING.values())


# ---------------------------------------------------------------------- running the user's code
def user_traceback(error: BaseException) -> str:
    """The traceback of ``error`` with only the user's frames (not dataloupe's, importlib's or DataLoader's)."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if not f.filename.startswith(_OURS) and not any(p in f.filename for p in _PLUMBING)
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    lines += traceback.format_exception_only(type(error), error)
    return _without_plumbing("".join(lines).rstrip())


def _without_plumbing(text: str) -> str:
    """``text`` without the frames of DataLoader's own code, which a worker process writes into its message."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("  File "):
            skipping = any(p in line for p in _PLUMBING)
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def run_user(what: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, the user's code; anything it raises becomes :class:`UserCodeError` with their traceback.

    ``what`` says what dataloupe was doing, for the first line: "calling make_data()". What the code
    prints goes to stderr.
    """
    serial = next(_SERIAL)
    with _LOCK:
        _RUNNING[serial] = UserCall(describe_call(fn, args), what, time.monotonic(), threading.get_ident())
    try:
        # What the user's code prints goes to stderr: a command's stdout (--json, a pipe) stays its own.
        # In the app both streams are captured and shown in the dataset pane.
        with contextlib.redirect_stdout(sys.stderr):
            return fn(*args)
    except (Cancelled, KeyboardInterrupt):
        raise
    except DataloupeError:
        raise
    except BaseException as e:  # noqa: BLE001 - SystemExit from a script is the user's error too
        raise UserCodeError(
            f"your code raised {type(e).__name__} while {what}:\n{user_traceback(e)}\n"
            "Fix it in your code, then open it again."
        ) from e
    finally:
        with _LOCK:
            _RUNNING.pop(serial, None)


def _add_to_path(folder: str, position: int) -> None:
    if folder not in sys.path:
        sys.path.insert(position, folder)


def import_module(target: str) -> tuple[Any, str]:
    """The module ``target`` names (a .py file or a dotted module), imported afresh, and where it is."""
    cwd = os.getcwd()
    if target.endswith(".py"):
        path = Path(target).expanduser()
        path = path if path.is_absolute() else Path(cwd) / path
        if not path.is_file():
            raise DatasetError(f"{target}: no such Python file (looked in {path.parent}).")
        _add_to_path(str(path.parent.resolve()), 0)  # as `python file.py` has it
        _add_to_path(cwd, 1)
        name = path.stem if path.stem.isidentifier() else "user_data"
        known = sys.modules.get(name)
        if known is not None and getattr(known, "__file__", None) != str(path):
            name = f"dataloupe_user_{name}"  # never hide an installed module of the same name
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses, pickling and DataLoader workers look modules up here
        try:
            run_user(f"importing {path.name}", spec.loader.exec_module, module)
        except DataloupeError:
            sys.modules.pop(name, None)
            raise
        return module, str(path)
    _add_to_path(cwd, 0)
    try:
        if target in sys.modules:  # opened again: read the code as it is now
            module = run_user(f"importing {target}", importlib.reload, sys.modules[target])
        else:
            module = run_user(f"importing {target}", importlib.import_module, target)
    except UserCodeError as e:
        missing = e.__cause__
        if isinstance(missing, ModuleNotFoundError) and missing.name and target.startswith(missing.name):
            raise DatasetError(
                f"{target}: no module named {missing.name}. Run dataloupe from the folder that holds it, "
                "or give the file as path/to/file.py:NAME."
            ) from None
        raise
    return module, str(getattr(module, "__file__", target))


def required_arguments(fn: Callable[..., Any]) -> list[str]:
    """The parameters ``fn`` cannot be called without (dataloupe calls a user's NAME with none)."""
    import inspect

    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: try calling it
        return []
    kinds = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    return [p.name for p in signature.parameters.values() if p.default is p.empty and p.kind in kinds]


MISSING = object()
"""What :func:`look_up` gives for a name the module does not have (None may be a value it has)."""


def look_up(target: str, name: str) -> tuple[Any, str, Any]:
    """The module ``target`` names (imported afresh), where it is, and its attribute ``name`` (dotted:
    ``NAME.attr``), or :data:`MISSING`: the caller says what it expected there."""
    module, location = import_module(target)
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            return module, location, MISSING
        obj = getattr(obj, part)
    return module, location, obj
