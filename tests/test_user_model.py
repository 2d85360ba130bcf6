"""The user's own model on their data: weights read without running code, and a report that agrees with
plain torch and scikit-learn on the same model and samples."""

from __future__ import annotations

import json
import os
import pickle
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import precision_recall_fscore_support

from dataloupe.core.errors import Cancelled, CheckpointError, SettingsError
from dataloupe.core.training.metrics import calibration, model_report
from dataloupe.core.training.user_model import detect_outputs, load_user_model
from dataloupe.core.training.weights import pickle_globals, read_weights, restricted_pickle

from support.inprocess import run_main

NET = """
import torch
from torch import nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))

class Network_1(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.block = Block()
        self.fc = nn.Linear(4 * 8 * 8, classes)

    def forward(self, x):
        return self.fc(self.block(x).flatten(1))

class LogSoftmaxNet(Network_1):
    def forward(self, x):
        print("forward of", tuple(x.shape))
        return torch.log_softmax(super().forward(x), dim=1)

class ProbNet(Network_1):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)

def make():
    return Network_1()

class Broken(Network_1):
    def forward(self, x):
        return self.missing_layer(x)
"""

DATA = """
import torch
from torch.utils.data import Dataset

class Squares(Dataset):
    classes = ["zero", "one", "two"]

    def __init__(self, n=90, seed=1):
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.arange(n) % 3
        self.x = torch.rand(n, 1, 8, 8, generator=g) + self.targets.view(-1, 1, 1, 1) * 0.15

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.x[i], int(self.targets[i])

test = Squares()
"""


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def user_net(tmp_path: Path, cls: str = "Network_1", **kw) -> torch.nn.Module:
    """An instance of the user's class, built from the file as dataloupe would import it."""
    from dataloupe.core.user_calls import import_module

    module, _ = import_module(str(write(tmp_path, "net.py", NET)))
    torch.manual_seed(0)
    return getattr(module, cls)(**kw)


