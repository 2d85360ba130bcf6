"""Save a trained model with what rebuilding it needs, and load it back without running anyone's code.

A checkpoint is a ``torch.save`` zip archive holding only plain values: the weights as
a ``{name: tensor}`` dict and a JSON string with the :class:`~dataloupe.core.training.models.ModelSpec`,
the class names, the pipeline (mode, mean, std) and the metrics so far. Loading uses
``torch.load(weights_only=True)``, which refuses any pickled Python object, after
checking that the file is a complete zip archive at all. Saving writes a temporary
file in the same folder, flushes and fsyncs it, then renames it over the target, so a
crash while saving never destroys an earlier checkpoint.

    python -c "from dataloupe.core.training.checkpoint import load_checkpoint; print(load_checkpoint('model.pt').describe())"
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from dataloupe.core.data.pipeline import Pipeline
from dataloupe.core.errors import CheckpointError, DataloupeError
from dataloupe.core.settings import format_hidden
from dataloupe.core.training.models import ModelSpec
from dataloupe.core.training.safe_save import FileState, atomic_write
from dataloupe.core.training.trained import TrainedModel
from dataloupe.core.wording import format_shape

FORMAT = "dataloupe-checkpoint"
"""Marks a file as ours."""
VERSION = 1
"""Bumped when the layout changes; older readers refuse newer files."""
SUFFIX = ".pt"
"""The usual file ending."""


def pipeline_to_dict(pipeline: Pipeline) -> dict[str, Any]:
    """A pipeline as plain values (augmentation is not stored: a saved model is evaluated without it)."""
    d = asdict(pipeline)
    d.pop("augment", None)
    for key in ("low", "high", "mean", "std"):
        d[key] = list(d[key])
    return d


def pipeline_from_dict(d: dict[str, Any]) -> Pipeline:
    """The pipeline :func:`pipeline_to_dict` wrote."""
    return Pipeline(
        sample_type=d.get("sample_type", d.get("kind")),  # "kind" in checkpoints written before
        low=tuple(float(v) for v in d["low"]),
        high=tuple(float(v) for v in d["high"]),
        mean=tuple(float(v) for v in d["mean"]),
        std=tuple(float(v) for v in d["std"]),
        mode=d["mode"],
        augment=False,
        channels=int(d.get("channels", 1)),
        pixel_name=str(d.get("pixel_name", "ToTensor()")),
        resize=d.get("resize"),
    )


# ---------------------------------------------------------------------- saving
def save_checkpoint(
    path: str | os.PathLike[str],
    trained: TrainedModel,
    *,
    unchanged_since: FileState | bool = False,
) -> Path:
    """Write ``trained`` to ``path``, atomically; return the path written.

    The metadata holds a SHA-256 of the weights, which loading verifies. With ``unchanged_since``
    (a :func:`dataloupe.core.training.safe_save.file_state` taken before training), a target that another run
    wrote meanwhile is refused rather than overwritten.
    """
    if trained.spec is None:
        raise CheckpointError(
            "a checkpoint holds dataloupe's own networks; save your own model with your own code "
            "(torch.save(model.state_dict(), path))."
        )
    state = {k: v.detach().to("cpu").contiguous() for k, v in trained.weights.items()}
    meta = {
        "model": trained.spec.to_dict(),
        "classes": list(trained.classes),
        "pipeline": pipeline_to_dict(trained.pipeline),
        "metrics": trained.metrics,
        "dataset": trained.dataset,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "weights_sha256": weights_digest(state),
    }
    payload = {"format": FORMAT, "version": VERSION, "meta": json.dumps(meta), "state_dict": state}
    return atomic_write(path, lambda f: torch.save(payload, f), unchanged_since=unchanged_since)


def weights_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every weight's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


# ---------------------------------------------------------------------- loading
def load_checkpoint(
    path: str | os.PathLike[str],
    expect: ModelSpec | None = None,
    *,
    check_architecture: bool = True,
) -> TrainedModel:
    """Read a checkpoint, refusing anything that is not a complete, plain dataloupe checkpoint.

    With ``expect``, a checkpoint whose architecture (when ``check_architecture``), hidden
    sizes, input shape or class count differ is refused with a :class:`CheckpointError`
    naming each mismatch. Nothing outside the returned value is changed.
    """
    source = Path(path).expanduser()
    payload = _read_payload(source)
    checkpoint = _parse(source, payload)
    if expect is not None:
        check_fits(checkpoint, expect, check_architecture=check_architecture)
    return checkpoint


def _read_payload(source: Path) -> Any:
    name = source.name
    if not source.exists():
        raise CheckpointError(f"{source}: no such file.")
    if source.is_dir():
        raise CheckpointError(f"{source} is a folder, not a checkpoint file.")
    try:
        size = source.stat().st_size
        with source.open("rb") as f:
            head = f.read(4)
    except OSError as e:
        raise CheckpointError(f"{source}: cannot read it ({e.strerror or e}).") from None
    if size == 0:
        raise CheckpointError(
            f"{name} is empty (0 bytes): it is not a checkpoint. A save may have been cut off before it "
            "began; choose another file or train and save again."
        )
    if head[:1] == b"\x80":
        raise CheckpointError(
            f"{name} is a bare Python pickle, not a dataloupe checkpoint. Loading a pickle can run "
            "arbitrary code, so dataloupe refuses it; nothing in it was executed."
        )
    if head != b"PK\x03\x04":
        raise CheckpointError(f"{name} is not a checkpoint (it is not a torch.save archive).")
    if not zipfile.is_zipfile(source):
        raise CheckpointError(
            f"{name} is truncated or damaged ({size:,} bytes, the archive's directory is missing), so it "
            "cannot be read. Save the model again."
        )
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        detail = _unsupported_global(str(e))
        raise CheckpointError(
            f"{name} holds Python objects{detail}, not just weights. Loading them could run arbitrary code, "
            "so dataloupe refuses the file; nothing in it was executed."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise CheckpointError(
            f"{name} is truncated or damaged and cannot be read ({type(e).__name__}: {_first_line(e)}). "
            "Save the model again."
        ) from None


def _unsupported_global(text: str) -> str:
    """ " (builtins.exec)" from torch's weights-only refusal, or "" when it does not say."""
    marker = "Unsupported global: GLOBAL "
    at = text.find(marker)
    if at < 0:
        return ""
    name = text[at + len(marker) :].split()[0].rstrip(".,")
    return f" ({name})"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else "no detail")[:160]


