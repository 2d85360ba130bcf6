"""Nothing trained is lost: a dropped connection (SIGHUP), a full disk under the checkpoint, the log
or stdout, running out of memory, and paths that are devices or FIFOs.

A full disk is made in the test: ``torch.save`` raising as it does on ENOSPC (a RuntimeError from its
zip writer, not an OSError) and the folder reporting no free space, or ``/dev/full``, which fails
every write with ENOSPC. ``tests/bench/bench_faults.py`` repeats each case on a real full filesystem.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dataloupe.core import memory
from dataloupe.core.errors import CheckpointError
from dataloupe.core.training import safe_save

from support.inprocess import run_main

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
"""One torch thread: the test machines are shared."""


def dataloupe_process(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", *args],
        stdout=kw.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        **kw,
    )


def wait_for_file_text(path: Path, text: str, process: subprocess.Popen, timeout: float = 90) -> None:
    """Poll ``path`` until it holds ``text`` (the process is still running), or fail."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert process.poll() is None, process.communicate(timeout=10)
        assert time.monotonic() < deadline, f"{text!r} never reached {path}"
        time.sleep(0.05)


# ---------------------------------------------------------------------- the connection drops
def test_sighup_stops_a_run_like_sigterm_and_keeps_the_model_beside_the_target(tmp_path):
    from dataloupe.core.training.checkpoint import load_checkpoint

    target, log = tmp_path / "digits.pt", tmp_path / "run.jsonl"
    process = dataloupe_process(
        *("train", "digits", "--epochs", "100000", "--batch-size", "1", "--device", "cpu"),
        *("--save", str(target), "--save-on-stop", "--log", str(log)),
    )
    wait_for_file_text(log, '"loss"', process)  # the run has taken its first steps
    process.send_signal(signal.SIGHUP)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGHUP, err
    assert "Stopped by request" in out and "Traceback" not in err
    interrupted = tmp_path / "digits.interrupted.pt"
    assert f"saved what it learned to {interrupted}" in out
    assert load_checkpoint(interrupted).metrics["state"] == "stopped"
    assert not target.exists()  # the target is never written by a stopped run


# ---------------------------------------------------------------------- the disk fills
@pytest.fixture
def full_folder(tmp_path, monkeypatch):
    """A folder whose disk is full as torch.save finds it: the zip writer raises RuntimeError after a few
    bytes, and the folder's filesystem has no space left. Other folders are untouched."""
    full = tmp_path / "full"
    full.mkdir()
    real_save, real_free = torch.save, safe_save.free_space

    def save(obj, f, *a, **kw):
        if (
            Path(os.readlink(f"/proc/self/fd/{f.fileno()}")).parent == full
        ):  # the file is opened by descriptor
            f.write(b"PK\x03\x04" + bytes(4096))
            raise RuntimeError("[enforce fail at inline_container.cc:778] . unexpected pos 19584 vs 19536")
        return real_save(obj, f, *a, **kw)

    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(safe_save, "free_space", lambda folder: 0 if folder == full else real_free(folder))
    return full


def test_a_full_disk_at_the_save_says_so_prints_the_summary_and_rescues_the_model(tmp_path, full_folder):
    from dataloupe.core.training.checkpoint import load_checkpoint

    target = full_folder / "m.pt"
    done = run_main("train", "digits", "--epochs", "1", "--save", str(target), env=ENV, cwd=tmp_path)
    rescued = tmp_path / "m.rescued.pt"
    assert done.returncode == 2
    assert any(line.startswith("finished 1 epoch") for line in done.stdout.splitlines())  # the summary
    assert f"the disk holding {full_folder} is full (0 B free)" in done.stdout
    assert f"The model was saved to {rescued} instead." in done.stdout
    assert "RuntimeError" not in done.stderr and "bug" not in done.stderr
    assert load_checkpoint(rescued).dataset == "digits"
    assert os.listdir(full_folder) == []  # no partial file left behind