def samples(tmp_path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    namespace: dict = {}
    exec(DATA, namespace)
    data = namespace["test"]
    return data.x, data.targets


def notebook_pickle(tmp_path: Path, monkeypatch, path: Path, legacy: bool) -> torch.nn.Module:
    """``torch.save(model)`` of a class a notebook defined: the pickle names ``__main__.Network_1``."""
    namespace = {"__name__": "__main__"}
    exec(NET, namespace)
    for name in ("Block", "Network_1"):
        monkeypatch.setattr(sys.modules["__main__"], name, namespace[name], raising=False)
    torch.manual_seed(3)
    model = namespace["Network_1"]()
    model.block.bn.running_mean += 0.5  # a buffer as well as parameters
    torch.save(model, path, _use_new_zipfile_serialization=not legacy)
    return model


def test_report_equals_plain_torch_and_sklearn(tmp_path):
    net = user_net(tmp_path)
    weights = tmp_path / "weights.pt"
    torch.save(net.state_dict(), weights)
    write(tmp_path, "data.py", DATA)
    result = run_main(
        "eval", "net.py:Network_1", "data.py:test", "--weights", "weights.pt", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    x, y = samples(tmp_path)
    net.eval()
    with torch.inference_mode():
        logits = net(x)
    predicted = logits.argmax(1)
    confusion = torch.zeros(3, 3, dtype=torch.int64)
    for t, p in zip(y.tolist(), predicted.tolist(), strict=True):
        confusion[t, p] += 1
    assert report["confusion"] == confusion.tolist()
    assert report["accuracy"] == pytest.approx((predicted == y).float().mean().item())
    assert report["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item(), rel=1e-5)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=[0, 1, 2], zero_division=0
    )
    for k, row in enumerate(report["per_class"]):
        assert row["class"] == ["zero", "one", "two"][k] and row["support"] == support[k]
        assert row["recall"] == pytest.approx(recall[k])
        assert (row["precision"] or 0.0) == pytest.approx(precision[k])
        assert (row["f1"] or 0.0) == pytest.approx(f1[k])
    losses = torch.nn.functional.cross_entropy(logits, y, reduction="none")
    wrong = (predicted != y).nonzero().flatten()
    worst = wrong[losses[wrong].argsort(descending=True)][:20].tolist()
    assert [m["index"] for m in report["mistakes"]] == worst
    assert report["mistakes_total"] == len(wrong)
    first = report["mistakes"][0]
    assert first["label"] == ["zero", "one", "two"][y[worst[0]]]
    assert first["confidence"] == pytest.approx(torch.softmax(logits[worst[0]], 0).max().item(), rel=1e-5)
    off = confusion.clone().fill_diagonal_(0)
    top = report["confused_pairs"][0]
    assert top["count"] == off.max().item()
    assert report["outputs"] == "logits" and "outputs read as logits" in " ".join(report["notes"])
    assert sum(b["count"] for b in report["calibration"]["bins"]) == 90


def test_text_report_and_exit_codes(tmp_path):
    torch.save(user_net(tmp_path).state_dict(), tmp_path / "w.pt")
    write(tmp_path, "data.py", DATA)
    shown = run_main("eval", "net.py:make", "data.py:test", "--weights", "w.pt", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    for line in (
        "precision  recall      F1  support",
        "confusion matrix (rows: true class",
        "calibration: ECE",
    ):
        assert line in shown.stdout
    strict = run_main(
        "eval", "net.py:make", "data.py:test", "--weights", "w.pt", "--min-accuracy", "1", cwd=tmp_path
    )
    assert strict.returncode == 1 and "is below --min-accuracy 100.00%" in strict.stderr
    missing = run_main("eval", "net.py:make", "data.py:test", "--weights", "nope.pt", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.pt: no such file" in missing.stderr
    nothing = run_main("eval", "net.py:Nothing", "data.py:test", cwd=tmp_path)
    assert nothing.returncode == 2 and "Models it defines: Block, Network_1" in nothing.stderr
    broken = run_main("eval", "net.py:Broken", "data.py:test", cwd=tmp_path)
    assert broken.returncode == 2
    assert "your code raised AttributeError while running net.py:Broken" in broken.stderr
    assert 'net.py", line' in broken.stderr and "self.missing_layer(x)" in broken.stderr


def test_log_softmax_outputs_are_detected_and_prints_stay_off_stdout(tmp_path):
    net = user_net(tmp_path, "LogSoftmaxNet")
    torch.save(net.state_dict(), tmp_path / "w.pt")
    write(tmp_path, "data.py", DATA)
    result = run_main(
        "eval", "net.py:LogSoftmaxNet", "data.py:test", "--weights", "w.pt", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # the model's print went to stderr
    assert "forward of (90, 1, 8, 8)" in result.stderr
    assert report["outputs"] == "log_probs"
    assert "outputs read as log-probabilities (detected)" in report["notes"]
    x, y = samples(tmp_path)
    with torch.inference_mode():
        logp = net.eval()(x)
    assert report["loss"] == pytest.approx(torch.nn.functional.nll_loss(logp, y).item(), rel=1e-5)
    forced = run_main(
        "eval",
        "net.py:LogSoftmaxNet",
        "data.py:test",
        "--weights",
        "w.pt",
        "--json",
        "--outputs",
        "logits",
        cwd=tmp_path,
    )
    assert json.loads(forced.stdout)["outputs"] == "logits"
    assert json.loads(forced.stdout)["loss"] == pytest.approx(
        report["loss"], rel=1e-5
    )  # log_softmax is idempotent
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    assert detect_outputs(logits) == "logits"
    assert detect_outputs(torch.softmax(logits, 1)) == "probs"
    assert detect_outputs(torch.log_softmax(logits, 1)) == "log_probs"


def test_lightning_checkpoint_with_prefixed_keys_and_extra_entries(tmp_path):
    net = user_net(tmp_path)
    state = {f"model.{k}": v for k, v in net.state_dict().items()}
    state["criterion.weight"] = torch.ones(3)  # another module of the LightningModule
    checkpoint = {
        "epoch": 7,
        "global_step": 700,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": state,
        "optimizer_states": [{"state": {0: {"exp_avg": torch.zeros(3)}}, "param_groups": [{"lr": 1e-3}]}],
        "lr_schedulers": [],
        "hyper_parameters": {"lr": 1e-3, "classes": 3},
    }
    torch.save(checkpoint, tmp_path / "last.ckpt")
    model = load_user_model(str(tmp_path / "net.py") + ":Network_1", tmp_path / "last.ckpt")
    for key, value in net.state_dict().items():
        assert torch.equal(model.module.state_dict()[key], value)
    assert "keys stripped of the prefix 'model.'" in model.notes[0]
    assert "1 other entries ignored" in model.notes[0]


@pytest.mark.filterwarnings("ignore:Couldn't retrieve source code")  # the notebook's class has no file
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_whole_module_pickled_by_a_notebook(tmp_path, monkeypatch, legacy):
    saved = notebook_pickle(tmp_path, monkeypatch, tmp_path / "model.pth", legacy)
    found = pickle_globals(tmp_path / "model.pth")
    assert "__main__.Network_1" in found and "__main__.Block" in found
    assert "torch._utils._rebuild_tensor_v2" in found
    write(tmp_path, "net.py", NET)
    model = load_user_model(str(tmp_path / "net.py") + ":Network_1", tmp_path / "model.pth")
    for key, value in saved.state_dict().items():
        assert torch.equal(model.module.state_dict()[key], value), key
    assert f"a whole pickled module (Network_1), {'legacy' if legacy else 'zip'} format" in model.notes[0]
    if legacy:  # what weights_only=True cannot read at all
        with pytest.raises(pickle.UnpicklingError):
            torch.load(tmp_path / "model.pth", weights_only=True)


class SystemCall:
    """Pickles as a call of os.system: what a hostile weights file does."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class HostileNet(torch.nn.Module):
    """A module whose pickle runs a command when loaded."""

    def __init__(self, command: str) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize(
    ("legacy", "protocol"), [(False, 2), (True, 2), (False, 4)], ids=["zip", "legacy", "proto4"]
)
@pytest.mark.parametrize("payload", ["dict", "module"])
def test_pickles_that_call_anything_else_are_refused_unrun(tmp_path, legacy, protocol, payload):
    marker = tmp_path / "ran"
    command = f"touch {marker}"
    hostile = (
        {"fc.weight": torch.zeros(3, 256), "extra": SystemCall(command)}
        if payload == "dict"
        else HostileNet(command)
    )
    torch.save(
        hostile, tmp_path / "evil.pt", pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy
    )
    write(tmp_path, "net.py", NET)
    with pytest.raises(CheckpointError) as refused:
        read_weights(tmp_path / "evil.pt", user_net(tmp_path).__class__)
    message = str(refused.value)
    assert f"would call {os.system.__module__}.system" in message
    assert "nothing in it was run" in message and "torch.save(model.state_dict()" in message
    assert not marker.exists()
    run = run_main("eval", "net.py:Network_1", "digits", "--weights", "evil.pt", cwd=tmp_path)
    assert run.returncode == 2 and "would call" in run.stderr and not marker.exists()


def test_the_restricted_unpickler_refuses_on_its_own(tmp_path):
    import io

    data = pickle.dumps(SystemCall(f"touch {tmp_path / 'ran'}"), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"refused global (posix|nt|os)\.system"):
        restricted_pickle({}).Unpickler(io.BytesIO(data)).load()
    evil = pickle.dumps(eval, protocol=4)  # STACK_GLOBAL, as newer protocols write it
    with pytest.raises(pickle.UnpicklingError, match="refused global builtins.eval"):
        restricted_pickle({}).Unpickler(io.BytesIO(evil)).load()
    nested = pickle.dumps(SystemCall("x"), protocol=2)

    class NestedLoad:  # torch's own helper that unpickles bytes without any restriction
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (nested,))

    with pytest.raises(pickle.UnpicklingError, match=r"refused global torch\.storage\._load_from_bytes"):
        restricted_pickle({}).Unpickler(io.BytesIO(pickle.dumps(NestedLoad(), protocol=2))).load()
    assert not (tmp_path / "ran").exists()


def test_a_user_class_under_another_name_is_refused(tmp_path, monkeypatch):
    notebook_pickle(tmp_path, monkeypatch, tmp_path / "model.pth", legacy=False)
    write(
        tmp_path,
        "other.py",
        "from torch import nn\nclass Other(nn.Linear):\n    def __init__(self):\n        super().__init__(2, 2)\n",
    )
    with pytest.raises(CheckpointError, match=r"would call __main__\.Network_1, __main__\.Block when loaded"):
        load_user_model(str(tmp_path / "other.py") + ":Other", tmp_path / "model.pth")


def test_missing_unexpected_and_misshapen_keys_are_listed(tmp_path):
    net = user_net(tmp_path, classes=5)
    state = net.state_dict()
    del state["block.bn.running_var"]
    state["head.bias"] = torch.zeros(2)
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(CheckpointError) as refused:
        load_user_model(str(tmp_path / "net.py") + ":Network_1", tmp_path / "w.pt")
    message = str(refused.value)
    assert "missing: block.bn.running_var" in message
    assert "unexpected: head.bias" in message
    assert "fc.weight is 5×256 in the file, 3×256 in the model" in message
    assert "fc.bias is 5 in the file, 3 in the model" in message
    assert "Nothing was evaluated" in message


def test_calibration_bins_and_ece_by_hand():
    confidence = np.array([0.95, 0.95, 0.55, 0.55, 0.55, 0.55])
    correct = np.array([True, False, True, True, False, False])
    ece, bins = calibration(confidence, correct, bins=10)
    filled = [b for b in bins if b.count]
    assert [(b.low, b.count, b.accuracy) for b in filled] == [
        (pytest.approx(0.5), 4, 0.5),
        (pytest.approx(0.9), 2, 0.5),
    ]
    assert ece == pytest.approx(4 / 6 * 0.05 + 2 / 6 * 0.45)
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    labels = np.array([0, 0, 1])
    report = model_report(
        probs, -np.log(probs[[0, 1, 2], labels]), labels, ["cat", "dog"], where=lambda i: f"f{i}.png"
    )
    assert report.confusion == ((1, 1), (1, 0))
    assert [(m.index, m.where, m.predicted) for m in report.mistakes] == [(1, "f1.png", 1), (2, "f2.png", 0)]
    assert report.pair_text(*report.confused_pairs[0]) in (
        "true cat → predicted dog: 1",
        "true dog → predicted cat: 1",
    )
    assert report.mistakes_in(true=1, predicted=0)[0].index == 2


def test_the_users_model_as_the_apps_model_value_and_its_probabilities(tmp_path):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    from dataloupe.core.training.user_model import (
        UserModel,
        evaluate_on_dataset,
        probabilities_on_test_split,
        user_model_probabilities,
    )

    net = user_net(tmp_path)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    write(tmp_path, "data.py", DATA)
    model = load_user_model(str(tmp_path / "net.py") + ":Network_1", tmp_path / "w.pt")
    handle = open_dataset(DatasetSpec(str(tmp_path / "data.py") + ":test"))
    report, split, _ = evaluate_on_dataset(model, handle, "cpu")
    assert split.name == "train" and report.samples == 90  # the only split, all of it
    trained = model.trained(tuple(handle.classes), split.pipeline, handle.name)
    assert trained.kind == "user" and trained.source == str(tmp_path / "w.pt")
    again = UserModel.from_trained(trained)
    assert again.source.endswith("net.py:Network_1") and again.weights == tmp_path / "w.pt"
    assert evaluate_on_dataset(again, handle, "cpu")[0].confusion == report.confusion
    x, _ = samples(tmp_path)
    with torch.inference_mode():
        expected = torch.softmax(net.eval()(x), 1).numpy()
    probs = user_model_probabilities(model, split)
    assert probs.shape == (90, 3) and np.allclose(probs, expected, atol=1e-6)
    probs, scored, who = probabilities_on_test_split(model, handle, "cpu")
    assert (
        np.allclose(probs, expected, atol=1e-6)
        and scored.name == "train"
        and who == "scored by net.py:Network_1 with w.pt"
    )
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        evaluate_on_dataset(model, handle, "cpu", cancel=stop)
    wrong = load_user_model(str(tmp_path / "net.py") + ":make", None)
    wrong.module.fc = torch.nn.Linear(256, 5)  # five outputs for three classes
    with pytest.raises(SettingsError, match=r"returned a tensor 90×5 .* expected 90×3"):
        evaluate_on_dataset(wrong, handle, "cpu")


def test_the_app_options_refuse_weights_without_a_model():
    bad = run_main("digits", "--weights", "w.pt")
    assert bad.returncode == 2 and "--weights needs --model" in bad.stderr
    bad = run_main("digits", "--model", "w.pt")
    assert bad.returncode == 2 and "expected path/to/file.py:NAME" in bad.stderr


def test_mistakes_name_their_image_file_or_table_row(tmp_path, image_folder_factory, red_wine):
    write(
        tmp_path,
        "models.py",
        """
        import torch
        from torch import nn

        def images():
            torch.manual_seed(0)
            return nn.Sequential(nn.Flatten(), nn.Linear(64, 2))

        def wine():
            torch.manual_seed(0)
            return nn.Linear(11, 2)
        """,
    )
    folder = image_folder_factory({"cat": 6, "dog": 6}, size=(8, 8))
    shown = run_main("eval", "models:images", str(folder), "--json", "--mistakes", "50", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["mistakes"], "a random linear model gets some of twelve images wrong"
    for mistake in report["mistakes"]:
        where = Path(mistake["where"])
        assert where.suffix == ".png" and where.parent.name == mistake["label"]  # its class folder
    table = run_main("eval", "models:wine", str(red_wine), "--threshold", "5.5", "--json", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    report = json.loads(table.stdout)
    assert report["split"] == "test" and report["transform"].startswith("MinMaxScale")
    lines = red_wine.read_text().splitlines()
    for mistake in report["mistakes"]:
        name, word, row = mistake["where"].split(" ")
        assert (name, word) == ("winequality-red.csv", "row")
        quality = float(
            lines[int(row.replace(",", ""))].split(";")[-1]
        )  # row 1 is the first below the header
        assert mistake["label"].startswith("high" if quality > 5.5 else "low"), (mistake, quality)