def _parse(source: Path, payload: Any) -> TrainedModel:
    name = source.name
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"{name} is a torch file but not a dataloupe checkpoint (no {FORMAT!r} marker)."
        )
    version = payload.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(
            f"{name} is checkpoint format {version!r}; this dataloupe reads format {VERSION}. Update dataloupe."
        )
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{name}: its weights are missing or malformed; the file is damaged.")
    try:
        meta = json.loads(payload["meta"])
        spec = ModelSpec.from_dict(meta["model"])
        classes = tuple(str(c) for c in meta["classes"])
        pipeline = pipeline_from_dict(meta["pipeline"])
        metrics = dict(meta.get("metrics") or {})
    except DataloupeError as e:
        raise CheckpointError(f"{name}: {e}") from None
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise CheckpointError(
            f"{name}: its description is missing or malformed ({e!r}); the file is damaged."
        ) from None
    if len(classes) != spec.num_classes:
        raise CheckpointError(f"{name}: it lists {len(classes)} class names for {spec.num_classes} outputs.")
    _check_weights(name, spec, state, meta.get("weights_sha256"))
    return TrainedModel(
        spec=spec,
        weights=state,
        classes=classes,
        pipeline=pipeline,
        metrics=metrics,
        dataset=str(meta.get("dataset", "")),
        source=str(source),
        saved_at=str(meta.get("saved_at", "")),
    )


def _check_weights(name: str, spec: ModelSpec, state: dict[str, torch.Tensor], digest: Any) -> None:
    """Refuse weights whose names or shapes are not the spec's, that fail their SHA-256, or are not finite.

    The expected shapes come from the spec built on torch's "meta" device, which allocates
    nothing: a description that claims a huge network costs nothing to check.
    """
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in spec.build().state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        wrong = [
            f"{k} is {format_shape(found[k])}, not {format_shape(expected[k])}"
            for k in expected
            if k in found and found[k] != expected[k]
        ]
        wrong += [f"{k} missing" for k in expected if k not in found]
        wrong += [f"{k} unexpected" for k in found if k not in expected]
        raise CheckpointError(
            f"{name}: its weights do not fit the {spec.describe()} it describes ({'; '.join(wrong[:3])}). "
            "The file is damaged or was not written by dataloupe; nothing was loaded."
        )
    if digest is not None and (not isinstance(digest, str) or weights_digest(state) != digest):
        raise CheckpointError(
            f"{name}: its weights do not match the SHA-256 stored with them, so the file was changed or "
            "damaged on disk; nothing was loaded. Save the model again, or use another copy."
        )
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(
            f"{name}: its weights hold NaN or Inf ({', '.join(bad[:3])}): the model that was saved had "
            "diverged, or the file is damaged; nothing was loaded."
        )


def mismatches(found: ModelSpec, expected: ModelSpec, *, check_architecture: bool = True) -> list[str]:
    """What differs between a checkpoint's spec and the one wanted, in words ("input shape 1×28×28, not 1×8×8")."""
    out = []
    if check_architecture and found.architecture != expected.architecture:
        out.append(f"architecture {found.architecture}, not {expected.architecture}")
    if check_architecture and found.hidden != expected.hidden:
        out.append(
            f"hidden sizes {format_hidden(found.hidden) or 'none'}, not {format_hidden(expected.hidden) or 'none'}"
        )
    if found.input_shape != expected.input_shape:
        out.append(f"input shape {format_shape(found.input_shape)}, not {format_shape(expected.input_shape)}")
    if found.num_classes != expected.num_classes:
        out.append(f"{found.num_classes} classes, not {expected.num_classes}")
    return out


def check_fits(checkpoint: TrainedModel, expect: ModelSpec, *, check_architecture: bool = True) -> None:
    """Raise :class:`CheckpointError` naming every way ``checkpoint`` differs from ``expect``."""
    assert checkpoint.spec is not None  # a checkpoint always describes its network
    found = mismatches(checkpoint.spec, expect, check_architecture=check_architecture)
    if found:
        raise CheckpointError(
            f"{Path(checkpoint.source).name} does not fit: it holds {checkpoint.spec.describe()}, but "
            f"{expect.describe()} is wanted here ({'; '.join(found)}). Nothing was loaded."
        )
