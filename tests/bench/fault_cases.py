"""The cases of ``bench_faults.py``: each runs the installed program once, as a user on a remote box
would meet the fault, and returns what happened in a few words and whether it was what is expected.

Every wait has a deadline: a case that hangs is killed and reported as hanging, never waited on.
"""

from __future__ import annotations

import os
import pty
import resource
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATALOUPE = Path(sys.executable).parent / "dataloupe"
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
LONG_RUN = ["train", "digits", "--epochs", "100000", "--batch-size", "1", "--device", "cpu"]
"""A run that lasts until it is stopped."""


@dataclass(frozen=True)
class Case:
    """One fault: its name, what should happen, and the check that runs it."""

    name: str
    expected: str
    run: Callable[[Path], tuple[bool, str]]


def dataloupe(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, **kw
) -> tuple[int | None, str, str]:
    """(exit code or None when it had to be killed, stdout, stderr) of ``dataloupe ARGS``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", *args],
        stdout=kw.pop("stdout", subprocess.PIPE),
        stderr=kw.pop("stderr", subprocess.PIPE),
        stdin=kw.pop("stdin", subprocess.DEVNULL),
        text=True,
        env=env or ENV,
        **kw,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None, "", f"still running after {timeout:.0f} s"
    return process.returncode, out or "", err or ""


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def loads(path: Path) -> bool:
    rc, _, _ = dataloupe("eval", str(path), "digits", "--device", "cpu", timeout=60)
    return rc == 0


def brief(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- the connection drops
def sighup_train(tmp: Path) -> tuple[bool, str]:
    target, log = tmp / "m.pt", tmp / "run.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dataloupe.tui",
            *LONG_RUN,
            "--save",
            str(target),
            "--save-on-stop",
            "--log",
            str(log),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    if not wait_for(lambda: log.exists() and "test_accuracy" in log.read_text(), 90):
        process.kill()
        return False, "never evaluated"
    process.send_signal(signal.SIGHUP)
    out, _ = process.communicate(timeout=60)
    kept = tmp / "m.interrupted.pt"
    ok = process.returncode == 129 and "Stopped by request" in out and loads(kept) and not target.exists()
    return (
        ok,
        f"exit {process.returncode}, summary {'printed' if 'stopped at step' in out else 'MISSING'}, "
        + (f"{kept.name} loads" if kept.exists() else "no model kept"),
    )


def tmux_killed(tmp: Path) -> tuple[bool, str]:
    if shutil.which("tmux") is None:
        return False, "tmux is not installed"
    socket = f"dl-faults-{os.getpid()}"
    target, log = tmp / "m.pt", tmp / "log"
    line = " ".join(
        shlex.quote(a) for a in [str(DATALOUPE), *LONG_RUN, "--save", str(target), "--save-on-stop"]
    )
    env = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in ENV.items() if k in ("PYTHONPATH", "OMP_NUM_THREADS", "PATH")
    )
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "100", "-y", "20", f"env {env} {line} | tee {log}"], check=True
    )
    try:
        if not wait_for(lambda: log.exists() and "epoch " in log.read_text(), 90):
            return False, "never trained"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    kept = tmp / "m.interrupted.pt"
    ok = wait_for(kept.exists, 60) and wait_for(lambda: not list(tmp.glob(".*.tmp")), 30) and loads(kept)
    ok = ok and not target.exists()
    return (
        ok,
        f"{kept.name} {'loads' if ok else 'MISSING'}; target {'untouched' if not target.exists() else 'WRITTEN'}",
    )


# ---------------------------------------------------------------------- the disk fills
def small_filesystem(folder: Path, command: list[str]) -> list[str]:
    """``command`` run with a 2 MB tmpfs mounted on ``folder``: directly as root, else in a user namespace."""
    mount = f"mount -t tmpfs -o size=2m tmpfs {shlex.quote(str(folder))} && exec " + " ".join(
        shlex.quote(c) for c in command
    )
    if os.geteuid() == 0:
        return ["unshare", "--mount", "sh", "-c", mount]
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount]


def full_disk_save(tmp: Path) -> tuple[bool, str]:
    full = tmp / "full"
    full.mkdir()
    # a model of 4.7 MB into 2 MB: the folder check passes, the save's write fails part-way
    command = [
        sys.executable,
        "-m",
        "dataloupe.tui",
        "train",
        "digits",
        "--epochs",
        "1",
        "--hidden",
        "2048,512",
    ]
    command += ["--device", "cpu", "--save", str(full / "m.pt")]
    process = subprocess.run(
        small_filesystem(full, command), capture_output=True, text=True, env=ENV, cwd=tmp, timeout=180
    )
    rescued = tmp / "m.rescued.pt"
    said_full = f"the disk holding {full} is full" in process.stdout
    ok = process.returncode == 2 and said_full and "finished 1 epoch" in process.stdout and loads(rescued)
    return (
        ok,
        f"exit {process.returncode}, {'says the disk is full' if said_full else brief(process.stderr)}, "
        + (f"rescued to {rescued.name}" if rescued.exists() else "NOT rescued"),
    )


def full_log_and_stdout(tmp: Path) -> tuple[bool, str]:
    target = tmp / "m.pt"
    with open("/dev/full", "w") as full:
        rc, _, err = dataloupe(
            *(
                "train",
                "digits",
                "--epochs",
                "3",
                "--device",
                "cpu",
                "--save",
                str(target),
                "--log",
                "/dev/full",
            ),
            stdout=full,
        )
    warnings = err.count("logging stops") + err.count("printing stops")
    ok = rc == 0 and warnings == 2 and "bug" not in err and loads(target)
    return ok, f"exit {rc}, {warnings} warnings, model {'saved' if target.exists() else 'LOST'}"


# ---------------------------------------------------------------------- memory runs out
def out_of_memory(tmp: Path) -> tuple[bool, str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4_000_000_000, 4_000_000_000))

    rc, _, err = dataloupe("train", "digits", "--hidden", "16384,16384", "--device", "cpu", preexec_fn=limit)
    ok = rc == 2 and "out of memory" in err and "asked for" in err and "--hidden" in err and "bug" not in err
    return ok, f"exit {rc}: {brief(err.removeprefix('dataloupe: '), 60)}"


# ---------------------------------------------------------------------- files that are not files
def fifo_checkpoint(tmp: Path) -> tuple[bool, str]:
    fifo = tmp / "f.pt"
    os.mkfifo(fifo)
    rc, _, err = dataloupe("eval", str(fifo), "digits", timeout=30)
    return rc == 2 and "FIFO" in err, f"exit {rc}: {brief(err.removeprefix('dataloupe: '), 60)}"


def dev_zero_checkpoint(tmp: Path) -> tuple[bool, str]:
    link = tmp / "z.pt"
    link.symlink_to("/dev/zero")
    rc, _, err = dataloupe("eval", str(link), "digits", timeout=30)
    ok = rc == 2 and "character device" in err and "empty" not in err
    return ok, f"exit {rc}: {brief(err.removeprefix('dataloupe: '), 60)}"


def device_target(tmp: Path) -> tuple[bool, str]:
    link = tmp / "mynull"
    link.symlink_to(os.devnull)
    rc, out, err = dataloupe(
        "train", "digits", "--epochs", "1", "--save", str(link), "--overwrite", timeout=60
    )
    ok = rc == 2 and "character device" in err and link.is_symlink() and Path(os.devnull).is_char_device()
    return (
        ok,
        f"exit {rc}, {'refused before training' if 'epoch' not in out else 'TRAINED'}; /dev/null intact",
    )


# ---------------------------------------------------------------------- no terminal, or a poor one
def no_terminal(tmp: Path) -> tuple[bool, str]:
    rc, _, err = dataloupe(timeout=20)
    return rc == 2 and "needs a terminal" in err, f"exit {rc}: {brief(err.removeprefix('dataloupe: '), 50)}"


def closed_stdout(tmp: Path) -> tuple[bool, str]:
    runs = {
        "check": ["check", "digits"],
        "check --json": ["check", "digits", "--json"],
        "batches": ["batches", "digits", "--count", "1"],
        "train": ["train", "digits", "--epochs", "1", "--device", "cpu", "--save", str(tmp / "m.pt")],
    }
    codes = {}
    for name, args in runs.items():
        rc, _, err = dataloupe(*args, stdout=None, preexec_fn=lambda: os.close(1))
        codes[name] = rc if not err else f"{rc} ({brief(err, 30)})"
    ok = all(c == 0 for c in codes.values()) and (tmp / "m.pt").exists()
    return ok, ", ".join(f"{k} {v}" for k, v in codes.items())


def in_a_pty(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int | None, str]:
    """(exit code, everything written to the terminal) of ``dataloupe ARGS`` with a pseudo-terminal on
    stdin, stdout and stderr."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "dataloupe.tui", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    if process.poll() is None:
        process.kill()
    code = process.wait(timeout=10)
    os.close(leader)
    return (code if time.monotonic() < deadline else None), screen.decode(errors="replace")


