"""What the system strip costs: the sampler's CPU, and the bytes the strip adds to the terminal.

1. The sampler (``dataloupe.core.system.SystemSampler``) samples once a second for ``--seconds``
   while following three runs: one written by a live process (found by its open log), one written
   in bursts from its own folder, and one that nobody writes (so the process table is searched
   again every 5 s). Its thread's CPU time is reported in percent of one core, without a GPU and
   with 8 GPUs from a faked NVML (the fake costs next to nothing; a real driver call costs more).
   Goal: under 1% of one core.
2. ``dataloupe watch`` on a finished log runs in a 120×40 pseudo-terminal for ``--seconds``, with
   the strip and with its sampler switched off, no GPU and 8 faked GPUs whose figures change at
   every sample. The difference in bytes written to the terminal per second is what the strip adds.
   Goal: at most 1 kB/s.

    python tests/bench/bench_system.py              # about 100 s
    python tests/bench/bench_system.py --seconds 5  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import struct
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

GOAL_CPU = 1.0
"""Percent of one core the sampler may use."""
GOAL_BYTES = 1000.0
"""Bytes per second the strip may add to the terminal."""

# The app in the pseudo-terminal, with an NVML whose figures move (or none) and the sampler on or off.
CHILD = """
import random, sys
sys.path.insert(0, {tests!r})
gpus, strip = int(sys.argv[1]), sys.argv[2] == "on"
if gpus:
    from support.fake_nvml import FakeNvml
    from types import SimpleNamespace
    class Moving(FakeNvml):
        def nvmlDeviceGetUtilizationRates(self, handle):
            return SimpleNamespace(gpu=random.randint(60, 100), memory=40)
        def nvmlDeviceGetPowerUsage(self, handle):
            return random.randint(250, 350) * 1000
    sys.modules["pynvml"] = Moving(gpus)
if not strip:
    import threading
    from dataloupe.core.system import SystemSampler
    SystemSampler.start = lambda self, *args, **kw: threading.Event()
from dataloupe.tui.cli import main
sys.exit(main(["watch", sys.argv[3]]))
"""


def sampler_cost(seconds: float, gpus: int, folder: Path) -> dict:
    """CPU of the sampler's thread over ``seconds`` while it follows three runs."""
    from dataloupe.core.system import SystemSampler

    from support.writer_process import end, start_writer

    saved = sys.modules.get("pynvml")
    if gpus:
        from support.fake_nvml import FakeNvml

        sys.modules["pynvml"] = FakeNvml(gpus)
    live = start_writer(folder / "live.jsonl")
    burst_dir = folder / "burst"
    burst_dir.mkdir(exist_ok=True)
    burst = start_writer(burst_dir / "metrics.jsonl", keep_open=False, cwd=burst_dir)
    (folder / "orphan.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    sampler = SystemSampler()
    sampler.follow(
        {
            "live": str(folder / "live.jsonl"),
            "burst": str(burst_dir / "metrics.jsonl"),
            "orphan": str(folder / "orphan.jsonl"),
        }
    )
    stop = threading.Event()
    result: dict = {}
    samples: list = []

    def body() -> None:
        cpu0 = time.thread_time()
        sampler.run(stop, samples.append)
        result["cpu"] = time.thread_time() - cpu0

    thread = threading.Thread(target=body)
    t0 = time.perf_counter()
    thread.start()
    stop.wait(seconds)
    stop.set()
    thread.join()
    wall = time.perf_counter() - t0
    end(live)
    end(burst)
    if gpus:
        if saved is None:
            sys.modules.pop("pynvml", None)
        else:
            sys.modules["pynvml"] = saved
    last = samples[-1].writers
    return {
        "percent": 100 * result["cpu"] / wall,
        "per_sample_ms": 1000 * result["cpu"] / max(1, len(samples)),
        "samples": len(samples),
        "scans": sampler.writers.scans,
        "found": {name: (w.found_by if w else None) for name, w in last.items()},
        "processes": sum(1 for p in os.listdir("/proc") if p.isdigit()) if os.path.isdir("/proc") else None,
    }


def search_and_sample_ms(folder: Path) -> tuple[float, float]:
    """Median CPU milliseconds of one search of the process table and of one sample without a search."""
    import statistics

    from dataloupe.core.system import SystemSampler
    from dataloupe.core.system.processes import process_table

    table = process_table()
    searches = []
    for _ in range(7):
        t = time.process_time()
        table((str(folder) + os.sep,))
        searches.append(1000 * (time.process_time() - t))
    sampler = SystemSampler()
    sampler.follow({"orphan": str(folder / "orphan.jsonl")})
    sampler.sample()  # the first search
    samples = []
    for _ in range(20):
        t = time.process_time()
        sampler.sample()
        samples.append(1000 * (time.process_time() - t))
    return statistics.median(searches), statistics.median(samples)


def terminal_bytes(log: Path, gpus: int, strip: bool, warmup: float, seconds: float) -> float:
    """Bytes per second ``dataloupe watch log`` writes to a 120×40 pseudo-terminal."""
    from support.processes import quit_on_pty

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        code = CHILD.format(tests=str(ROOT / "tests"))
        os.execv(sys.executable, [sys.executable, "-c", code, str(gpus), "on" if strip else "off", str(log)])
    import fcntl

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    start = time.perf_counter()
    total, t0 = 0, None
    while True:
        now = time.perf_counter()
        if t0 is None and now - start >= warmup:
            t0, total = now, 0
        if t0 is not None and now - t0 >= seconds:
            break
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                total += len(os.read(fd, 65536))
            except OSError:
                break
    elapsed = time.perf_counter() - t0
    quit_on_pty(pid, fd)
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="measuring time of each part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"1. the sampler, once a second for {args.seconds:g} s, following 3 runs (live, bursts, none)")
        for gpus in (0, 8):
            (folder / f"s{gpus}").mkdir()
            cost = sampler_cost(args.seconds, gpus, folder / f"s{gpus}")
            print(
                f"  {'no GPU' if not gpus else f'{gpus} faked GPUs':<13} {cost['percent']:5.2f} % of one core"
                f"  ({cost['per_sample_ms']:.2f} ms per sample, {cost['samples']} samples, "
                f"{cost['scans']} searches of {cost['processes']} processes)"
                f"  goal < {GOAL_CPU:g} %: {'met' if cost['percent'] < GOAL_CPU else 'MISSED'}"
            )
            print(f"  {'':<13} writers found by: {json.dumps(cost['found'])}")
        search, sample = search_and_sample_ms(folder / "s0")
        print(
            f"  one search of the process table {search:.1f} ms, one sample between searches {sample:.2f} ms (medians)"
        )
        log = folder / "done.jsonl"
        log.write_text("".join(json.dumps({"step": s, "loss": 1 / (s + 1)}) + "\n" for s in range(500)))
        print(f"2. bytes to a 120x40 terminal, dataloupe watch on a finished log, {args.seconds:g} s each")
        for gpus in (0, 8):
            off = terminal_bytes(log, gpus, False, 4.0, args.seconds)
            on = terminal_bytes(log, gpus, True, 4.0, args.seconds)
            added = on - off
            print(
                f"  {'no GPU' if not gpus else f'{gpus} faked GPUs':<13} {off:7.0f} B/s without the strip,"
                f" {on:7.0f} B/s with it: {added:+6.0f} B/s"
                f"  goal <= {GOAL_BYTES:g}: {'met' if added <= GOAL_BYTES else 'MISSED'}",
                flush=True,
            )


if __name__ == "__main__":
    main()
