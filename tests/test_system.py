"""The box beside a run (dataloupe.core.system): GPUs through a faked NVML and through none at all,
the writer process of a run found by its open file or its folder, and the ``--json`` additions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dataloupe.core.system import NO_GPU, Gpus, SystemSampler, WriterFinder, describe_writer, stall_reason
from dataloupe.core.system.gpus import cuda_mapping
from dataloupe.core.system.processes import proc_table, psutil_table
from dataloupe.tui.cli import main

from support.fake_nvml import GIB, FakeNvml
from support.writer_process import end, start_writer


@pytest.fixture
def nvml(monkeypatch):
    """Install a fake ``pynvml`` with the GPUs asked for; returns the fake."""

    def install(gpus: int = 8, **kw) -> FakeNvml:
        fake = FakeNvml(gpus, **kw)
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        return fake

    return install


# ---------------------------------------------------------------------- GPUs
def test_no_driver_and_no_binding_say_no_gpu(monkeypatch, nvml):
    # this machine's real binding, without a driver: NVML's library is not found
    gpus = Gpus()
    assert gpus.sample() == () and gpus.note == NO_GPU and gpus.process_memory() == {}
    nvml(driver=False)
    gpus = Gpus()
    assert gpus.sample() == () and gpus.note == NO_GPU
    monkeypatch.setitem(sys.modules, "pynvml", None)  # nvidia-ml-py not installed at all
    system = SystemSampler(gpus=Gpus()).sample_once()
    assert system.gpus == () and system.gpu_note == NO_GPU
    assert 0 <= system.cpu_percent <= 100 and 0 < system.memory_used < system.memory_total


def test_eight_gpus_in_nvidia_smi_order_with_a_mig_one(nvml):
    nvml(8, mig=(5,))
    samples = Gpus().sample()
    assert [g.index for g in samples] == list(range(8))
    g3 = samples[3]
    assert (g3.utilization, g3.memory_used, g3.memory_total, g3.temperature, g3.power, g3.state) == (
        93.0,
        34 * GIB,
        80 * GIB,
        63.0,
        330.0,
        "ok",
    )
    assert samples[5].state == "mig" and samples[5].utilization is None and samples[5].memory_used == 50 * GIB
    assert all(g.cuda_index is None for g in samples)  # CUDA_VISIBLE_DEVICES unset


def test_a_gpu_that_stops_answering_is_marked_lost_and_asked_again_later(nvml):
    fake = nvml(4)
    gpus = Gpus(retry_lost=3600)
    gpus.open()
    calls = fake.calls
    assert [g.state for g in gpus.sample()] == ["ok"] * 4
    all_four = fake.calls - calls
    fake.lost.add(2)
    assert [g.state for g in gpus.sample()] == ["ok", "ok", "lost", "ok"]
    calls = fake.calls
    again = gpus.sample()
    assert again[2].state == "lost" and again[2].memory_used is None and again[3].utilization == 93.0
    assert fake.calls - calls == all_four * 3 // 4  # a lost GPU is not asked again before it is due
    gpus.retry_lost = 0  # due now: asked again, and back once it answers
    fake.lost.clear()
    assert [g.state for g in gpus.sample()] == ["ok"] * 4


def test_cuda_visible_devices_maps_cuda_numbers_to_nvidia_smi_numbers(nvml, monkeypatch):
    uuids = [f"GPU-{i:08x}-aaaa" for i in range(4)]
    assert cuda_mapping("2,3", uuids) == {2: 0, 3: 1}
    assert cuda_mapping("GPU-00000003,0", uuids) == {3: 0, 0: 1}  # a UUID prefix is enough
    assert cuda_mapping("1,9,2", uuids) == {1: 0}  # CUDA stops at the first entry that names no GPU
    assert cuda_mapping("", uuids) == {} and cuda_mapping(None, uuids) == {}
    nvml(4)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    system = SystemSampler().sample()
    assert {g.index: g.cuda_index for g in system.gpus} == {0: None, 1: 1, 2: None, 3: 0}
    assert system.cuda_visible == "3,1"


def test_gpu_memory_per_process_adds_up_over_gpus(nvml):
    nvml(2, processes={0: [(101, 3 * GIB), (102, GIB)], 1: [(101, 2 * GIB)]})
    assert Gpus().process_memory() == {101: 5 * GIB, 102: GIB}


# ---------------------------------------------------------------------- writers
@pytest.mark.parametrize("table", [proc_table, psutil_table], ids=["proc", "psutil"])
def test_the_writer_is_found_by_its_open_log_and_reported_gone_once_killed(tmp_path, table):
    log = tmp_path / "run.jsonl"
    writer = start_writer(log)
    finder = WriterFinder(table=table)
    finder.follow({"run": str(log), "other": str(tmp_path / "nobody.jsonl")})
    try:
        found = finder.poll()
        w = found["run"]
        assert w.pid == writer.pid and w.found_by == "log open for writing" and not w.exited
        assert w.state in ("running", "sleeping") and w.rss > 1_000_000
        assert w.command.startswith("python") and w.command.endswith(" -c import… run.jsonl 1 0")
        assert found["other"] is None
        assert finder.poll()["run"].cpu_percent is not None  # measured from the second poll on
    finally:
        end(writer)
    gone = finder.poll()["run"]
    assert gone.exited and gone.pid == writer.pid and gone.cpu_percent is None
    assert describe_writer(gone).endswith("· writer exited")
    assert stall_reason(gone) == f"writer {writer.pid} exited: crashed or killed?"


def test_a_run_written_in_bursts_is_matched_by_its_folder(tmp_path):
    run = tmp_path / "version_0"
    run.mkdir()
    writer = start_writer(run / "metrics.jsonl", keep_open=False, cwd=run)
    try:
        finder = WriterFinder()
        # a run in the folder above is not the writer's: working below a folder of runs says nothing
        finder.follow({"v0": str(run / "metrics.jsonl"), "beside": str(tmp_path / "beside.jsonl")})
        found = finder.poll()
        assert found["v0"].pid == writer.pid and found["v0"].found_by == "run folder"
        assert found["beside"] is None
    finally:
        end(writer)


def test_a_tensorboard_run_is_matched_by_the_pid_its_event_file_names(tmp_path):
    import socket
    import time

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    writer = start_writer(elsewhere / "x.jsonl", keep_open=False)  # holds nothing in the run's folder
    run, old = tmp_path / "runs" / "exp1", tmp_path / "runs" / "exp0"
    run.mkdir(parents=True)
    old.mkdir()
    host = socket.gethostname()
    (run / f"events.out.tfevents.{int(time.time()) + 5}.{host}.{writer.pid}.0").write_bytes(b"")
    (run / f"events.out.tfevents.1000.{host}.1.0").write_bytes(b"")  # an older file of the same run
    # a file from long before the process started: its pid has been given to another process since
    (old / f"events.out.tfevents.1000.{host}.{writer.pid}.0").write_bytes(b"")
    finder = WriterFinder()
    finder.follow({"exp1": str(run), "exp0": str(old)})
    try:
        found = finder.poll()
        assert found["exp1"].pid == writer.pid and found["exp1"].found_by == "event file names its pid"
        assert found["exp0"] is None
    finally:
        end(writer)
    assert finder.poll()["exp1"].exited


def test_a_dataloader_worker_child_is_not_taken_for_the_writer_nor_is_a_reader(tmp_path):
    log = tmp_path / "run.jsonl"
    log.write_text("")
    reader = subprocess.Popen(["tail", "-f", str(log)], stdout=subprocess.DEVNULL)
    finder = WriterFinder(rescan_every=0)
    finder.follow({"run": str(log)})
    try:
        assert finder.poll()["run"] is None  # tail only reads it
        writer = start_writer(log, fork=True)  # parent and child both hold the log open for writing
        try:
            found = finder.poll()["run"]
            assert writer.child and found.pid == writer.pid != writer.child
        finally:
            end(writer)
    finally:
        reader.kill()
        reader.wait()


def test_readers_are_told_from_writers_by_their_command():
    from dataloupe.core.system.processes import ProcessInfo
    from dataloupe.core.system.writers import _reads_only

    def process(*cmdline: str) -> ProcessInfo:
        return ProcessInfo(1, 0, cmdline[0].rsplit("/", 1)[-1][:15], cmdline, "/", ())

    assert _reads_only(process("/usr/bin/tail", "-f", "run.jsonl"))
    assert _reads_only(process("/venv/bin/python3", "/venv/bin/tensorboard", "--logdir", "runs"))
    assert _reads_only(process("/venv/bin/python3", "/venv/bin/dataloupe", "watch", "runs"))
    assert _reads_only(process("/venv/bin/python3", "-m", "dataloupe.tui", "watch", "runs"))
    assert not _reads_only(
        process("/venv/bin/python3", "/venv/bin/dataloupe", "train", "digits", "--log", "r.jsonl")
    )
    assert not _reads_only(process("/venv/bin/python3", "train.py", "--logdir", "runs"))


def test_gpu_memory_of_the_writer_comes_from_nvmls_process_list(tmp_path, nvml):
    log = tmp_path / "run.jsonl"
    writer = start_writer(log)
    try:
        nvml(2, processes={1: [(writer.pid, 3 * GIB), (999_999, GIB)]})
        sampler = SystemSampler()
        sampler.follow({"run": str(log)})
        w = sampler.sample_once().writers["run"]
        assert w.pid == writer.pid and w.gpu_memory == 3 * GIB
        assert "3.2 GB on GPU" in describe_writer(w)
    finally:
        end(writer)


def test_stall_reasons_tell_stuck_from_idle_from_gone():
    from dataloupe.core.system import WriterProcess

    busy = WriterProcess(7, "python train.py", "running", 98.0, 10**9, 2 * 10**9, "log open for writing")
    assert (
        stall_reason(busy)
        == "writer 7 alive and busy (98% CPU, 2.0 GB on GPU): stuck in a data loader or a loop?"
    )
    idle = WriterProcess(7, "python train.py", "sleeping", 0.0, 10**9, None, "run folder")
    assert stall_reason(idle) == "writer 7 alive but idle (0% CPU): waiting on something, or deadlocked?"
    assert stall_reason(None) == "no writer process found"
    assert describe_writer(busy) == "pid 7 python train.py · 98% CPU · 1.0 GB · 2.0 GB on GPU · running"


# ---------------------------------------------------------------------- headless
def test_once_json_has_the_system_and_each_runs_writer(tmp_path, capsys, nvml):
    (tmp_path / "old.jsonl").write_text('{"step": 1, "loss": 0.5}\n')  # no writer: finished
    log = tmp_path / "live.jsonl"
    writer = start_writer(log)
    try:
        assert main(["watch", str(tmp_path), "--once", "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
        system = record["system"]
        assert system["gpus"] == [] and system["gpu_note"] == "no GPU"
        assert 0 <= system["cpu_percent"] <= 100 and 0 < system["memory_used"] < system["memory_total"]
        runs = {r["name"]: r for r in record["runs"]}
        assert runs["old.jsonl"]["process"] is None
        process = runs["live.jsonl"]["process"]
        assert process["pid"] == writer.pid and process["rss"] > 0 and process["cpu_percent"] is not None
        assert "gpu_memory" not in process  # no GPU, no GPU figure
        nvml(2, processes={0: [(writer.pid, GIB)]})
        assert main(["watch", str(log), "--once", "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert [g["index"] for g in record["system"]["gpus"]] == [0, 1]
        assert record["system"]["gpus"][1]["memory_used"] == 18 * GIB
        assert record["runs"][0]["process"]["gpu_memory"] == GIB
    finally:
        end(writer)


# ---------------------------------------------------------------------- waiting for data
def test_each_steps_time_is_split_into_waiting_for_data_and_computing():
    from dataloupe.core.training.data_wait import MIN_STEPS, DataWait, data_wait_warning

    now = [0.0]
    timer = DataWait(window=50, clock=lambda: now[0])

    def loader(n, seconds):
        for i in range(n):
            now[0] += seconds  # the loader's own time
            yield i

    for _ in timer.timed(loader(MIN_STEPS - 1, 0.062)):
        now[0] += 0.038  # the step
        timer.stepped()
    assert timer.share() is None  # too few steps to say
    for _ in timer.timed(loader(31, 0.062)):
        now[0] += 0.038
        timer.stepped()
    assert timer.share() == pytest.approx(0.62)
    assert data_wait_warning(timer.share(), "cuda:0") == (
        "the GPU waits for data 62% of the time: raise num_workers or hold the data on the device"
    )
    for _ in timer.timed(loader(50, 0.01)):  # a faster loader: the window of 50 forgets the slow one
        now[0] += 0.04
        timer.stepped()
    assert timer.share() == pytest.approx(0.2) and data_wait_warning(timer.share(), "cuda:0") is None
    assert data_wait_warning(0.7, "cpu").startswith("training waits for data 70% of the time")