def term_dumb(tmp: Path) -> tuple[bool, str]:
    env = {**ENV, "TERM": "dumb"}
    app_code, app_screen = in_a_pty([], env, timeout=20)
    train_code, train_screen = in_a_pty(
        ["train", "digits", "--epochs", "2", "--device", "cpu"], env, timeout=120
    )
    ok = app_code == 2 and "needs a terminal" in app_screen and train_code == 0 and "\x1b" not in train_screen
    escapes = train_screen.count("\x1b")
    return ok, f"app exit {app_code} with a message; train exit {train_code}, {escapes} escape codes"


def stderr_in_a_file(tmp: Path) -> tuple[bool, str]:
    if shutil.which("tmux") is None:
        return False, "tmux is not installed"
    sys.path.insert(0, str(ROOT / "tests"))
    from support.terminal import Terminal

    log = tmp / "err.log"
    terminal = Terminal(tmp / "root")
    try:
        terminal.start(["sh", "-c", f"{DATALOUPE} 2>{log}"], env={"PYTHONPATH": str(ROOT)}, cwd=tmp)
        try:
            terminal.wait_for("quit", timeout=60)
            drawn = True
        except AssertionError:
            drawn = False
        terminal.keys("q")
        code = terminal.exit_code(timeout=30) if drawn else None
    finally:
        terminal.close()
    text = log.read_text() if log.exists() else ""
    ok = drawn and code == 0 and "\x1b" not in text
    return ok, f"screen {'on the terminal' if drawn else 'NOT drawn'}, exit {code}, err.log {len(text)} bytes"


