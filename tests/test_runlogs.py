"""dataloupe.core.runlogs: each log format read incrementally, files that grow, rotate, are half-written
or hold garbage, and the statistics (best, NaN, stalled, steps/s, ETA)."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import pytest

from dataloupe.core.runlogs import JsonlLog, Run, TagSeries, Watch, chart_key, find_sources, group_tags
from dataloupe.core.runlogs.csv_metrics import CsvReader
from dataloupe.core.runlogs.jsonl import JsonlReader
from dataloupe.core.runlogs.tensorboard_events import EventFolderReader
from dataloupe.core.runlogs.trainer_state import TrainerStateReader

from support.runlogs import (
    LIGHTNING_HEADER,
    append_lines,
    jsonl_lines,
    lightning_rows,
    write_lightning_csv,
    write_tensorboard,
    write_trainer_state,
)


def tags_of(run: Run) -> dict[str, int]:
    return {tag: s.points for tag, s in run.series.items()}


# ---------------------------------------------------------------------- TensorBoard
def test_tensorboard_folder_is_read_with_its_scalars(tmp_path):
    write_tensorboard(tmp_path / "a", range(100)).close()
    run = Run("a", EventFolderReader(tmp_path / "a"))
    assert run.poll() == 120
    assert tags_of(run) == {"train/loss": 100, "val/loss": 10, "val/acc": 10}
    snap = run.snapshot()
    loss = next(t for t in snap.tags if t.tag == "train/loss")
    assert loss.last_step == 99 and loss.last_value == pytest.approx(2.0 / 100, rel=1e-5)
    assert loss.best_value == pytest.approx(2.0 / 100, rel=1e-5) and loss.direction == "min"
    acc = next(t for t in snap.tags if t.tag == "val/acc")
    assert acc.best_value == pytest.approx(0.9) and acc.direction == "max"
    assert snap.problems == () and snap.format == "tensorboard"
    assert snap.steps_per_second is not None  # the events carry their wall times


def test_tensorboard_incremental_reads_have_no_duplicates(tmp_path):
    writer = write_tensorboard(tmp_path, range(50))
    run = Run("a", EventFolderReader(tmp_path))
    assert run.poll() == 60
    assert run.poll() == 0
    write_tensorboard(tmp_path, range(50, 80), writer=writer)
    assert run.poll() == 36
    writer.close()
    assert run.poll() == 0
    assert tags_of(run) == {"train/loss": 80, "val/loss": 8, "val/acc": 8}


def test_a_truncated_last_event_record_waits_for_the_writer(tmp_path):
    write_tensorboard(tmp_path / "full", range(30)).close()
    (source,) = (tmp_path / "full").iterdir()
    data = source.read_bytes()
    (tmp_path / "live").mkdir()
    target = tmp_path / "live" / source.name
    target.write_bytes(data[:-7])  # the last record cut inside its data
    run = Run("live", EventFolderReader(tmp_path / "live"))
    first = run.poll()
    assert 0 < first < 36
    assert run.reader.problem is None  # a record still being written is not garbage
    with open(target, "ab") as f:
        f.write(data[-7:])
    assert first + run.poll() == 36
    assert tags_of(run) == {"train/loss": 30, "val/loss": 3, "val/acc": 3}


def test_a_new_event_file_in_the_folder_joins_the_run(tmp_path):
    write_tensorboard(tmp_path, range(20)).close()
    run = Run("a", EventFolderReader(tmp_path))
    run.poll()
    write_tensorboard(tmp_path, range(20, 40)).close()  # named after the first (a per-process counter)
    assert len(list(tmp_path.iterdir())) == 2
    run.poll()
    assert tags_of(run)["train/loss"] == 40


def test_garbage_in_an_event_file_is_reported_and_other_runs_are_read(tmp_path):
    write_tensorboard(tmp_path / "good", range(10)).close()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "events.out.tfevents.123.host").write_bytes(os.urandom(500))
    snap = Watch(tmp_path).read_all()
    assert [r.name for r in snap.runs] == ["bad", "good"]
    good = snap.runs[1]
    assert good.points == 12
    (problem,) = snap.problems
    assert "events.out.tfevents.123.host" in problem and "expected a TensorBoard event record" in problem


def test_garbage_after_good_records_keeps_the_good_ones(tmp_path):
    write_tensorboard(tmp_path, range(10)).close()
    (event_file,) = tmp_path.iterdir()
    with open(event_file, "ab") as f:
        f.write(b"this is not a record at all")
    run = Run("a", EventFolderReader(tmp_path))
    assert run.poll() == 12
    assert "checksum does not match" in run.reader.problem and str(event_file) in run.reader.problem


def test_events_with_several_values_and_tensor_scalars(tmp_path):
    import struct

    from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2
    from torch.utils.tensorboard import SummaryWriter

    def value(tag: str, **fields) -> summary_pb2.Summary.Value:
        return summary_pb2.Summary.Value(tag=tag, **fields)

    matrix = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2)])
    summary = summary_pb2.Summary(
        value=[
            value("simple", simple_value=0.0),  # zero is a value too
            value("float", tensor=tensor_pb2.TensorProto(dtype=1, float_val=[1.5])),
            value("double", tensor=tensor_pb2.TensorProto(dtype=2, tensor_content=struct.pack("<d", 2.25))),
            value(
                "vector", tensor=tensor_pb2.TensorProto(dtype=1, float_val=[1.0, 2.0], tensor_shape=matrix)
            ),
            value("image", image=summary_pb2.Summary.Image(height=1, width=1)),
        ]
    )
    writer = SummaryWriter(str(tmp_path))
    writer._get_file_writer().add_summary(summary, 7, walltime=100.0)
    writer.close()
    points = EventFolderReader(tmp_path).read().points
    assert points == [("simple", 7, 0.0, 100.0), ("float", 7, 1.5, 100.0), ("double", 7, 2.25, 100.0)]


def test_fast_crc_equals_tensorboards_on_random_bytes():
    import random

    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as stub

    from dataloupe.core.runlogs import fast_crc

    rng = random.Random(12)
    blobs = [b"", b"\0", b"123456789", os.urandom(1 << 16)]
    blobs += [rng.randbytes(rng.randrange(1, 300)) for _ in range(300)]

    def reference(data: bytes) -> int:  # TensorBoard's byte-by-byte CRC32C, which is never patched
        return stub.crc_finalize(stub.crc_update(stub.CRC_INIT, data))

    fast = fast_crc.install()
    assert stub.masked_crc32c is fast and fast_crc.c_crc32c() is not None  # the C one, in the reader
    assert fast_crc.install() is fast  # patched once
    for data in blobs:
        assert stub.crc32c(data) == reference(data)
        assert fast(data) == fast_crc.mask(reference(data))
    # TensorBoard's own masking, from its source: the same numbers.
    x = reference(b"123456789")
    assert fast(b"123456789") == stub.u32(((x >> 15) | stub.u32(x << 17)) + 0xA282EAD8)
    # What only the pure-Python function accepted still works.
    assert fast(bytearray(b"abc")) == fast(b"abc") == fast([97, 98, 99])


def test_without_the_c_extension_tensorboards_crc_stays(monkeypatch):
    import sys
    import types

    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as stub

    from dataloupe.core.runlogs import fast_crc

    pure_python = types.SimpleNamespace(implementation="python", value=lambda data: 0)
    monkeypatch.setitem(sys.modules, "google_crc32c", pure_python)
    assert fast_crc.c_crc32c() is None
    monkeypatch.setitem(sys.modules, "google_crc32c", None)  # not installed
    assert fast_crc.c_crc32c() is None
    monkeypatch.setattr(fast_crc, "_installed", None)
    monkeypatch.setattr(stub, "masked_crc32c", stub.masked_crc32c)
    monkeypatch.setattr(stub, "crc32c", stub.crc32c)
    before = stub.masked_crc32c
    assert fast_crc.install() is before and stub.masked_crc32c is before


def test_a_corrupted_record_is_garbage_with_the_fast_crc(tmp_path):
    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as stub

    write_tensorboard(tmp_path, range(10)).close()
    (event_file,) = tmp_path.iterdir()
    data = bytearray(event_file.read_bytes())
    data[-6] ^= 0x01  # one bit of the last record's data (its value), lengths intact
    event_file.write_bytes(bytes(data))
    run = Run("a", EventFolderReader(tmp_path))
    assert run.poll() == 11  # the 12th point is the corrupted one
    assert stub.masked_crc32c.__module__ == "dataloupe.core.runlogs.fast_crc"
    assert "data checksum does not match" in run.reader.problem and str(event_file) in run.reader.problem


# ---------------------------------------------------------------------- CSV
def test_lightning_csv_with_empty_cells(tmp_path):
    path = write_lightning_csv(tmp_path / "metrics.csv", range(100))
    run = Run("csv", CsvReader(path))
    run.poll()
    assert tags_of(run) == {"train_loss": 100, "val_loss": 10, "val_acc": 10}
    assert run.last_step == 99 and run.reader.problem is None


def test_a_half_written_csv_row_is_held_back(tmp_path):
    path = write_lightning_csv(tmp_path / "metrics.csv", range(10))
    run = Run("csv", CsvReader(path))
    run.poll()
    with open(path, "a") as f:
        f.write("0,10,0.1")  # the writer is in the middle of this row
    assert run.poll() == 0
    with open(path, "a") as f:
        f.write("8,,\n")
    assert run.poll() == 1
    assert run.series["train_loss"].last_value == pytest.approx(0.18)


def test_csv_rotated_or_rewritten_gives_no_duplicates(tmp_path):
    path = write_lightning_csv(tmp_path / "metrics.csv", range(20))
    run = Run("csv", CsvReader(path))
    run.poll()
    # Lightning rewrites the whole file when a metric appears: same rows, a new column, new rows.
    rows = [r + "," for r in lightning_rows(range(30))] + ["0,30,0.05,,,0.001"]
    path.write_text(LIGHTNING_HEADER + ",lr\n" + "\n".join(rows) + "\n")
    run.poll()
    assert tags_of(run) == {"train_loss": 31, "val_loss": 3, "val_acc": 3, "lr": 1}
    # logrotate: the file moves away and a new one starts
    path.rename(tmp_path / "metrics.csv.1")
    write_lightning_csv(path, range(31, 40))
    run.poll()
    assert tags_of(run)["train_loss"] == 40 and run.reader._tail.restarts == 2


def test_csv_without_a_step_column_names_the_file(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss\n0,1.0\n")
    run = Run("csv", CsvReader(path))
    run.poll()
    assert run.points == 0
    assert str(path) in run.reader.problem and "'step' column" in run.reader.problem


def test_empty_files_say_what_was_expected(tmp_path):
    (tmp_path / "metrics.csv").write_text("")
    (tmp_path / "run.jsonl").write_text("")
    snap = Watch(tmp_path).read_all()
    assert len(snap.runs) == 2
    csv_problem, jsonl_problem = sorted(snap.problems)
    assert "metrics.csv: is empty" in csv_problem and "step" in csv_problem
    assert "run.jsonl: is empty" in jsonl_problem and "JSON object per line" in jsonl_problem


# ---------------------------------------------------------------------- JSON Lines
def test_jsonl_line_that_is_not_an_object_is_skipped_with_a_message(tmp_path):
    path = tmp_path / "run.jsonl"
    lines = jsonl_lines(range(5))
    path.write_text("\n".join([*lines[:2], "[1, 2, 3]", "not json", *lines[2:]]) + "\n")
    run = Run("j", JsonlReader(path))
    run.poll()
    assert tags_of(run) == {"loss": 5, "accuracy": 5}
    problem = run.reader.problem
    assert str(path) in problem and "line 4 is not JSON" in problem and "2 bad lines" in problem


def test_jsonl_half_written_line_and_growth(tmp_path):
    path = tmp_path / "run.jsonl"
    lines = jsonl_lines(range(10))
    path.write_text("\n".join(lines[:5]) + "\n" + lines[5][:12])
    run = Run("j", JsonlReader(path))
    assert run.poll() == 10
    with open(path, "a") as f:
        f.write(lines[5][12:] + "\n")
    assert run.poll() == 2
    append_lines(path, lines[6:])
    assert run.poll() == 8 and run.reader.problem is None


def test_steps_per_second_and_eta_from_times_in_the_log(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"total_steps": 300}) + "\n" + "\n".join(jsonl_lines(range(101))) + "\n")
    run = Run("j", JsonlReader(path))
    run.poll()
    snap = run.snapshot(now=1_700_000_010.0)
    assert snap.steps_per_second == pytest.approx(10.0)
    assert snap.total_steps == 300 and snap.eta == pytest.approx(20.0)
    assert snap.seconds_since_last == pytest.approx(0.0) and not snap.stalled


def test_jsonl_log_writes_what_the_reader_reads(tmp_path):
    path = tmp_path / "train.jsonl"
    with JsonlLog(path, total_steps=3) as log:
        for step in range(1, 4):
            log.log(step, loss=1.0 / step, test_accuracy=step / 4)
    run = Run("t", JsonlReader(path))
    run.poll()
    assert tags_of(run) == {"loss": 3, "test_accuracy": 3}
    assert run.snapshot().finished


# ---------------------------------------------------------------------- trainer_state.json
def test_trainer_state_with_max_steps_and_rewrites(tmp_path):
    write_trainer_state(tmp_path / "out" / "checkpoint-100" / "trainer_state.json", range(101))
    watch = Watch(tmp_path / "out")
    snap = watch.read_all()
    (run,) = snap.runs
    assert run.name == "out" and run.format == "trainer_state" and run.total_steps == 500
    assert {t.tag: t.points for t in run.tags} == {"loss": 10, "learning_rate": 10, "eval_loss": 2}
    # the next checkpoint holds the whole history again; the run follows it without duplicates
    write_trainer_state(tmp_path / "out" / "checkpoint-200" / "trainer_state.json", range(201))
    os.utime(tmp_path / "out" / "checkpoint-100" / "trainer_state.json", (1, 1))
    watch.rescan()
    (run,) = watch.poll().runs
    assert {t.tag: t.points for t in run.tags} == {"loss": 20, "learning_rate": 20, "eval_loss": 4}
    assert run.path.endswith("checkpoint-200/trainer_state.json")


def test_trainer_state_half_written_is_retried_quietly(tmp_path):
    path = tmp_path / "trainer_state.json"
    write_trainer_state(path, range(101))
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    reader = TrainerStateReader(path)
    assert reader.read().points == [] and reader.problem is None  # just written: wait
    old = time.time() - 60
    os.utime(path, (old, old))
    reader.read()
    assert "is not valid JSON" in reader.problem and str(path) in reader.problem
    path.write_text(text)
    assert len(reader.read().points) == 22 and reader.problem is None


# ---------------------------------------------------------------------- NaN, stalled, series
def test_nan_step_and_stalled(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n1,0.5\n2,nan\n3,inf\n")
    old = time.time() - 3600
    os.utime(path, (old, old))
    snap = Watch(path, stall_after=600).read_all()
    (run,) = snap.runs
    assert run.first_bad == ("loss", 2) and run.stalled
    assert not run.healthy and not snap.healthy
    (tag,) = run.tags
    assert math.isnan(tag.last_value) is False and math.isinf(tag.last_value) and tag.best_value == 0.5


def test_series_stays_bounded_and_smooths():
    series = TagSeries("loss", limit=100)
    for step in range(100_000):
        series.add(step, 1.0 + (step % 2))
    steps, raw, smooth = series.columns()
    assert len(steps) <= 101 and steps[-1] == 99_999
    assert set(raw) == {1.0, 2.0} and 1.3 < smooth[-1] < 1.7
    assert series.add(5, 0.0) is False  # a step already passed is a duplicate


def test_paired_tags_share_a_chart():
    assert chart_key("train/acc") == ("acc", "train") and chart_key("val/acc") == ("acc", "val")
    assert chart_key("train_loss") == ("loss", "train") and chart_key("val_loss") == ("loss", "val")
    assert chart_key("loss/train")[0] == chart_key("loss/validation")[0] == "loss"
    assert chart_key("learning_rate") == ("learning_rate", "")
    groups = group_tags(["val/acc", "train/acc", "lr"])
    assert groups == {"acc": ["train/acc", "val/acc"], "lr": ["lr"]}


# ---------------------------------------------------------------------- finding runs
def test_a_folder_of_runs_and_paths_without_logs(tmp_path):
    write_tensorboard(tmp_path / "runs" / "exp1", range(5)).close()
    write_lightning_csv(tmp_path / "runs" / "lightning_logs" / "version_0" / "metrics.csv", range(5))
    append_lines(tmp_path / "runs" / "mine.jsonl", jsonl_lines(range(5)))
    (tmp_path / "runs" / "notes.txt").write_text("hello")
    sources, problems = find_sources(tmp_path / "runs")
    assert problems == []
    assert [(s.name, s.kind) for s in sources] == [
        ("exp1", "tensorboard"),
        (str(Path("lightning_logs/version_0")), "csv"),
        ("mine.jsonl", "jsonl"),
    ]
    (tmp_path / "empty").mkdir()
    assert "no logs found" in find_sources(tmp_path / "empty")[1][0]
    assert "does not exist" in find_sources(tmp_path / "missing")[1][0]
    assert "not a log dataloupe reads" in find_sources(tmp_path / "runs" / "notes.txt")[1][0]


def test_a_run_removed_while_watched_keeps_its_points(tmp_path):
    path = write_lightning_csv(tmp_path / "a" / "metrics.csv", range(10))
    watch = Watch(tmp_path, rescan_every=0)
    assert watch.poll().runs[0].points == 12
    shutil.rmtree(tmp_path / "a")
    snap = watch.poll()
    assert snap.runs[0].points == 12 and str(path) in snap.runs[0].problems[0]


def test_runlogs_imports_neither_torch_nor_tensorboard():
    import subprocess
    import sys

    code = "import sys, dataloupe.core.runlogs\nprint('torch' in sys.modules, 'tensorboard' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
