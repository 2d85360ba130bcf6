"""``dataloupe check --deep`` on a folder of PNG files with defects planted: --json, --export, and
exact copies looked for among every sample."""

from __future__ import annotations

import csv
import json

from support.inprocess import run_main
from support.planted import BLANKS, COPIES, FLIPS, planted, write_planted_folder

EXACT = (70, 33)
"""Test sample 70 is an exact copy of training sample 33: no even sample of 5 reads either."""


def test_check_deep_json_and_export_name_the_planted_files(tmp_path):
    data = planted()
    t, s = EXACT
    data.x["test"][t], data.y["test"][t] = data.x["train"][s], data.y["train"][s]
    root = tmp_path / "shapes"
    paths = write_planted_folder(root, data)

    quick = run_main("check", str(root), "--json", "--sample-limit", "5")
    split = next(c for c in json.loads(quick.stdout)["checks"] if c["name"] == "split")
    assert split["verdict"] == "pass" and "read 5 of 90 test samples" in split["evidence"]

    export = tmp_path / "suspects.csv"
    run = run_main("check", str(root), "--deep", "--json", "--sample-limit", "5", "--export", str(export))
    assert run.returncode == 2, run.stderr  # near copies across train and test fail
    doc = json.loads(run.stdout)
    checks = {c["name"]: c for c in doc["checks"]}
    assert (
        checks["split"]["verdict"] == "fail"
        and "1 of 90 test samples (1.1%) are exact copies" in checks["split"]["evidence"]
    )
    assert "read 5 of" not in checks["split"]["evidence"]  # --deep reads every sample
    assert (
        checks["label noise"]["verdict"],
        checks["near copies"]["verdict"],
        checks["quality"]["verdict"],
    ) == (
        "warn",
        "fail",
        "warn",
    )
    findings = doc["deep"]["findings"]
    label = {f["where"] for f in findings if f["check"] == "label noise"}
    blanks = {paths[("train", i)] for i in BLANKS}
    assert label - blanks == {paths[("train", i)] for i in FLIPS}
    copies = {(f["where"], f["other_where"]) for f in findings if f["check"] == "near copies"}
    want = {(paths[("test", a)], paths[("train", b)]) for a, b in [*COPIES.items(), EXACT]}
    assert copies == want
    assert {f["where"] for f in findings if f["check"] == "quality"} == blanks

    rows = list(csv.DictReader(export.open()))
    assert len(rows) == len(findings)
    flip = next(r for r in rows if r["file_or_index"] == paths[("train", FLIPS[0])])
    given = str(int(data.y["train"][FLIPS[0]]))
    assert (flip["split"], flip["check"], flip["given_label"]) == ("train", "label noise", given)
    assert flip["index"].isdigit()  # the sample's index in the folder's order (class by class)
    assert flip["predicted_label"] not in ("", given) and 0.5 < float(flip["score"]) <= 1
    assert list(rows[0]) == [
        "file_or_index",
        "split",
        "index",
        "check",
        "given_label",
        "predicted_label",
        "score",
        "found",
    ]


def test_export_into_a_missing_folder_is_refused_before_any_work(tmp_path):
    run = run_main("check", "digits", "--export", str(tmp_path / "nowhere" / "s.csv"))
    assert run.returncode == 2 and "does not exist" in run.stderr and run.stdout == ""
