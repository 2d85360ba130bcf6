"""Weights for a user's own model, read from whatever their training script saved, without running code.

:func:`read_weights` accepts a plain ``state_dict``, a dict holding one (under ``state_dict``, ``model``,
``model_state_dict`` or ``net``: a Lightning checkpoint, a training script's own), and a whole pickled
module (``torch.save(model)``) in torch's zip or legacy format. Before anything is loaded, the globals the
pickle would call are listed with :mod:`pickletools` (read, not run). Tensors and dicts go through
``torch.load(weights_only=True)``; a whole module through :func:`restricted_pickle`, an unpickler that
finds only torch's tensor and storage rebuild functions, ``torch.nn`` layers, ``OrderedDict`` and
the user's own classes. :func:`fit_weights` matches the keys to the module (stripping a ``model.``
prefix when that makes them match) and lists every missing, unexpected or misshapen key by name.

    python -c "from dataloupe.core.training.weights import pickle_globals; print(pickle_globals('model.pt'))"
"""

from __future__ import annotations

import collections
import inspect
import io
import pickle
import pickletools
import types
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.serialization import SourceChangeWarning

from dataloupe.core.errors import CheckpointError
from dataloupe.core.wording import format_shape

STATE_KEYS = ("state_dict", "model", "model_state_dict", "net")
"""Keys of a saved dict that may hold the model's ``state_dict``, tried in this order."""
RESAVE = (
    "Re-save it as a state_dict where the model is defined: torch.save(model.state_dict(), 'weights.pt'), "
    "then pass that file with --weights."
)
"""How to turn any refused file into one dataloupe reads."""
LISTED = 6
"""Names listed in a message before "and N more"."""
_REBUILDS = frozenset(
    {("torch._tensor", "_rebuild_from_type_v2")}
    | {
        ("torch._utils", f"_rebuild_{kind}")
        for kind in (
            "tensor",
            "tensor_v2",
            "tensor_v3",
            "parameter",
            "parameter_with_state",
            "qtensor",
            "sparse_tensor",
            "nested_tensor",
            "meta_tensor_no_storage",
            "wrapper_subclass",
            "device_tensor_from_cpu_tensor",
            "device_tensor_from_numpy",
        )
    }
)
"""The tensor rebuild functions torch's own ``weights_only`` unpickler allows (torch 2.4 to 2.14), and no others:
``torch.storage._load_from_bytes``, for one, would unpickle its bytes without any restriction."""
_PLAIN = {("collections", "OrderedDict"), ("builtins", "set"), ("__builtin__", "set")}
# torch.save of a module pickles its empty set of non-persistent buffers as builtins.set() (protocol 2)


@dataclass(frozen=True)
class SavedWeights:
    """What a weights file held, once read safely."""

    path: Path
    """The file."""
    state: dict[str, torch.Tensor]
    """The weights, keys as saved (prefix not yet stripped)."""
    form: str
    """What it was, for the report: "a state_dict", "a whole pickled module (legacy format)"…"""
    globals: tuple[str, ...]
    """Every global its pickle names, as ``module.name``."""


