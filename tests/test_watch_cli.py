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
