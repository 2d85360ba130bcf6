"""``dataloupe curve`` as a user runs it: a table per network and a verdict, or every point as JSON.

Runs go through the entry point in this process (tests/support/inprocess.py) on small sweeps:
2 networks of 16 units, 3 sizes, 2 seeds, 50 steps a point.
"""

from __future__ import annotations

import json

import pytest

from support.inprocess import run_main

SMALL = ("--units", "16", "--depths", "1,2", "--sizes", "3", "--min-steps", "50", "--batch-size", "32")
"""12 points: 1×16 and 2×8, 5% / 22% / 100% of the digits, seeds 0 and 1."""


def dataloupe(*args: str):
    return run_main(*args, env={"OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def json_run():
    done = dataloupe("curve", "digits", *SMALL, "--epochs", "1", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_curve_prints_a_table_per_network_and_a_plain_verdict():
    done = dataloupe("curve", "digits", *SMALL, "--epochs", "1", "--repeats", "1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert lines[0].startswith(
        "learning curve of digits: 2 networks × 3 sizes × 1 seed = 6 points of 50 steps"
    )
    assert "1×16  MLP 64→16→10  1,210 parameters" in lines
    assert "2×8  MLP 64→8→8→10  682 parameters" in lines
    header = "    samples  share  per class  train %  test %  spread"
    assert lines.count(header) == 2
    rows = [line for line in lines if line.strip().startswith(("70 ", "322 ", "1,438 "))]
    assert len(rows) == 6
    assert all(row.split()[2] in ("7", "31-33", "139-146") for row in rows)  # samples per class
    assert all(row.split()[-1] == "-" for row in rows)  # one seed: no spread
    assert any(
        line.startswith(("more data still helps:", "plateau:", "too noisy to tell:")) for line in lines
    )
    assert any(line.startswith("best: ") for line in lines)
    assert "\x1b" not in out and "Traceback" not in done.stderr


def test_json_carries_every_point_and_the_verdict(json_run):
    points = json_run["points"]
    assert len(points) == 12
    assert {(p["network"], p["size"], p["seed"]) for p in points} == {
        (n, s, seed) for n in ("1×16", "2×8") for s in (70, 322, 1438) for seed in (0, 1)
    }
    for p in points:
        assert {"network", "params", "size", "seed", "train_accuracy", "test_accuracy"} <= set(p)
        assert 0 <= p["test_accuracy"] <= 1 and 0 <= p["train_accuracy"] <= 1
    assert {p["params"] for p in points if p["network"] == "1×16"} == {1210}
    assert json_run["state"] == "finished" and json_run["steps_per_point"] == 50
    assert json_run["kind"] in ("helps", "plateau", "noisy")
    assert json_run["verdict"].split(":")[0] in ("more data still helps", "plateau", "too noisy to tell")
    assert json_run["sizes"][0]["per_class"] == [7] * 10


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--depths", "1,two"), "depths '1,two': write positive whole numbers"),
        (("--units", "3", "--depths", "4"), "3 units cannot make 4 layers"),
        (("--sampler", "balanced"), "unrecognized arguments: --sampler"),
        (("--epochs", "0"), "train for at least 1 epoch"),
    ],
)
def test_bad_options_say_what_to_do_with_exit_code_2(args, says):
    done = dataloupe("curve", "digits", *args)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_help_lists_the_training_options_of_train_and_none_of_its_saving():
    done = dataloupe("curve", "--help")
    assert done.returncode == 0
    for option in (
        "--epochs",
        "--lr",
        "--optimizer",
        "--model",
        "--device",
        "--units",
        "--depths",
        "--repeats",
    ):
        assert option in done.stdout
    for option in ("--save", "--log", "--hidden", "--eval-every"):
        assert option not in done.stdout