def test_a_failed_write_is_a_checkpoint_error_whatever_it_raised(tmp_path, full_folder, digits):
    """What the app's save shows: the disk is full, and where (not "RuntimeError: [enforce fail…]")."""
    from dataloupe.core.training.checkpoint import save_checkpoint
    from dataloupe.core.training.models import ModelSpec
    from dataloupe.core.training.trained import TrainedModel

    spec = ModelSpec("mlp", (8,), (1, 8, 8), 10)
    trained = TrainedModel(spec, spec.build().state_dict(), tuple(digits.classes), digits.pipeline)
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(full_folder / "m.pt", trained)
    assert str(info.value).startswith(
        f"cannot save to {full_folder / 'm.pt'}: the disk holding {full_folder} is full"
    )

    def broken(f):
        raise ValueError("a writer's own fault")

    with pytest.raises(CheckpointError, match="the write failed \\(ValueError: a writer's own fault\\)"):
        safe_save.atomic_write(tmp_path / "x.pt", broken)  # plenty of space: not called a full disk
    assert not list(tmp_path.glob(".x.pt*"))


def test_a_log_and_stdout_on_a_full_disk_stop_their_writing_never_the_run_or_the_save(tmp_path):
    """``--log`` on a full disk and ``> full/log``: /dev/full fails every write with ENOSPC."""
    from dataloupe.core.training.checkpoint import load_checkpoint

    target = tmp_path / "m.pt"
    with open("/dev/full", "w") as full:
        process = dataloupe_process(
            *("train", "digits", "--epochs", "3", "--device", "cpu", "--eval-every", "5"),
            *("--save", str(target), "--log", "/dev/full"),
            stdout=full,
        )
        _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert err.count("--log /dev/full: cannot be written (No space left on device); logging stops") == 1
    assert err.count("cannot write the output (No space left on device); printing stops") == 1
    assert "bug" not in err and "Traceback" not in err
    assert load_checkpoint(target).metrics["state"] == "finished"  # trained to the end and saved


def test_a_reader_that_leaves_stops_a_run_that_keeps_nothing(tmp_path):
    """``train | head`` without --save or --log: nothing would be kept, so the run stops, quietly, 0."""
    process = dataloupe_process("train", "digits", "--epochs", "100000", "--device", "cpu")
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and err == ""


# ---------------------------------------------------------------------- memory runs out
CPU_ALLOCATOR = (
    "[enforce fail at alloc_cpu.cpp:114] . DefaultCPUAllocator: can't allocate memory: you tried to "
    "allocate 1073741824 bytes. Error code 12 (Cannot allocate memory)"
)
NUMPY = "Unable to allocate 7.45 GiB for an array with shape (1000000000,) and data type float64"


def test_out_of_memory_is_recognised_on_the_cpu_and_the_gpu_with_the_amount_asked():
    cases = {
        RuntimeError(CPU_ALLOCATOR): 1073741824,
        MemoryError(NUMPY): int(7.45 * 2**30),
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"): 2 * 2**30,
        MemoryError(): None,
    }
    for error, asked in cases.items():
        assert memory.is_out_of_memory(error), error
        assert memory.requested_bytes(error) == asked
    assert not memory.is_out_of_memory(RuntimeError("shape mismatch"))
    assert memory.out_of_memory_message(RuntimeError(CPU_ALLOCATOR)).startswith(
        "out of memory (it asked for 1.1 GB more). Try smaller hidden layers (--hidden), a smaller batch "
        "size (--batch-size), fewer samples (--limit"
    )


def test_out_of_memory_building_the_model_is_a_message_with_the_amount(digits, monkeypatch):
    from dataloupe.core.errors import SettingsError
    from dataloupe.core.settings import TrainConfig
    from dataloupe.core.training.models import ModelSpec
    from dataloupe.core.training.run import TrainingRun

    def build(self):
        raise RuntimeError(CPU_ALLOCATOR)

    monkeypatch.setattr(ModelSpec, "build", build)
    run = TrainingRun(digits, TrainConfig(epochs=1, device="cpu", hidden=(16384, 16384)))
    with pytest.raises(SettingsError) as info:
        run.prepare()
    message = str(info.value)
    assert (
        "the machine ran out of memory while preparing the run" in message and "asked for 1.1 GB" in message
    )
    assert "--hidden" in message and "--batch-size" in message and run.model is None