# ---------------------------------------------------------------------- the app
HANGS = """
import threading

import torch
from torch.utils.data import Dataset


class Hangs(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == 17:
            threading.Event().wait()
        return torch.zeros(1, 4, 4), i % 2


data = Hangs()
"""


def app_terminal(tmp: Path):
    sys.path.insert(0, str(ROOT / "tests"))
    from support.terminal import Terminal

    return Terminal(tmp / "root")


def hung_user_code(tmp: Path) -> tuple[bool, str]:
    if shutil.which("tmux") is None:
        return False, "tmux is not installed"
    (tmp / "hangs.py").write_text(HANGS)
    terminal = app_terminal(tmp)
    try:
        terminal.start(
            [str(DATALOUPE), "hangs.py:data"], width=110, height=30, env={"PYTHONPATH": str(ROOT)}, cwd=tmp
        )
        named = "your `__getitem__(17)` has not returned" in terminal.wait_for(
            "has not returned for", timeout=90
        )
        terminal.keys("Escape")
        cancelled = "left behind" in terminal.wait_for("Opening was cancelled", timeout=20)
        pressed = time.monotonic()
        terminal.keys("q")
        code = terminal.exit_code(timeout=30)
        seconds = time.monotonic() - pressed
    except AssertionError:
        return False, "the stuck call was not named, or Esc or q did nothing"
    finally:
        terminal.close()
    ok = named and cancelled and code == 0 and seconds < 2
    return ok, f"named on screen, Esc cancelled the open, q exited {code} after {seconds:.2f} s"


def app_sighup(tmp: Path) -> tuple[bool, str]:
    if shutil.which("tmux") is None:
        return False, "tmux is not installed"
    sys.path.insert(0, str(ROOT / "tests"))
    from support.terminal import TRAINING_FORM

    terminal = app_terminal(tmp)
    target = tmp / "mine.pt"
    err = tmp / "err.log"
    try:
        terminal.start(
            ["sh", "-c", f"{DATALOUPE} 2>{err}"], width=110, height=30, env={"PYTHONPATH": str(ROOT)}, cwd=tmp
        )
        terminal.wait_for("1,797", timeout=90)
        terminal.keys("6")
        terminal.wait_for("Epochs", timeout=60)
        terminal.fill("Epochs", "1000", TRAINING_FORM)
        terminal.fill("Checkpoint", str(target), TRAINING_FORM)
        for _ in range(6):  # a key sent to a loaded machine is sometimes lost: press again
            terminal.keys("r")
            if wait_for(lambda: "/1000 " in terminal.screen(), 10):
                break
        terminal.wait_until(
            lambda s: "/1000 " in s and "step 0/" not in s, timeout=60, what="the run under way"
        )
    except AssertionError as e:
        terminal.close()
        return False, brief(str(e), 60)
    terminal.close()  # the tmux server goes, and with it the terminal: SIGHUP
    kept = tmp / "mine.interrupted.pt"
    ok = wait_for(kept.exists, 60) and wait_for(lambda: not list(tmp.glob(".*.tmp")), 30) and loads(kept)
    said = err.read_text() if err.exists() else ""
    ok = ok and not target.exists() and "what it learned is in" in said
    return ok, f"{kept.name} {'loads' if ok else 'MISSING'}; stderr: {brief(said, 40) or 'nothing'}"


