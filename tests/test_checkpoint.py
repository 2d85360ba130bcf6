"""Checkpoints: save → load gives the same accuracy; the write is atomic; bad and hostile files are refused."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import dataloupe.core.training.checkpoint as checkpoint_module
from dataloupe.core.errors import CheckpointError
from dataloupe.core.threads import set_threads
from dataloupe.core.training import safe_save
from dataloupe.core.training.checkpoint import (
    load_checkpoint,
    pipeline_from_dict,
    pipeline_to_dict,
    save_checkpoint,
)
from dataloupe.core.training.evaluation import evaluate_on_test
from dataloupe.core.training.models import ModelSpec
from dataloupe.core.training.run import TrainConfig, TrainingRun

set_threads(1)  # once, as the command line does at start-up: the test machines are shared


@pytest.fixture(scope="module")
def trained(digits):
    """A short run on the digits (module-scoped: several tests read its checkpoint)."""
    run = TrainingRun(digits, TrainConfig(epochs=3, batch_size=32, device="cpu"))
    final = run.run()
    assert final.state == "finished"
    return run, final


@pytest.fixture
def saved(trained, digits, tmp_path) -> Path:
    run, _ = trained
    return save_checkpoint(tmp_path / "digits.pt", run.trained())


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class RunsCode:
    """Unpickling it would run code: it would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


# ---------------------------------------------------------------------- round trip
def test_save_then_load_gives_the_same_model_and_the_same_test_accuracy(trained, saved, digits):
    run, final = trained
    checkpoint = load_checkpoint(saved, expect=run.spec)
    assert checkpoint.spec == run.spec
    assert checkpoint.classes == tuple(digits.classes)
    assert checkpoint.pipeline == run.pipeline
    assert checkpoint.dataset == "digits"
    assert checkpoint.metrics["test_accuracy"] == final.latest.test.accuracy
    model = checkpoint.build_model()
    assert same_weights(model, run.model)
    result, notes = evaluate_on_test(checkpoint, digits, device="cpu")
    assert result.accuracy == final.latest.test.accuracy
    assert result.confusion == final.latest.test.confusion
    assert notes == []


def test_the_file_holds_only_plain_values(saved):
    payload = torch.load(saved, weights_only=True)  # would raise on any pickled object
    assert set(payload) == {"format", "version", "meta", "state_dict"}
    assert isinstance(payload["meta"], str)
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())


def test_pipeline_survives_plain_values(trained):
    run, _ = trained
    assert pipeline_from_dict(pipeline_to_dict(run.pipeline)) == run.pipeline


# ---------------------------------------------------------------------- atomic writes
def test_a_crash_while_saving_keeps_the_earlier_checkpoint_and_leaves_no_temp_file(
    trained, saved, digits, monkeypatch
):
    run, _ = trained
    before = saved.read_bytes()

    def crash(payload, f):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(saved, run.trained())
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]

    def interrupted(payload, f):
        f.write(b"PK\x03\x04 cut off")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module.torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(saved, run.trained())
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    load_checkpoint(saved)  # still a good checkpoint


def test_saving_to_a_missing_folder_says_so(trained, digits, tmp_path):
    run, _ = trained
    with pytest.raises(CheckpointError, match="does not exist"):
        save_checkpoint(tmp_path / "nowhere" / "m.pt", run.trained())


# ---------------------------------------------------------------------- refusals
def refused(path: Path, expect: ModelSpec | None = None) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, expect=expect)
    return str(info.value)


def test_bad_and_hostile_files_are_refused_and_the_current_model_is_unchanged(trained, saved, tmp_path):
    run, _ = trained
    current = run.model
    before = copy.deepcopy(current.state_dict())
    marker = tmp_path / "code-ran"

    zero = tmp_path / "zero.pt"
    zero.write_bytes(b"")
    assert "empty (0 bytes)" in refused(zero)

    truncated = tmp_path / "truncated.pt"
    data = saved.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    assert "truncated or damaged" in refused(truncated)

    cut_at_end = tmp_path / "cut.pt"
    cut_at_end.write_bytes(data[:-20])
    assert "truncated or damaged" in refused(cut_at_end)

    bare_pickle = tmp_path / "bare.pt"
    bare_pickle.write_bytes(pickle.dumps({"state_dict": RunsCode(marker)}))
    assert "arbitrary code" in refused(bare_pickle)

    zipped_pickle = tmp_path / "zipped.pt"
    torch.save({"format": "dataloupe-checkpoint", "version": 1, "meta": RunsCode(marker)}, zipped_pickle)
    assert zipfile.is_zipfile(zipped_pickle)  # a real torch archive, so torch.load itself must refuse it
    message = refused(zipped_pickle)
    assert "Python objects" in message and "nothing in it was executed" in message

    not_ours = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, not_ours)
    assert "not a dataloupe checkpoint" in refused(not_ours)

    text = tmp_path / "notes.pt"
    text.write_text("hello")
    assert "not a checkpoint" in refused(text)

    assert not marker.exists()  # nothing executed
    assert same_weights(current, run.model) and all(
        torch.equal(before[k], v) for k, v in current.state_dict().items()
    )


def test_a_checkpoint_for_another_architecture_shape_or_class_count_is_refused_naming_the_mismatch(
    trained, saved
):
    run, _ = trained
    spec = run.spec
    assert "architecture mlp, not cnn" in refused(saved, ModelSpec("cnn", (64,), spec.input_shape, 10))
    assert "hidden sizes 64,64,64, not 256" in refused(saved, ModelSpec("mlp", (256,), spec.input_shape, 10))
    assert "input shape 1×8×8, not 1×28×28" in refused(saved, ModelSpec("mlp", spec.hidden, (1, 28, 28), 10))
    message = refused(saved, ModelSpec("mlp", spec.hidden, spec.input_shape, 2))
    assert "10 classes, not 2" in message and "Nothing was loaded" in message