def test_numpy_running_out_while_reading_is_a_message_not_a_bug(monkeypatch):
    import dataloupe.core.readers as readers

    def open_dataset(spec, **kw):
        raise MemoryError(NUMPY)

    monkeypatch.setattr(readers, "open_dataset", open_dataset)
    done = run_main("check", "digits")
    assert done.returncode == 2
    assert done.stderr.startswith("dataloupe: out of memory (it asked for 8.0 GB more). Try smaller hidden")
    assert "bug" not in done.stderr


# ---------------------------------------------------------------------- files that are not files
def test_a_save_never_replaces_a_device_even_through_a_link_or_with_overwrite(tmp_path, capsys):
    mynull = tmp_path / "mynull"
    mynull.symlink_to(os.devnull)
    for target in (mynull, Path(os.devnull)):
        done = run_main("train", "digits", "--epochs", "1", "--save", str(target), "--overwrite")
        assert done.returncode == 2
        assert f"cannot save to {target}: it is a character device" in done.stderr
        assert "epoch" not in done.stdout  # refused before training
    assert mynull.is_symlink() and Path(os.devnull).is_char_device()
    with pytest.raises(CheckpointError, match="it is a FIFO"):
        fifo = tmp_path / "f.pt"
        os.mkfifo(fifo)
        safe_save.atomic_write(fifo, lambda f: f.write(b"x"))
    assert Path(fifo).is_fifo()


def test_a_write_error_that_is_enospc_is_a_full_disk_even_with_space_reported(tmp_path):
    def enospc(f):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(CheckpointError, match="is full"):
        safe_save.atomic_write(tmp_path / "m.pt", enospc)
    assert json.dumps(os.listdir(tmp_path)) == "[]"


def test_the_app_says_out_of_memory_with_the_amount_not_the_exception():
    from types import SimpleNamespace

    from dataloupe.tui.workers import run_job

    posted: list[tuple[str, bool]] = []
    owner = SimpleNamespace(post_message=posted.append, log=SimpleNamespace(error=lambda *a: None))

    def job(cancel):
        raise MemoryError(NUMPY)

    run_job(owner, job, lambda text, error: (text, error), what="Opening mnist")
    assert posted == [
        (
            "Opening mnist failed: out of memory (it asked for 8.0 GB more). Try smaller hidden layers (--hidden), "
            "a smaller batch size (--batch-size), fewer samples (--limit, for your own Dataset), or the "
            "DataLoader path.",
            True,
        )
    ]


async def test_the_app_says_the_disk_is_full_and_where_when_a_save_fails(tmp_path, full_folder):

    from dataloupe.tui.app import AppOptions, build_app

    from support.pilot import open_training, wait_for

    app = build_app(AppOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_training(app, pilot, epochs="1", checkpoint=str(full_folder / "m.pt"))
        await pilot.press("r")
        await wait_for(pilot, lambda: pane.current is not None and not pane.running, timeout=60)
        await pilot.press("s")
        said = lambda: [n.message for n in app._notifications if "cannot save" in n.message]  # noqa: E731
        await wait_for(pilot, lambda: bool(said()), timeout=30)
    assert said()[0].startswith(
        f"cannot save to {full_folder / 'm.pt'}: the disk holding {full_folder} is full"
    )
    assert "RuntimeError" not in said()[0]


def test_out_of_memory_in_a_training_step_on_the_cpu_names_the_machine_and_the_amount(digits, monkeypatch):
    import torch.nn.functional as F  # noqa: N812 - torch's own name for it

    from dataloupe.core.settings import TrainConfig
    from dataloupe.core.training.run import TrainingRun

    real, calls = F.cross_entropy, []

    def cross_entropy(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError(CPU_ALLOCATOR)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "cross_entropy", cross_entropy)
    final = TrainingRun(digits, TrainConfig(epochs=1, device="cpu", batch_size=32)).run()
    assert final.state == "failed"
    assert final.message.startswith(
        "The machine ran out of memory at step 2 (batch size 32; it asked for 1.1 GB"
    )
    assert "--batch-size" in final.message and "GPU" not in final.message
