"""``dataloupe watch PATH --once [--json]`` and ``dataloupe train --log``: output and exit codes."""

from __future__ import annotations

import json
import os
import time

from dataloupe.tui.cli import main

from support.inprocess import run_main
from support.runlogs import jsonl_lines, write_lightning_csv, write_tensorboard


def test_once_prints_latest_and_best_per_tag_and_exits_0(tmp_path, capsys):
    write_tensorboard(tmp_path / "runs" / "exp1", range(50)).close()
    write_lightning_csv(tmp_path / "runs" / "metrics.csv", range(20))
    assert main(["watch", str(tmp_path / "runs"), "--once"]) == 0
    out = capsys.readouterr().out
    assert "exp1 (tensorboard:" in out and "runs (csv:" in out
    line = next(li for li in out.splitlines() if li.strip().startswith("val/acc"))
    assert line.split()[1:5] == ["0.4", "40", "0.4", "40"]  # last, at step, best, at step
    assert "step 49" in out and "last point" in out


def test_once_json_with_a_nan_exits_1(tmp_path, capsys):
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([*jsonl_lines(range(3)), json.dumps({"step": 3, "loss": float("nan")})]) + "\n")
    assert main(["watch", str(path), "--once", "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    (run,) = record["runs"]
    assert run["first_nan"] == {"tag": "loss", "step": 3} and record["healthy"] is False
    assert run["tags"]["loss"]["last"] == "nan" and run["tags"]["loss"]["best"] == 1 / 3


def test_once_stalled_exits_1(tmp_path, capsys):
    path = write_lightning_csv(tmp_path / "metrics.csv", range(5))
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert main(["watch", str(path), "--once", "--stall-after", "30"]) == 1
    assert "STALLED" in capsys.readouterr().out
    assert main(["watch", str(path), "--once", "--stall-after", "120"]) == 0


def test_no_logs_and_bad_options_exit_2_with_a_message(tmp_path, capsys):
    assert main(["watch", str(tmp_path), "--once"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "no logs found" in err and "metrics.csv" in err
    assert main(["watch", str(tmp_path), "--json"]) == 2
    assert "--json goes with --once" in capsys.readouterr().err


def test_train_log_writes_a_run_that_watch_reads(tmp_path):
    log = (
        tmp_path / "runs" / "digits" / "train.jsonl"
    )  # folders made, as TensorBoard's and Lightning's loggers do
    trained = run_main("train", "digits", "--epochs", "1", "--threads", "1", "--log", str(log))
    assert trained.returncode == 0, trained.stderr
    out = run_main("watch", str(log), "--once", "--json")
    assert out.returncode == 0, out.stderr
    (run,) = json.loads(out.stdout)["runs"]
    assert run["total_steps"] == run["last_step"] == 23
    assert {"loss", "train_accuracy", "test_accuracy", "train_loss", "test_loss"} <= set(run["tags"])


def test_a_run_that_cannot_be_read_exits_1_and_nothing_readable_exits_2(tmp_path, capsys, monkeypatch):
    from dataloupe.core.runlogs.tail import TailReader

    write_lightning_csv(tmp_path / "good" / "metrics.csv", range(5))
    (tmp_path / "locked.jsonl").write_text("\n".join(jsonl_lines(range(3))) + "\n")
    real = TailReader.read_lines

    def refuse(self):
        if self.path.name == "locked.jsonl":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(TailReader, "read_lines", refuse)
    assert main(["watch", str(tmp_path), "--once"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'locked.jsonl'}: cannot be read (Permission denied)" in err
    assert main(["watch", str(tmp_path / "locked.jsonl"), "--once"]) == 2  # nothing at all read
    capsys.readouterr()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "events.out.tfevents.1.host").write_bytes(b"\x00garbage" * 40)
    assert main(["watch", str(bad), "--once"]) == 2
    (bad / "metrics.csv").write_text("step,loss\n1,0.5\nnot,a,row\n")
    assert main(["watch", str(bad), "--once"]) == 1
    assert "row without a step number" in capsys.readouterr().err


def test_escape_codes_in_a_column_name_never_reach_the_terminal(tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("step,\x1b]0;owned\x07loss\x1b[2J\n1,0.5\n2,0.25\n")
    assert main(["watch", str(tmp_path), "--once"]) == 0
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out
    assert "]0;ownedloss[2J" in out.out
    assert main(["watch", str(tmp_path), "--once", "--json"]) == 0
    assert "\\u001b" not in capsys.readouterr().out


def test_once_tags_keeps_the_matching_tags(tmp_path, capsys):
    path = tmp_path / "run.jsonl"
    path.write_text(
        "\n".join([*jsonl_lines(range(3)), json.dumps({"step": 3, "accuracy": float("nan")})]) + "\n"
    )
    assert (
        main(["watch", str(path), "--once", "--json", "--tags", "^lo"]) == 0
    )  # the NaN is in a tag left out
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert list(run["tags"]) == ["loss"] and run["first_nan"] is None
    assert main(["watch", str(path), "--once", "--tags", "ACC"]) == 1
    out = capsys.readouterr().out
    assert "accuracy" in out and "loss " not in out
    assert main(["watch", str(path), "--once", "--tags", "loss("]) == 2
    assert "--tags: 'loss(' is not a regular expression" in capsys.readouterr().err


def test_a_stopped_run_reports_no_eta(tmp_path, capsys):
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"total_steps": 500}) + "\n" + "\n".join(jsonl_lines(range(100))) + "\n")
    assert main(["watch", str(path), "--once", "--json"]) == 1  # its last point is years old: stalled
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["eta_seconds"] is None and run["state"] == "stalled"
    assert main(["watch", str(path), "--once", "--stall-after", "1e9"]) == 0
    out = capsys.readouterr().out
    assert "stopped at step 99 of 500" in out and "ETA" not in out
