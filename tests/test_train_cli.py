"""``dataloupe train`` and ``dataloupe eval`` as a user runs them: plain output, exit codes, signals.

Runs go through ``dataloupe.tui.cli.main`` in this process (the entry point the console script calls,
see tests/support/inprocess.py); the signal tests start ``python -m dataloupe.tui`` as a real process, since a
signal is sent to a process.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dataloupe.tui.cli import main

from support.inprocess import run_main
from support.processes import Output


class RunsCode:
    """Unpickling it would run code: it would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
"""One torch thread: the test machines are shared (see tests/test_training.py)."""


def dataloupe(*args: str) -> subprocess.CompletedProcess[str]:
    return run_main(*args, env={"OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """One text-mode training run with --save, shared by the tests that read its output or its file."""
    folder = tmp_path_factory.mktemp("train")
    checkpoint = folder / "digits.pt"
    done = dataloupe("train", "digits", "--epochs", "5", "--batch-size", "32", "--save", str(checkpoint))
    return done, checkpoint


def test_train_prints_a_line_per_evaluation_and_a_summary_without_escape_codes(text_run):
    done, checkpoint = text_run
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    evaluations = [line for line in lines if line.startswith("epoch ")]
    assert len(evaluations) == 5  # the end of each epoch (epochs this short get no mid-epoch evaluation)
    assert "test" in evaluations[-1] and "train" in evaluations[-1]
    assert lines[0].startswith("training MLP 64→64→64→64→10")
    assert any(line.startswith("finished 5 epochs") for line in lines)
    assert lines[-1] == f"saved to {checkpoint}"
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    assert "Traceback" not in done.stderr
    assert checkpoint.is_file()


def test_eval_reports_the_accuracy_the_training_ended_with(text_run):
    done, checkpoint = text_run
    final_line = next(line for line in done.stdout.splitlines() if line.startswith("finished"))
    trained_accuracy = final_line.split("test accuracy ")[1].split("%")[0]

    shown = dataloupe("eval", str(checkpoint), "digits", "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert f"{100 * record['test_accuracy']:.1f}" == trained_accuracy
    assert record["test_accuracy"] == record["saved_test_accuracy"]
    assert set(record["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert record["samples"] == 359


def test_train_json_is_one_object_per_line_ending_with_the_summary(capsys, tmp_path):
    code = main(
        [
            "train",
            "digits",
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--threads",
            "1",
            "--eval-every",
            "20",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["event"] == "start" and records[0]["parameters"] == 13_130
    assert [r["event"] for r in records[1:-1]] == ["evaluation"] * 6
    assert [r["step"] for r in records[1:-1]] == [
        20,
        40,
        45,
        65,
        85,
        90,
    ]  # every 20 steps and each epoch's end
    summary = records[-1]
    assert summary["event"] == "summary" and summary["state"] == "finished"
    assert summary["test_accuracy"] == records[-2]["test_accuracy"] > 0.5
    assert summary["saved"] is None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["train", "digits", "--lr", "-1"], "learning rate -1.0: it must be a positive number"),
        (["train", "digits", "--epochs", "0"], "epochs 0"),
        (["train", "digits", "--hidden", "64,x"], "'x' is not a positive whole number"),
        (["train", "digits", "--save", "/no/such/folder/m.pt"], "the folder /no/such/folder does not exist"),
        (["train", "no-such-dataset-path"], "no-such-dataset-path"),
        (["eval", "/no/such/file.pt", "digits"], "no such file"),
    ],
)
def test_bad_options_get_a_clear_message_and_exit_2(capsys, args, says):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("dataloupe: ") and says in err
    assert "Traceback" not in err


def test_argparse_rejects_unknown_choices_with_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "digits", "--optimizer", "rmsprop"])
    assert info.value.code == 2
    assert "invalid choice: 'rmsprop'" in capsys.readouterr().err


def test_a_cnn_on_a_table_is_refused(capsys, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(40)) + "\n")
    assert main(["train", str(table), "--model", "cnn"]) == 2
    assert "needs images" in capsys.readouterr().err


def test_unusable_checkpoints_exit_2_and_run_nothing(capsys, tmp_path, text_run):
    _, checkpoint = text_run
    zero = tmp_path / "zero.pt"
    zero.write_bytes(b"")
    assert main(["eval", str(zero), "digits"]) == 2
    assert "empty (0 bytes)" in capsys.readouterr().err

    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.pt"
    hostile.write_bytes(pickle.dumps(RunsCode(marker)))
    assert main(["eval", str(hostile), "digits"]) == 2
    assert "arbitrary code" in capsys.readouterr().err
    assert not marker.exists()

    table = tmp_path / "two.csv"
    table.write_text("a,b,label\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(40)) + "\n")
    assert main(["eval", str(checkpoint), str(table)]) == 2
    assert "was trained on image data" in capsys.readouterr().err


def test_ctrl_c_stops_the_run_cleanly_and_still_prints_the_summary(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dataloupe.tui",
            "train",
            "digits",
            "--epochs",
            "100000",
            "--batch-size",
            "1",
            "--save",
            str(tmp_path / "m.pt"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    output = Output(process)
    output.wait_for_line(lambda line: line.startswith("epoch "), timeout=90)  # training is under way
    process.send_signal(signal.SIGINT)
    out, err = output.finish(timeout=30)
    assert process.returncode == 130
    assert "stopped at step" in out and "Stopped by request" in out
    assert "not saved" in out and not (tmp_path / "m.pt").exists()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


# ---------------------------------------------------------------------- faults (issue 10, items 1, 4, 9)
def test_an_unwritable_save_path_is_refused_before_training(capsys):
    assert main(["train", "digits", "--epochs", "50", "--save", "/proc/x.pt"]) == 2
    out, err = capsys.readouterr()
    assert (
        "cannot save to /proc/x.pt" in err and "epoch" not in out
    )  # refused, not trained for 50 epochs first


def test_a_save_that_fails_at_the_end_keeps_the_model_prints_the_summary_and_exits_2(
    capsys, tmp_path, monkeypatch
):
    import dataloupe.core.training.checkpoint as checkpoint_module
    from dataloupe.core.errors import CheckpointError
    from dataloupe.core.training.checkpoint import load_checkpoint

    target = tmp_path / "out" / "m.pt"
    target.parent.mkdir()
    real_write = checkpoint_module.atomic_write

    def disk_full(path, write, **kw):
        if Path(path) == target:
            raise CheckpointError(f"cannot save to {target}: No space left on device.")
        return real_write(path, write, **kw)

    monkeypatch.setattr(checkpoint_module, "atomic_write", disk_full)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "digits", "--epochs", "1", "--save", str(target)]) == 2
    out, err = capsys.readouterr()
    rescued = tmp_path / "m.rescued.pt"
    assert any(line.startswith("finished 1 epoch") for line in out.splitlines())
    assert "No space left on device" in out and f"saved to {rescued} instead" in out
    assert "No space left on device" in err
    assert load_checkpoint(rescued).dataset == "digits" and not target.exists()


def test_save_refuses_to_replace_a_file_that_is_not_a_checkpoint_of_this_dataset(capsys, tmp_path, text_run):
    _, digits_checkpoint = text_run
    notes = tmp_path / "notes.pt"
    notes.write_text("my notes, not a model")
    assert main(["train", "digits", "--epochs", "1", "--save", str(notes)]) == 2
    assert "Pass --overwrite" in capsys.readouterr().err
    assert notes.read_text() == "my notes, not a model"

    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(40)) + "\n")
    assert main(["train", str(table), "--epochs", "1", "--save", str(digits_checkpoint)]) == 2
    assert "holds a model of digits, not t.csv" in capsys.readouterr().err

    assert main(["train", "digits", "--epochs", "1", "--save", str(notes), "--overwrite"]) == 0
    assert f"saved to {notes}" in capsys.readouterr().out


def test_sigterm_stops_like_ctrl_c_and_save_on_stop_keeps_the_target(tmp_path, text_run):
    from dataloupe.core.training.checkpoint import load_checkpoint

    _, checkpoint = text_run
    target = tmp_path / "digits.pt"
    target.write_bytes(checkpoint.read_bytes())
    before = target.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", "train", "digits", "--epochs", "100000", "--batch-size", "1"]
        + ["--save", str(target), "--save-on-stop"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    output = Output(process)
    output.wait_for_line(lambda line: line.startswith("epoch "), timeout=90)
    process.send_signal(signal.SIGTERM)
    out, err = output.finish(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert "stopped at step" in out and "Stopped by request" in out
    interrupted = tmp_path / "digits.interrupted.pt"
    assert f"saved what it learned to {interrupted}" in out
    assert target.read_bytes() == before  # nothing partial over the existing file
    assert load_checkpoint(interrupted).metrics["state"] == "stopped"
    assert "Traceback" not in err