def test_evaluating_on_a_dataset_of_another_shape_is_refused(saved, mnist_test):
    checkpoint = load_checkpoint(saved)
    with pytest.raises(CheckpointError, match="samples are 1×28×28, the model takes 1×8×8"):
        evaluate_on_test(checkpoint, mnist_test, device="cpu")


def test_weights_that_do_not_fit_their_own_spec_are_refused(trained, digits, tmp_path):
    run, _ = trained
    lying = tmp_path / "lying.pt"
    wrong_spec = ModelSpec("mlp", (32,), run.spec.input_shape, 10)
    save_checkpoint(lying, replace(run.trained(), spec=wrong_spec))
    with pytest.raises(CheckpointError, match="do not fit"):  # refused on load now, before building anything
        load_checkpoint(lying).build_model()


# ---------------------------------------------------------------------- faults (issue 10, items 6-9)
def test_weights_corrupted_on_disk_are_refused_by_their_sha256(saved):
    """1,000 bytes of the weights overwritten, the zip directory intact: refused, naming the file."""
    with zipfile.ZipFile(saved) as archive:
        biggest = max(archive.infolist(), key=lambda i: i.file_size)
        offset = biggest.header_offset + 30 + len(biggest.filename.encode()) + len(biggest.extra)
    data = bytearray(saved.read_bytes())
    data[offset + 100 : offset + 1100] = bytes(range(256)) * 3 + bytes(232)
    saved.write_bytes(bytes(data))
    assert zipfile.is_zipfile(saved)
    message = refused(saved)
    assert saved.name in message and "SHA-256" in message and "nothing was loaded" in message


def craft(path: Path, trained, digits, **model_changes) -> Path:
    """A checkpoint whose description claims ``model_changes``, beside the real weights."""
    run, _ = trained
    meta = {
        "model": {**run.spec.to_dict(), **model_changes},
        "classes": list(digits.classes),
        "pipeline": pipeline_to_dict(run.pipeline),
        "metrics": {},
    }
    payload = {
        "format": checkpoint_module.FORMAT,
        "version": checkpoint_module.VERSION,
        "meta": json.dumps(meta),
        "state_dict": run.model.state_dict(),
    }
    torch.save(payload, path)
    return path


def test_crafted_descriptions_are_refused_before_anything_is_built(trained, digits, tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(ModelSpec, "build", lambda self: built.append(self) or None)
    huge = refused(craft(tmp_path / "huge.pt", trained, digits, hidden=[20000, 20000]))
    assert "hidden sizes" in huge and "16,384" in huge
    negative = refused(craft(tmp_path / "negative.pt", trained, digits, hidden=[-5]))
    assert "positive whole number" in negative
    assert not built  # refused from the description alone: no 20,000-wide layer was made
    monkeypatch.undo()
    wide = refused(craft(tmp_path / "wide.pt", trained, digits, hidden=[64, 64, 128]))
    assert "do not fit" in wide and "layers.5.weight is 64×64, not 128×64" in wide


def test_a_model_with_non_finite_weights_is_refused(trained, digits, tmp_path):
    run, _ = trained
    broken = copy.deepcopy(run.model)
    with torch.no_grad():
        next(broken.parameters())[0, 0] = float("nan")
    path = save_checkpoint(tmp_path / "nan.pt", replace(run.trained(), weights=broken.state_dict()))
    assert "NaN or Inf" in refused(path)


def test_the_next_save_removes_temp_files_left_by_a_killed_save(trained, saved, digits, monkeypatch):
    run, _ = trained
    orphan = saved.parent / f".{saved.name}{safe_save.TEMP_TAG}k1ll3d{safe_save.TEMP_SUFFIX}"
    orphan.write_bytes(b"PK\x03\x04 cut off by kill -9")
    os.utime(orphan, (safe_save.STARTED - 60, safe_save.STARTED - 60))
    someone_elses = saved.parent / ".notes.txt.tmp"
    someone_elses.write_text("not ours")
    names = []
    real_replace = os.replace
    monkeypatch.setattr(
        safe_save.os, "replace", lambda a, b: names.append(Path(a).name) or real_replace(a, b)
    )
    save_checkpoint(saved, run.trained())
    assert not orphan.exists() and someone_elses.exists()
    assert names and names[0].startswith(f".{saved.name}.dataloupe-")  # recognisably ours


def test_a_target_written_by_another_run_meanwhile_is_not_overwritten(trained, digits, tmp_path):
    run, _ = trained
    target = tmp_path / "shared.pt"
    before = safe_save.file_state(target)  # taken when "this" run started: no file yet
    other = ModelSpec("mlp", (8,), run.spec.input_shape, 10)
    save_checkpoint(
        target, replace(run.trained(), spec=other, weights=other.build().state_dict())
    )  # the other run, meanwhile
    with pytest.raises(CheckpointError, match="written by someone else"):
        save_checkpoint(target, run.trained(), unchanged_since=before)
    assert load_checkpoint(target).spec == other


def test_saves_into_one_folder_hold_an_exclusive_lock(tmp_path):
    probe = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(tmp_path)!r}, os.O_RDONLY)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(3)\n"
    )
    with safe_save.folder_lock(tmp_path):
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 3
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0


def test_a_folder_that_cannot_be_written_is_found_before_training(tmp_path):
    with pytest.raises(CheckpointError, match="cannot save to /proc/x.pt"):
        safe_save.check_writable("/proc/x.pt")
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere; the /proc case above still holds
            return
        with pytest.raises(CheckpointError, match="Choose a folder you can write to"):
            safe_save.check_writable(locked / "m.pt")
    finally:
        locked.chmod(0o755)