# ---------------------------------------------------------------------- reading the pickle without running it
def _pickle_bytes(path: Path) -> tuple[bytes, str]:
    """The main pickle of a torch file and its format ("zip" or "legacy")."""
    with path.open("rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as z:
                name = next((n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
                if name is None:
                    raise CheckpointError(
                        f"{path.name} is a zip archive but not a torch.save file (no data.pkl)."
                    )
                return z.read(name), "zip"
        except zipfile.BadZipFile:
            raise CheckpointError(
                f"{path.name} is truncated or damaged (a broken zip archive). Save it again."
            ) from None
    if head[:1] != b"\x80":
        raise CheckpointError(f"{path.name} is not a torch.save file (neither a zip archive nor a pickle).")
    data = path.read_bytes()
    stream = io.BytesIO(data)
    try:
        first = list(pickletools.genops(stream))
        # torch's legacy format: magic number, protocol, system info, then the object itself
        if len(first) >= 2 and first[1][0].name in ("LONG1", "LONG", "INT", "BININT"):
            for _ in range(2):
                list(pickletools.genops(stream))
            start = stream.tell()
            list(pickletools.genops(stream))
            return data[start : stream.tell()], "legacy"
    except ValueError as e:
        raise CheckpointError(f"{path.name} is truncated or damaged ({e}). Save it again.") from None
    return data, "pickle"


def _globals_in(data: bytes) -> list[tuple[str, str]]:
    """Each (module, name) the pickle looks up, in order, read opcode by opcode and never run."""
    found: list[tuple[str, str]] = []
    strings: list[str] = []  # the strings last pushed, for STACK_GLOBAL
    memo: dict[int, Any] = {}
    last: Any = None
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(data)):
            if op.name in ("GLOBAL", "INST"):
                module, name = str(arg).split(" ", 1)
                found.append((module, name))
                last = None
            elif op.name == "STACK_GLOBAL":
                if len(strings) >= 2:
                    found.append((strings[-2], strings[-1]))
                else:
                    found.append(("?", "? (a name the pickle computes)"))
                last = None
            elif (
                isinstance(arg, str)
                and "UNICODE" in op.name
                or op.name in ("STRING", "BINSTRING", "SHORT_BINSTRING")
            ):
                strings.append(str(arg))
                last = str(arg)
            elif op.name == "MEMOIZE":
                memo[len(memo)] = last
            elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = last
            elif op.name in ("GET", "BINGET", "LONG_BINGET"):
                value = memo.get(int(arg))
                if isinstance(value, str):
                    strings.append(value)
                last = value
            else:
                last = None
    except ValueError as e:
        raise CheckpointError(f"the pickle is damaged ({e}). Save it again.") from None
    return found


def pickle_globals(path: str | Path) -> list[str]:
    """Every global the file's pickle would look up (``module.name``), each once, without loading it."""
    data, _ = _pickle_bytes(Path(path))
    return list(dict.fromkeys(f"{m}.{n}" for m, n in _globals_in(data)))


# ---------------------------------------------------------------------- what may be looked up
def _is_storage(module: str, name: str) -> bool:
    return module == "torch" and name.endswith("Storage")


def _is_rebuild(module: str, name: str) -> bool:
    return (module, name) in _REBUILDS


def _nn_layer(module: str, name: str) -> type | None:
    """The ``torch.nn`` layer class ``module.name`` names, or None."""
    if not (module == "torch.nn" or module.startswith("torch.nn.modules.")):
        return None
    import importlib

    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, nn.Module) else None


def _users_class(module: str, name: str, own: dict[str, type]) -> type | None:
    """The user's class the pickle means by ``module.name``: the notebook's ``__main__.Net`` is theirs."""
    cls = own.get(name)
    if cls is None:
        return None
    file_stem = Path(inspect.getsourcefile(cls) or "").stem if _has_source(cls) else ""
    if module in ("__main__", cls.__module__, file_stem) or module.endswith("." + file_stem):
        return cls
    return None


def _has_source(cls: type) -> bool:
    try:
        return inspect.getsourcefile(cls) is not None
    except TypeError:
        return False


def own_classes(model_class: type | None) -> dict[str, type]:
    """The user's module classes a pickle may name: MODEL's class, and the ``nn.Module`` classes defined in
    the same file (a notebook's network is often built of its own blocks), by name."""
    if model_class is None:
        return {}
    import sys

    found = {model_class.__qualname__: model_class, model_class.__name__: model_class}
    home = sys.modules.get(model_class.__module__)
    for key, value in vars(home).items() if home is not None else ():
        if (
            isinstance(value, type)
            and issubclass(value, nn.Module)
            and value.__module__ == model_class.__module__
        ):
            found.setdefault(key, value)
    return found


def _refused(
    globals_found: list[tuple[str, str]], own: dict[str, type], *, modules_allowed: bool
) -> list[str]:
    out = []
    for module, name in globals_found:
        plain = (module, name) in _PLAIN or _is_storage(module, name) or _is_rebuild(module, name)
        layer = modules_allowed and (_nn_layer(module, name) is not None or _users_class(module, name, own))
        if not (plain or layer):
            out.append(f"{module}.{name}")
    return list(dict.fromkeys(out))


def restricted_pickle(own: dict[str, type]) -> types.ModuleType:
    """A ``pickle_module`` for ``torch.load`` whose unpickler finds only torch's tensor and storage rebuild
    functions, ``torch.nn`` layer classes, ``OrderedDict`` and the user's classes ``own`` (by name, whatever
    module the pickle says: ``__main__`` for a notebook). Anything else raises ``UnpicklingError`` naming it."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _PLAIN:
                return collections.OrderedDict if name == "OrderedDict" else set
            if _is_rebuild(module, name) or _is_storage(module, name):
                return super().find_class(module, name)
            layer = _nn_layer(module, name) or _users_class(module, name, own)
            if layer is not None:
                return layer
            raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def load(file: Any, **kwargs: Any) -> Any:
        return Unpickler(file, **kwargs).load()

    restricted = types.ModuleType("dataloupe_restricted_pickle")
    restricted.Unpickler = Unpickler  # type: ignore[attr-defined]
    restricted.load = load  # type: ignore[attr-defined]
    restricted.UnpicklingError = pickle.UnpicklingError  # type: ignore[attr-defined]
    return restricted


# ---------------------------------------------------------------------- reading a weights file
def _listed(names: list[str]) -> str:
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more


def _state_of(loaded: Any, name: str) -> tuple[dict[str, torch.Tensor], str]:
    """The ``{key: tensor}`` inside what was loaded, and what it was."""
    if isinstance(loaded, nn.Module):
        return dict(loaded.state_dict()), f"a whole pickled module ({type(loaded).__name__})"
    if isinstance(loaded, dict) and loaded and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return {str(k): v for k, v in loaded.items()}, "a state_dict"
    if isinstance(loaded, dict):
        for key in STATE_KEYS:
            inner = loaded.get(key)
            if isinstance(inner, nn.Module) or (isinstance(inner, dict) and inner):
                state, form = _state_of(inner, name)
                return state, f"{form} under {key!r}" + (
                    f" (beside {', '.join(str(k) for k in loaded if k != key)[:80]})"
                    if len(loaded) > 1
                    else ""
                )
        have = ", ".join(str(k) for k in list(loaded)[:8]) or "no keys"
        raise CheckpointError(
            f"{name} is a dict with keys {have}: no weights found. Expected tensors, or a state_dict under "
            f"one of {', '.join(STATE_KEYS)}. {RESAVE}"
        )
    raise CheckpointError(f"{name} holds {type(loaded).__name__}, not weights. {RESAVE}")


def read_weights(path: str | Path, model_class: type | None = None) -> SavedWeights:
    """The weights in ``path``, read without running any code from it.

    ``model_class`` is the user's own class (MODEL's): a whole pickled module of that class (under
    any module name, ``__main__`` included) is accepted. Raises :class:`CheckpointError` naming what
    the file holds and how to re-save it when it is refused.
    """
    path = Path(path).expanduser()
    name = path.name
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file." if not path.exists() else f"{path} is not a file.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{name} is empty (0 bytes): not a weights file.")
    data, fmt = _pickle_bytes(path)
    if fmt == "pickle":
        raise CheckpointError(f"{name} is a bare Python pickle, not a torch.save file. {RESAVE}")
    found = _globals_in(data)
    listed = tuple(dict.fromkeys(f"{m}.{n}" for m, n in found))
    own = own_classes(model_class)
    refused = _refused(found, own, modules_allowed=True)
    if refused:
        mentions = (
            f"; it also names {_listed([g for g in listed if g not in refused])}"
            if len(listed) > len(refused)
            else ""
        )
        raise CheckpointError(
            f"{name} would call {_listed(refused)} when loaded{mentions}. dataloupe loads only tensors, torch.nn "
            f"layers and your model's own classes, so it refused the file; nothing in it was run. {RESAVE}"
        )
    whole_module = bool(_refused(found, {}, modules_allowed=False))  # names classes: a pickled module
    where = "legacy format" if fmt == "legacy" else "zip format"
    try:
        if whole_module:
            with (
                warnings.catch_warnings()
            ):  # the legacy format compares the class's source with the saved one
                warnings.simplefilter("ignore", SourceChangeWarning)
                loaded = torch.load(
                    path, map_location="cpu", weights_only=False, pickle_module=restricted_pickle(own)
                )
        else:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{name} was refused while loading ({e}); nothing in it was run. {RESAVE}"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        first = (str(e).strip().splitlines() or ["no detail"])[0][:160]
        raise CheckpointError(
            f"{name} is truncated or damaged ({type(e).__name__}: {first}). Save it again."
        ) from None
    state, form = _state_of(loaded, name)
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{name}: {_listed(bad)} are not tensors. {RESAVE}")
    return SavedWeights(path=path, state=state, form=f"{form}, {where}", globals=listed)


# ---------------------------------------------------------------------- matching keys to the module
def _best_prefix(keys: list[str], expected: set[str]) -> str:
    """The prefix (``model.``, ``module.``) whose removal makes the most of ``keys`` match ``expected``."""
    counts: collections.Counter[str] = collections.Counter()
    for key in keys:
        for target in expected:
            if key.endswith(target) and (len(key) == len(target) or key[-len(target) - 1] == "."):
                counts[key[: len(key) - len(target)]] += 1
    if not counts:
        return ""
    best = max(counts.values())
    return min((p for p, c in counts.items() if c == best), key=len)


def fit_weights(model: nn.Module, saved: SavedWeights) -> tuple[dict[str, torch.Tensor], str]:
    """The saved weights under the module's own key names, and a note when a prefix was stripped.

    Every missing or unexpected key and every shape that differs is listed by name in the
    :class:`CheckpointError`; nothing is loaded then.
    """
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    prefix = "" if set(saved.state) >= set(expected) else _best_prefix(list(saved.state), set(expected))
    state = {k[len(prefix) :]: v for k, v in saved.state.items() if k.startswith(prefix)}
    other = len(saved.state) - len(state)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} is {format_shape(tuple(state[k].shape))} in the file, {format_shape(expected[k])} in the model"
        for k in expected
        if k in state and tuple(state[k].shape) != expected[k]
    ]
    problems = []
    if missing:
        problems.append(f"missing: {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected: {_listed(unexpected)}")
    if shapes:
        problems.append(f"shapes differ: {_listed(shapes)}")
    if problems:
        stripped = f" (after removing the prefix {prefix!r})" if prefix else ""
        raise CheckpointError(
            f"{saved.path.name} does not fit {type(model).__name__}{stripped}: {'; '.join(problems)}. "
            "Nothing was evaluated. Check that MODEL builds the network these weights were saved from."
        )
    note = f"keys stripped of the prefix {prefix!r}" if prefix else ""
    if other:
        note += f"{'; ' if note else ''}{other} other entries ignored"
    return state, note
