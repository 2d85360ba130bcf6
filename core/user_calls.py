"""Calling the user's own code: importing their file or module, and running what it defines.

Whenever the user's code raises, :class:`~dataloupe.core.errors.UserCodeError` carries their own
traceback (their file and line, without dataloupe's frames or DataLoader's plumbing) as its message.
Readers of a user's Dataset, their DataLoader's batches, and a user's own model all call it through
:func:`run_user`, so nothing here imports a reader or the loader code.

    python -c "from dataloupe.core.user_calls import run_user; run_user('calling int()', int, 'x')"
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable
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
