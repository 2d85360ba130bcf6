"""A Dataset or DataLoader from the user's own code (``file.py:NAME``): every kind of NAME, both sample
shapes, PIL and numpy inputs, a DataLoader's own batches, a stream, the user's errors, and wrong things."""

from __future__ import annotations

import subprocess
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from dataloupe.core.batching import LoaderSettings
from dataloupe.core.batching.user_loader import LoaderStepper, stepper_for
from dataloupe.core.checks import run_checklist
from dataloupe.core.data.sources import DatasetSpec
from dataloupe.core.errors import Cancelled, DatasetError, UserCodeError
from dataloupe.core.readers import open_dataset

from support.inprocess import run_main

HEADER = """
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset


class Blobs(Dataset):
    '''n samples of 1×6×6, label i % 3; class k is brighter.'''

    def __init__(self, n=30, dicts=False):
        self.n, self.dicts = n, dicts

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        y = i % 3
        x = torch.full((1, 6, 6), y / 2.0)
        return {"image": x, "label": y} if self.dicts else (x, y)
"""


def write(folder: Path, body: str, name: str = "mydata.py") -> Path:
    """A user's module: :data:`HEADER` then ``body``."""
    path = folder / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def open_code(path: Path, name: str, **kw):
    return open_dataset(DatasetSpec(f"{path}:{name}", **kw))


