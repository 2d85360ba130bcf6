"""Checkpoints: save → load gives the same accuracy; the write is atomic; bad and hostile files are refused."""

from __future__ import annotations

import copy
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

import core.checkpoint as checkpoint_module
from core.checkpoint import (
    evaluate_checkpoint,
    load_checkpoint,
    pipeline_from_dict,
    pipeline_to_dict,
    save_checkpoint,
)
from core.errors import CheckpointError
from core.models import ModelSpec
from core.training import TrainConfig, TrainingRun


@pytest.fixture(scope="module")
def trained(digits):
    """A short run on the digits (module-scoped: several tests read its checkpoint)."""
    run = TrainingRun(digits, TrainConfig(epochs=3, threads=1, batch_size=32))
    final = run.run()
    assert final.state == "finished"
    return run, final


@pytest.fixture
def saved(trained, digits, tmp_path) -> Path:
    run, _ = trained
    return save_checkpoint(
        tmp_path / "digits.pt", run.model, run.spec, digits.classes, run.pipeline, run.metrics(), digits.name
    )


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
    result, notes = evaluate_checkpoint(checkpoint, digits, device="cpu")
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
        save_checkpoint(saved, run.model, run.spec, digits.classes, run.pipeline)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]

    def interrupted(payload, f):
        f.write(b"PK\x03\x04 cut off")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module.torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(saved, run.model, run.spec, digits.classes, run.pipeline)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    load_checkpoint(saved)  # still a good checkpoint


def test_saving_to_a_missing_folder_says_so(trained, digits, tmp_path):
    run, _ = trained
    with pytest.raises(CheckpointError, match="does not exist"):
        save_checkpoint(tmp_path / "nowhere" / "m.pt", run.model, run.spec, digits.classes, run.pipeline)


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
        evaluate_checkpoint(checkpoint, mnist_test, device="cpu")


def test_weights_that_do_not_fit_their_own_spec_are_refused(trained, digits, tmp_path):
    run, _ = trained
    lying = tmp_path / "lying.pt"
    wrong_spec = ModelSpec("mlp", (32,), run.spec.input_shape, 10)
    save_checkpoint(lying, run.model, wrong_spec, digits.classes, run.pipeline)
    checkpoint = load_checkpoint(lying)
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.build_model()