# ---------------------------------------------------------------------- image folders
def linked_classes(tmp: Path) -> tuple[bool, str]:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.makers import write_image_folder

    folder = write_image_folder(tmp / "pets", {"a": 3, "b": 20})
    (folder / "a" / "b-too").symlink_to(folder / "b")
    (folder / "a" / "up").symlink_to("..")
    (folder / "a" / "one.png").symlink_to(folder / "b" / "000.png")
    rc, out, err = dataloupe("check", str(folder), timeout=60)
    ok = rc in (0, 1) and "has no images" not in err and " 20 " in out
    return ok, f"exit {rc}" + (f": {brief(err, 50)}" if err else ", b keeps its 20 images")


CASES = [
    Case("SIGHUP to train --save-on-stop", "exit 129, summary, model kept, target untouched", sighup_train),
    Case("tmux killed under train, piped to tee", "NAME.interrupted.pt loads", tmux_killed),
    Case("tmux killed while the app trains", "NAME.interrupted.pt beside the Checkpoint path", app_sighup),
    Case(
        "--save onto a full disk (2 MB tmpfs)", "exit 2, 'the disk … is full', model rescued", full_disk_save
    ),
    Case("--log and stdout on /dev/full", "exit 0, one warning each, model saved", full_log_and_stdout),
    Case("a model too big (4 GB ulimit -v)", "exit 2, out of memory, amount, what to try", out_of_memory),
    Case(
        "the app on a __getitem__ that never returns",
        "call named, Esc cancels, q exits < 2 s",
        hung_user_code,
    ),
    Case("eval on a FIFO", "exit 2 at once, 'FIFO'", fifo_checkpoint),
    Case("eval on a link to /dev/zero", "exit 2, 'character device'", dev_zero_checkpoint),
    Case("--save onto a link to /dev/null --overwrite", "refused, device untouched", device_target),
    Case("the app with stdin from /dev/null", "exit 2, 'needs a terminal'", no_terminal),
    Case("check, --json, batches, train with stdout closed", "exit 0 each, model saved", closed_stdout),
    Case("TERM=dumb: the app, and train on a terminal", "app exit 2; train without escape codes", term_dumb),
    Case("the app with 2>err.log", "drawn on the terminal, err.log clean", stderr_in_a_file),
    Case("image classes linked into each other", "check runs, b keeps its images", linked_classes),
]
"""Every case, in the issue's order."""


def run_cases(names: str, tmp_root: Path) -> tuple[int, int]:
    """Run the cases whose name contains one of ``names`` (comma-separated; "all"), print the table and
    return (passed, total)."""
    wanted = [c for c in CASES if names == "all" or any(n.strip() in c.name for n in names.split(","))]
    rows = []
    for i, case in enumerate(wanted):
        folder = tmp_root / f"case-{i}"
        folder.mkdir()
        started = time.perf_counter()
        try:
            ok, result = case.run(folder)
        except Exception as e:  # noqa: BLE001 - a case that breaks is a failed case, and the table goes on
            ok, result = False, f"{type(e).__name__}: {brief(str(e), 60)}"
        rows.append((case.name, case.expected, result, ok, time.perf_counter() - started))
        print(f"{'ok  ' if ok else 'FAIL'} {case.name}: {result}", flush=True)
    widths = [max(len(r[k]) for r in rows) for k in range(3)] if rows else [0, 0, 0]
    print()
    print(f"| {'case':<{widths[0]}} | {'expected':<{widths[1]}} | {'result':<{widths[2]}} | pass |")
    print(f"| {'-' * widths[0]} | {'-' * widths[1]} | {'-' * widths[2]} | ---- |")
    for name, expected, result, ok, _ in rows:
        print(
            f"| {name:<{widths[0]}} | {expected:<{widths[1]}} | {result:<{widths[2]}} | {'yes' if ok else 'NO':<4} |"
        )
    passed = sum(r[3] for r in rows)
    print(f"\n{passed} of {len(rows)} fault cases passed")
    return passed, len(rows)