def dataloupe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``dataloupe ARGS`` in this process (tests/support/inprocess.py), run in ``cwd``."""
    return run_main(*args, cwd=cwd)


# ---------------------------------------------------------------------- every kind of NAME
def test_a_map_style_dataset_with_classes_and_targets(tmp_path):
    path = write(
        tmp_path,
        """
        class Named(Blobs):
            classes = ["dim", "mid", "bright"]

            @property
            def targets(self):
                return [i % 3 for i in range(self.n)]

        data = Named()
        """,
    )
    h = open_code(path, "data")
    assert h.reader == "code" and h.split_names == ["train"] and len(h.split("train")) == 30
    assert h.classes == ["dim", "mid", "bright"]
    assert h.splits["train"].targets.tolist() == [i % 3 for i in range(30)]
    assert not any("sample by sample" in n for n in h.notes)  # the targets attribute was used
    x, y = h.split("train").raw(4)
    assert tuple(x.shape) == (1, 6, 6) and y == 1


def test_labels_read_sample_by_sample_with_progress_and_cancel(tmp_path):
    path = write(tmp_path, "data = Blobs(200)\n")
    seen = []
    h = open_dataset(DatasetSpec(f"{path}:data"), progress=seen.append)
    assert h.classes == ["0", "1", "2"]  # from the labels seen
    note = next(n for n in h.notes if "sample by sample" in n)
    assert "train labels read sample by sample in" in note and " s " in note
    assert any(p.what == "reading the train labels sample by sample" and p.total == 200 for p in seen)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        open_dataset(DatasetSpec(f"{path}:data"), cancel=cancel)


@pytest.mark.parametrize(
    "body",
    [
        "def data():\n    return Blobs(30), Blobs(12)\n",
        "data = [Blobs(30), Blobs(12)]\n",
        "data = {'train': Blobs(30), 'val': Blobs(12)}\n",
        "data = {'train': Blobs(30), 'validation': DataLoader(Blobs(12), batch_size=4)}\n",
        "class data(Blobs):\n    pass\n",  # a Dataset class: called without arguments
        "class T(Blobs):\n    targets = [i % 3 for i in range(42)]\n"
        "def data():\n    return torch.utils.data.random_split(T(42), [30, 12])\n",
    ],
    ids=["callable-tuple", "list", "dict-val", "dict-loader", "class", "random-split"],
)
def test_every_kind_of_name_gives_its_splits(tmp_path, body):
    h = open_code(write(tmp_path, body), "data")
    sizes = {name: s.length for name, s in h.splits.items()}
    assert sizes == ({"train": 30} if "class data" in body else {"train": 30, "test": 12})
    if "random_split" in body:  # a Subset's labels come from its parent's targets: no sample is read
        assert not any("sample by sample" in n for n in h.notes)
        assert h.splits["train"].targets.tolist() == [h.splits["train"].read(i)[1] for i in range(30)]


def test_a_dataloader_is_iterated_as_it_is(tmp_path):
    """Its batch size and collate_fn make the batches: the stepper shows exactly what iterating it gives."""
    path = write(
        tmp_path,
        """
        def pad(samples):
            xs = torch.stack([s[0] for s in samples]) * 10
            return {"pixel_values": xs, "labels": torch.tensor([s[1] for s in samples])}

        loader = DataLoader(Blobs(30), batch_size=7, shuffle=False, collate_fn=pad, drop_last=True)
        """,
    )
    h = open_code(path, "loader")
    assert h.loader is not None
    assert any("batch size 7" in n and "collate_fn pad" in n for n in h.notes)
    expected = list(h.loader)
    stepper = stepper_for(h, h.split("train"), LoaderSettings(batch_size=3))
    assert isinstance(stepper, LoaderStepper) and stepper.batches_per_epoch == 4  # 30 // 7, drop_last
    for k in range(4):
        batch = stepper.step()
        assert torch.equal(batch.x, expected[k]["pixel_values"])
        assert batch.summary.labels == tuple(expected[k]["labels"].tolist())
        assert batch.summary.x_shape == (7, 1, 6, 6) and batch.summary.x_max == 10.0  # its collate_fn's ×10
    assert "drop_last on" in stepper.settings.describe()
    stepper.step()  # past the last batch: a new epoch, a new iter(loader)
    assert stepper.epoch == 2 and stepper.position == 0
    # the checklist reads the loader: no shuffle, drop_last, workers
    report = run_checklist(h)
    shuffled = next(r for r in report.results if r.name == "shuffled")
    assert (
        "read from your DataLoader: does not shuffle (SequentialSampler) · drop_last on · num_workers 0"
        in (shuffled.evidence)
    )


def test_a_shuffling_loader_counts_as_shuffled_whatever_the_caller_says(tmp_path):
    path = write(tmp_path, "loader = DataLoader(Blobs(30), batch_size=5, shuffle=True)\n")
    h = open_code(path, "loader")
    shuffled = next(r for r in run_checklist(h, loader_shuffles=False).results if r.name == "shuffled")
    assert shuffled.verdict == "pass" and "shuffles (RandomSampler)" in shuffled.evidence


# ---------------------------------------------------------------------- sample shapes and inputs
def test_dict_samples_with_pil_and_numpy_inputs(tmp_path):
    path = write(
        tmp_path,
        """
        from PIL import Image

        class Pictures(Dataset):
            classes = ["a", "b"]

            def __len__(self):
                return 6

            def __getitem__(self, i):
                pixels = np.full((5, 4, 3), 40 * i, np.uint8)
                if i % 2:
                    return {"img": Image.fromarray(pixels), "target": np.int64(1)}
                return {"img": pixels, "target": torch.tensor(0)}

        data = Pictures()
        """,
    )
    h = open_code(path, "data")
    for i in range(6):
        x, y = h.split("train").raw(i)
        assert x.dtype == torch.uint8 and tuple(x.shape) == (3, 5, 4) and int(x[0, 0, 0]) == 40 * i
        assert y == i % 2
    assert h.pipeline.describe().startswith("ToTensor()")  # uint8 images are scaled as ToTensor would


def test_keys_name_the_input_and_the_label(tmp_path):
    path = write(
        tmp_path,
        """
        class Odd(Blobs):
            def __getitem__(self, i):
                x, y = super().__getitem__(i)
                return {"picture": x, "kind": y, "id": i}

        data = Odd()
        """,
    )
    with pytest.raises(DatasetError, match="keys picture, kind, id, and none of them looks like an input"):
        open_code(path, "data")
    h = open_code(path, "data", keys=("picture", "kind"))
    assert h.split("train").raw(5)[1] == 2
    with pytest.raises(DatasetError, match="--keys names pic"):
        open_code(path, "data", keys=("pic", "kind"))


# ---------------------------------------------------------------------- streams
def test_a_stream_is_read_up_to_the_limit(tmp_path):
    path = write(
        tmp_path,
        """
        class Endless(IterableDataset):
            def __iter__(self):
                i = 0
                while True:
                    yield torch.full((1, 6, 6), (i % 2) * 1.0), i % 2
                    i += 1

        class Short(IterableDataset):
            def __iter__(self):
                return iter([(torch.zeros(3), k % 2) for k in range(9)])

        stream = Endless()
        short = Short()
        loader = DataLoader(Endless(), batch_size=4)
        """,
    )
    h = open_code(path, "stream", limit=50)
    assert len(h.split("train")) == 50 and h.splits["train"].targets.sum() == 25
    assert any("a sample of it, its first 50 samples (--limit)" in n for n in h.notes)
    assert any("ended after 9 samples" in n for n in open_code(path, "short", limit=50).notes)
    h = open_code(path, "loader", limit=20)
    stepper = stepper_for(h, h.split("train"), LoaderSettings())
    assert stepper.batches_per_epoch == 0  # unknown for a stream
    assert [stepper.step().summary.labels for _ in range(2)] == [(0, 1, 0, 1), (0, 1, 0, 1)]


# ---------------------------------------------------------------------- the user's errors
def test_a_user_exception_shows_their_file_and_line(tmp_path):
    path = write(
        tmp_path,
        """
        class Broken(Blobs):
            def __getitem__(self, i):
                if i == 3:
                    raise ValueError("sample 3 is corrupt")
                return super().__getitem__(i)

        data = Broken()
        """,
    )
    line = path.read_text().splitlines().index('            raise ValueError("sample 3 is corrupt")') + 1
    with pytest.raises(UserCodeError) as caught:
        open_code(path, "data")
    text = str(caught.value)
    assert f'File "{path}", line {line}, in __getitem__' in text
    assert "ValueError: sample 3 is corrupt" in text and "reading sample 3 of the train split" in text
    assert "core/" not in text and "torch/utils/data" not in text  # only the user's frames


def test_an_error_in_a_dataloader_worker_process_names_the_users_line(tmp_path):
    path = write(
        tmp_path,
        """
        class Late(Blobs):
            def __getitem__(self, i):
                in_worker = torch.utils.data.get_worker_info() is not None  # opening reads samples here
                if i == 5 and in_worker:
                    raise IndexError("bad sample 5")
                return super().__getitem__(i)

        class Labelled(Late):
            targets = [i % 3 for i in range(30)]  # known labels: opening reads no sample

        loader = DataLoader(Labelled(), batch_size=4, num_workers=2)
        """,
    )
    line = [t.strip() for t in path.read_text().splitlines()].index('raise IndexError("bad sample 5")') + 1
    h = open_code(path, "loader")
    stepper = stepper_for(h, h.split("train"), LoaderSettings())
    assert stepper.step().summary.labels == (0, 1, 2, 0)  # batch 0 from the worker processes
    with pytest.raises(UserCodeError) as caught:
        stepper.step()
    text = str(caught.value)
    assert "Caught IndexError in DataLoader worker process" in text and "IndexError: bad sample 5" in text
    assert f'File "{path}", line {line}, in __getitem__' in text and "torch/utils/data" not in text


def _workers_end(before: set[int], within: float = 5.0) -> bool:
    """Whether the worker processes started since ``before`` (pids) have all ended within ``within`` s."""
    import multiprocessing
    import time

    deadline = time.monotonic() + within
    while {p.pid for p in multiprocessing.active_children()} - before:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_stepper_dropped_in_a_reference_cycle_stops_its_workers_without_blocking_the_collection(tmp_path):
    """torch's iterator, freed inside a garbage collection, waited two 5 s timeouts for workers that
    never got the signal to stop (its queues were finalized first): the UI thread froze with it."""
    import gc
    import multiprocessing

    path = write(tmp_path, "loader = DataLoader(Blobs(), batch_size=4, num_workers=2)\n")
    before = {p.pid for p in multiprocessing.active_children()}
    h = open_code(path, "loader")
    stepper = stepper_for(h, h.split("train"), LoaderSettings())
    stepper.step()
    assert {p.pid for p in multiprocessing.active_children()} - before, "the loader started no workers"
    holder = {"stepper": stepper}
    holder["self"] = holder  # a cycle: only a collection frees it
    del stepper, holder
    gc.collect()  # the old code blocked here for 10 s (two 5 s joins): bench_stops.py times it
    assert _workers_end(before)


def test_a_new_epoch_close_and_an_abandoned_training_epoch_end_their_workers(tmp_path):
    import multiprocessing

    from dataloupe.core.training.data import TrainBatches

    path = write(tmp_path, "loader = DataLoader(Blobs(), batch_size=4, num_workers=2)\n")
    h = open_code(path, "loader")
    before = {p.pid for p in multiprocessing.active_children()}
    stepper = stepper_for(h, h.split("train"), LoaderSettings())
    stepper.step()
    first = {p.pid for p in multiprocessing.active_children()} - before
    stepper.new_epoch()
    assert stepper.step().summary.epoch == 2
    assert _workers_end(before | ({p.pid for p in multiprocessing.active_children()} - first))
    stepper.close()
    assert _workers_end(before)

    batches = TrainBatches(h.split("train"), None, torch.device("cpu"), 4, workers=2)
    epoch = batches.epoch(torch.randperm(30))
    xb, yb = next(epoch)
    assert xb.shape == (4, 1, 6, 6) and {p.pid for p in multiprocessing.active_children()} - before
    epoch.close()  # a run stopped mid-epoch
    assert _workers_end(before)


def test_headless_commands_print_the_traceback_and_exit_2(tmp_path):
    path = write(tmp_path, "raise RuntimeError('no data today')\n")
    for command in ("check", "batches"):
        result = dataloupe(command, f"{path}:data")
        assert result.returncode == 2
        assert f'File "{path}", line' in result.stderr and "RuntimeError: no data today" in result.stderr


# ---------------------------------------------------------------------- wrong things
@pytest.mark.parametrize(
    ("body", "name", "message"),
    [
        ("data = Blobs()\n", "dta", r"has no 'dta'. It defines: .*data \(Blobs\)"),
        ("names = ['cat', 'dog']\n", "names", r"is a list of 2 \(str\): expected a Dataset, a DataLoader"),
        (
            "model = torch.nn.Linear(4, 2)\n",
            "model",
            r"is a model \(a torch.nn.modules.linear.Linear\), not data",
        ),
        ("def make(root):\n    return Blobs()\n", "make", r"needs arguments \(root\)"),
        ("data = {'a': Blobs()}\n", "data", r"a dict with keys a: expected a train key"),
        (
            "class NoLen(Dataset):\n    def __getitem__(self, i):\n        return 0\ndata = NoLen()\n",
            "data",
            r"\(NoLen\) has no __len__",
        ),
        (
            "class Words(Blobs):\n    def __getitem__(self, i):\n        return 'word'\ndata = Words()\n",
            "data",
            r"sample 0 of the train split: a sample is a str \('word'\): expected an \(input, label\) pair",
        ),
        (
            "class F(Blobs):\n    def __getitem__(self, i):\n        return torch.zeros(2), 0.5\ndata = F()\n",
            "data",
            r"the label is a float \(0.5\): a class label must be a whole number",
        ),
    ],
    ids=[
        "missing-name",
        "list-of-strings",
        "model",
        "arguments",
        "dict-without-train",
        "no-len",
        "str-sample",
        "float-label",
    ],
)
def test_wrong_things_say_what_was_found_and_what_is_expected(tmp_path, body, name, message):
    with pytest.raises(DatasetError, match=message):
        open_code(write(tmp_path, body), name)


def test_a_python_file_without_a_name_and_a_missing_module(tmp_path):
    path = write(tmp_path, "data = Blobs()\n")
    with pytest.raises(DatasetError, match=r"a Python file, but which of its names is the data\? .*:NAME"):
        DatasetSpec(str(path)).reader()
    with pytest.raises(DatasetError, match="no module named no_such_module_here"):
        open_dataset(DatasetSpec("no_such_module_here:data"))


# ---------------------------------------------------------------------- the headless commands
def test_check_batches_train_and_eval_on_a_module_in_the_current_folder(tmp_path):
    write(
        tmp_path,
        """
        class Named(Blobs):
            classes = ["dim", "mid", "bright"]

            def __init__(self, n, start=0):
                super().__init__(n)
                self.start = start

            def __getitem__(self, i):
                x, y = super().__getitem__(i)
                if i == 0:
                    print("reading sample 0")
                return x + (self.start + i) / 1000, y  # every sample differs: no leak between the splits

        def collate(samples):
            return torch.stack([s[0] for s in samples]), torch.tensor([s[1] for s in samples])

        data = {"train": Named(60), "test": Named(15, start=100)}
        loader = DataLoader(Named(60), batch_size=6, collate_fn=collate)
        """,
        name="userdata.py",
    )
    check = dataloupe("check", "userdata:data", cwd=tmp_path)  # package.module:NAME, from the current folder
    assert check.returncode in (0, 1), check.stdout + check.stderr
    assert "note: train labels read sample by sample" in check.stdout and "dim" in check.stdout
    batches = dataloupe("batches", "userdata:loader", "--count", "2", "--json", cwd=tmp_path)
    assert batches.returncode == 0, batches.stderr
    import json

    records = [json.loads(line) for line in batches.stdout.splitlines()]  # the user's print is not there
    assert "reading sample 0" in batches.stderr
    assert [r["labels"] for r in records] == [[0, 1, 2, 0, 1, 2]] * 2  # its own order, batch size 6
    model = tmp_path / "model.pt"
    train = dataloupe(
        "train", "userdata.py:data", "--epochs", "3", "--save", str(model), "--json", cwd=tmp_path
    )
    assert train.returncode == 0, train.stderr
    summary = json.loads(train.stdout.splitlines()[-1])
    assert summary["saved"] == str(model)
    from dataloupe.core.training.checkpoint import load_checkpoint

    assert load_checkpoint(model).dataset == "userdata.py:data"  # the checkpoint names the user's code
    evaluate = dataloupe("eval", str(model), "userdata.py:data", "--json", cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    result = json.loads(evaluate.stdout)
    assert result["dataset"] == "userdata.py:data" and result["samples"] == 15
    assert result["test_accuracy"] == pytest.approx(summary["test_accuracy"])  # the same model, the same data


def test_keys_and_limit_on_the_command_line(tmp_path):
    bad = dataloupe("check", "x.py:data", "--keys", "image")
    assert bad.returncode == 2 and "--keys must be two keys, INPUT,LABEL" in bad.stderr
    bad = dataloupe("check", "x.py:data", "--limit", "0")
    assert bad.returncode == 2 and "--limit must be a whole number ≥ 1" in bad.stderr


def test_samples_adapt_numpy_images_and_labels():
    from dataloupe.core.data.samples import SampleReader, to_label, to_stored

    assert tuple(to_stored(np.zeros((28, 28), np.uint8)).shape) == (1, 28, 28)
    assert tuple(to_stored(np.zeros((32, 32, 3), np.float32)).shape) == (3, 32, 32)
    assert tuple(to_stored(torch.zeros(5)).shape) == (5,)
    assert to_label(torch.tensor(4)) == 4 and to_label(np.int32(2)) == 2 and to_label(True) == 1
    with pytest.raises(DatasetError, match="one-hot vector"):
        to_label(torch.tensor([0, 1, 0]))
    with pytest.raises(DatasetError, match="not 3 items"):
        SampleReader()((torch.zeros(2), 1, "extra"))


def test_paths_in_descriptions_are_short(tmp_path, monkeypatch):
    from dataloupe.core.wording import short_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path.parent))
    assert short_path(str(tmp_path / "sub" / "mydata.py")) == "sub/mydata.py"
    assert short_path(str(tmp_path)) == "."
    assert short_path(str(tmp_path.parent / "other" / "x.csv")) == "~/other/x.csv"
    assert short_path("/elsewhere/x.csv") == "/elsewhere/x.csv"
    assert short_path("scikit-learn (bundled, offline)") == "scikit-learn (bundled, offline)"
