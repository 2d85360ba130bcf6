"""``dataloupe check`` run as a program: its text, its JSON and its exit codes."""

from __future__ import annotations

import json
import subprocess

import numpy as np

from dataloupe.core.checks import CHECKS

from support.inprocess import run_main


def check(*args: str) -> subprocess.CompletedProcess:
    """``dataloupe check ARGS`` with stdout a pipe (not a terminal), in this process (tests/support/inprocess.py)."""
    return run_main("check", *args)


def table_row(stdout: str, first_cell: str) -> list[str]:
    """The cells of the class-table row that starts with ``first_cell``."""
    for line in stdout.splitlines():
        if line.startswith(first_cell):
            return line[len(first_cell) :].split()
    raise AssertionError(f"no row {first_cell!r} in:\n{stdout}")


def test_red_wine_at_4_5_prints_63_low_against_1536_high_and_a_balance_warning(red_wine):
    run = check(str(red_wine), "--threshold", "4.5")
    out = run.stdout
    assert "\x1b" not in out and "\x1b" not in run.stderr  # not a terminal: no escape codes
    # columns: train, %, test, %, total, %
    low, high = table_row(out, "low (≤ 4.5)"), table_row(out, "high (> 4.5)")
    assert (low[4], high[4]) == ("63", "1,536")
    assert int(low[0]) + int(low[2]) == 63
    assert int(high[0].replace(",", "")) + int(high[2]) == 1536
    assert "⚠ warn balanced" in out and "24.6× as many samples as low (≤ 4.5)" in out
    assert "class-balanced sampler" in out
    # the table repeats rows, so some test rows are copies of training rows: a failed check
    assert "✗ fail split" in out
    assert run.returncode == 2


def test_red_wine_at_5_5_json_has_no_balance_warning(red_wine):
    run = check(str(red_wine), "--threshold", "5.5", "--json")
    doc = json.loads(run.stdout)
    assert doc["total"]["total"] == 1599
    assert sum(doc["splits"]["train"]["counts"]) + sum(doc["splits"]["test"]["counts"]) == 1599
    assert not doc["total"]["unbalanced"] and not doc["splits"]["train"]["unbalanced"]
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["balanced"]["verdict"] == "pass"


def test_json_carries_the_counts_and_every_verdict(digits):
    run = check("digits", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    for name in ("train", "test"):
        expected = np.bincount(digits.split(name).targets, minlength=10).tolist()
        assert doc["splits"][name]["counts"] == expected
        assert doc["splits"][name]["by_class"]["3"] == expected[3]
    assert doc["total"]["total"] == 1797
    assert [c["name"] for c in doc["checks"]] == list(CHECKS)
    assert all(c["verdict"] in ("pass", "warn", "fail") for c in doc["checks"])
    assert doc["verdict"] == "pass" and doc["mode"] == "scaled"


def test_raw_digits_fail_scaled_with_exit_code_2():
    run = check("digits", "--transform", "raw")
    assert run.returncode == 2
    assert "✗ fail scaled" in run.stdout and "divide by the maximum (16)" in run.stdout
    assert run.stdout.rstrip().endswith("verdict: fail (1 fail, 9 pass)")  # 9: the readable item joined


def test_strict_turns_a_warning_into_exit_code_1():
    # digits' largest ÷ smallest is 1.05: a threshold of 1.01 makes "balanced" warn
    strict = check("digits", "--imbalance-threshold", "1.01", "--strict")
    assert strict.returncode == 1
    assert "⚠ warn balanced" in strict.stdout
    lenient = check("digits", "--imbalance-threshold", "1.01")
    assert lenient.returncode == 0


def test_unusable_input_exits_2_with_a_message_and_no_traceback(tmp_path):
    missing = check(str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("dataloupe: ") and "no such file or folder" in missing.stderr
    bad_option = check("digits", "--imbalance-threshold", "0.5")
    assert bad_option.returncode == 2 and "--imbalance-threshold must be a ratio ≥ 1" in bad_option.stderr
    for run in (missing, bad_option):
        assert "Traceback" not in run.stderr and run.stdout == ""
