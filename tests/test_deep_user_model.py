"""``check --deep --model``: the user's own model, which never saw the test split, judges its labels
instead of dataloupe's K-fold models; the findings name exactly the planted wrong labels."""

from __future__ import annotations

import json
import textwrap

from support.inprocess import run_main

DATA = """
import torch
from torch.utils.data import TensorDataset

def split(n, seed, flipped=()):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = 0.2 + 0.6 * y.float().reshape(n, 1, 1, 1) + 0.05 * torch.rand(n, 1, 4, 4, generator=g)
    given = y.clone()
    for i in flipped:
        given[i] = 1 - given[i]
    return TensorDataset(x, given)

data = {"train": split(60, 0), "test": split(40, 1, flipped=(3, 17, 26))}
"""
MODEL = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(12.0))

    def forward(self, x):
        v = x.reshape(len(x), -1).mean(1) - 0.525
        return torch.stack([-v * self.scale, v * self.scale], 1)
"""


def test_the_users_model_names_the_planted_wrong_labels_of_the_test_split(tmp_path):
    (tmp_path / "data.py").write_text(textwrap.dedent(DATA))
    (tmp_path / "net.py").write_text(textwrap.dedent(MODEL))
    done = run_main("check", "data.py:data", "--model", "net.py:Net", "--json", cwd=tmp_path)
    assert done.returncode in (0, 1, 2), done.stderr
    document = json.loads(done.stdout)
    noise = [f for f in document["deep"]["findings"] if f["check"] == "label noise"]
    assert sorted((f["split"], f["index"]) for f in noise) == [("test", 3), ("test", 17), ("test", 26)]
    evidence = next(r for r in document["checks"] if r["name"] == "label noise")["evidence"]
    assert "scored by" in evidence and "net.py:Net" in evidence and "never trained on" in evidence


def test_weights_without_a_model_are_refused(tmp_path):
    done = run_main("check", "digits", "--weights", "w.pt", cwd=tmp_path)
    assert done.returncode == 2 and "--weights and --outputs go with --model" in done.stderr
