"""Any order of keys while a model trains, in a real terminal (tmux, 80×24); and key-to-screen latency.

    python tests/bench/bench_keys.py                      # 5 seeds of 200 keys, then 100 presses of v
    python tests/bench/bench_keys.py --seeds 7 --keys 500 # one seed, more keys
    python tests/bench/bench_keys.py --skip-latency

(a) For each seed: start ``dataloupe`` on the bundled digits, start a long training run, then
send ``--keys`` keys drawn at random from the footers of all six panes (``q`` and ctrl+c
aside). After each key the screen must show no traceback and the program must still be
running. After the burst, once the app has caught up, Escape (as often as the footer shows
a field or a dialog has the keys, at most 3), then ``1``–``6`` must each switch panes within 0.5 s, and ``q`` must end the program within 2 s with the
terminal restored (tmux reports the alternate screen off and the cursor shown). A failing seed
prints the keys that led to it; rerun that seed to reproduce it.

(b) Key to screen while training: ``v`` pressed 100 times on the training pane; each press is
timed from ``tmux send-keys`` to the first capture that shows the next view. The time includes
tmux's own capture (a few ms); it is what a user sees.

Prints figures and a verdict per seed; it is a benchmark, not a test (its exit code is 1 when a
seed fails).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: terminal.py

from support.terminal import EXIT_MARK, TRAINING_FORM, Terminal  # noqa: E402

DATALOUPE = Path(sys.executable).parent / "dataloupe"
PANES = ("Dataset", "Preview", "Balance", "Checklist", "Batches", "Training")
FOOTER_KEYS = {
    # tmux key names for what each pane's footer lists (their BINDINGS); q and ctrl+c end the program
    "every pane": ["1", "2", "3", "4", "5", "6"],
    "Dataset": ["C-o", "Escape", "Tab", "Enter"],
    "Preview": ["Left", "Right", "PageUp", "PageDown", "g", "m", "a", "t", "s"],
    "Balance": ["s", "b", "+", "-", "c", "r"],
    "Checklist": ["r", "t", "c"],
    "Batches": ["n", "Right", "e", "g", "t", "a", "b", "?"],
    "Training": ["r", "p", "x", "s", "l", "e", "v", "Tab"],
}
KEYS = sorted({key for keys in FOOTER_KEYS.values() for key in keys})
PANE_KEYS = "1-6 pane"
"""In the footer when the keys are with a pane (not a text field or a dialog)."""
BROKEN = ("Traceback", "This is a bug", EXIT_MARK)
"""On screen, each means the program failed: a traceback, an unexpected error, or it ended."""


FOOTERS = {
    "Dataset": "^o Open",
    "Preview": "←→ sample",
    "Balance": "s split b train|test",
    "Checklist": "r re-check",
    "Batches": "n next e epoch",
    "Training": "r start p pause",
}
"""How each pane's footer begins when the keys are with it."""


def active_pane(screen: str) -> str | None:
    """The pane whose tab the underline (row 3) highlights, once it has settled under one tab; when a
    notification covers the underline, the pane whose keys the footer lists."""
    rows = screen.splitlines()
    if len(rows) < 3:
        return None
    if "▌" in rows[2] or "▌" in rows[1]:  # a toast over the tab bar
        return next((name for name, start in FOOTERS.items() if rows[-1].startswith(start)), None)
    tabs, underline = rows[1], rows[2]
    left = underline.find("╸")
    right = underline.find("╺", left + 1)
    start = left + 1 if left >= 0 else 0
    end = right if right >= 0 else len(underline)
    if end <= start:
        return None
    for name in PANES:
        at = tabs.find(name)
        if at >= 0:
            label_start, label_end = at - 2, at + len(name)  # "1 Dataset"
            if abs(label_start - start) <= 2 and abs(label_end - end) <= 2:
                return name
    return None


def start_training(term: Terminal, epochs: str = "300") -> None:
    """Open the training pane, set a run far longer than the bench, start it and wait for it to run."""
    term.wait_for("sample 0 of", timeout=120)
    term.keys("6")
    term.wait_for("r starts training")
    term.fill("Epochs", epochs, TRAINING_FORM)
    term.keys("r")
    term.wait_for("samples/s", timeout=120)


def one_seed(seed: int, count: int, workdir: Path) -> tuple[bool, str, list[str]]:
    """Run the burst for ``seed``; (passed, what happened, the keys sent)."""
    sent: list[str] = []
    term = Terminal(workdir / "root")
    term.start([str(DATALOUPE)], cwd=workdir)  # `s` saves dataloupe-model.pt here
    try:
        return _burst(term, random.Random(seed), count, sent)
    except AssertionError as e:  # a wait that timed out: the screen is in the message
        return False, str(e), sent
    finally:
        term.close()


def _burst(term: Terminal, rng: random.Random, count: int, sent: list[str]) -> tuple[bool, str, list[str]]:
    start_training(term)
    for _ in range(count):
        key = rng.choice(KEYS)
        term.keys(key)
        sent.append(key)
        screen = term.screen()
        if any(mark in screen for mark in BROKEN):
            return False, f"after key {len(sent)} ({key!r}) the screen shows:\n{screen}", sent
    # The burst goes in far faster than anyone types; let the app catch up before timing anything.
    # Escape is sent only once the app is idle: an Escape read together with the next key is one
    # key, alt+<key> (that is how terminals encode alt), so Escape then 2 sent at once is alt+2.
    t0 = time.perf_counter()
    settle(term)
    escapes = 0
    while PANE_KEYS not in term.screen().splitlines()[-1]:  # in a field or a dialog: Escape leaves it
        if escapes == 3:
            return False, f"three Escapes did not give the keys back to the pane:\n{term.screen()}", sent
        term.keys("Escape")
        escapes += 1
        settle(term)
    caught_up = time.perf_counter() - t0
    switches: list[float] = []
    slow: list[str] = []
    order = [str(i) for i in range(1, 7)]
    rng.shuffle(order)
    for digit in order:
        want = PANES[int(digit) - 1]
        if active_pane(term.screen()) == want:  # already there: go elsewhere first
            other = "1" if digit != "1" else "2"
            term.keys(other)
            term.wait_until(
                lambda s, o=other: active_pane(s) == PANES[int(o) - 1],
                timeout=10,
                what=f"key {other} switching to {PANES[int(other) - 1]} (before timing key {digit})",
            )
        t0 = time.perf_counter()
        term.keys(digit)
        try:
            term.wait_until(lambda s, w=want: active_pane(s) == w, timeout=10, what=f"pane {want}")
        except AssertionError as e:
            return False, f"key {digit} did not switch to {want}: {e}", sent
        switches.append(time.perf_counter() - t0)
        if switches[-1] > 0.5:
            slow.append(f"key {digit} took {switches[-1] * 1000:.0f} ms to show {want} (limit 500)")
    t0 = time.perf_counter()
    term.keys("q")
    try:
        code = term.exit_code(timeout=10)
    except AssertionError as e:
        return False, f"q did not end the program: {e}", sent
    quit_s = time.perf_counter() - t0
    flags = term.flags()
    screen = term.screen()
    problems = list(slow)
    if code != 0:
        problems.append(f"exit code {code}")
    if quit_s > 2:
        problems.append(f"q took {quit_s:.2f} s (limit 2 s)")
    if flags.get("alternate_on") != "0" or flags.get("cursor_flag") != "1":
        problems.append(f"terminal not restored: {flags}")
    if "Traceback" in screen:
        problems.append("a traceback after quitting")
    summary = (
        f"caught up in {caught_up:.1f} s; panes: max {max(switches) * 1000:.0f} ms, median {statistics.median(switches) * 1000:.0f} ms; "
        f"q: {quit_s * 1000:.0f} ms, exit {code}, terminal {'restored' if not problems else flags}"
    )
    return not problems, summary + ("" if not problems else " — " + "; ".join(problems)), sent


def settle(term: Terminal, quiet: float = 1.0, timeout: float = 60.0) -> None:
    """Wait until the tab bar and the footer have not changed for ``quiet`` seconds (they change with
    every pane, dialog or focus change, not with a training's progress)."""

    def frame() -> list[str]:
        rows = term.styled_screen().splitlines()
        return rows[1:3] + rows[-1:]

    deadline = time.monotonic() + timeout
    last, since = frame(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen kept changing for {timeout} s:\n{term.screen()}")
        time.sleep(0.05)
        now = frame()
        if now != last:
            last, since = now, time.monotonic()


def view_of(screen: str) -> str | None:
    """The training pane's view, from what only that view shows."""
    if "Checkpoint" in screen and "Optimizer" in screen:
        return "settings"
    if "confusion" in screen.lower() or "per-class" in screen.lower():
        return "classes"
    if "loss" in screen:
        return "curves"
    return None


def latency(presses: int, workdir: Path) -> list[float]:
    """Seconds from pressing v to the screen showing another view, ``presses`` times, while training."""
    term = Terminal(workdir / "root")
    term.start([str(DATALOUPE)], cwd=workdir)
    try:
        start_training(term)
        times = []
        for _ in range(presses):
            before = view_of(term.screen())
            t0 = time.perf_counter()
            term.keys("v")
            term.wait_until(lambda s, b=before: view_of(s) not in (b, None), timeout=10, what="the next view")
            times.append(time.perf_counter() - t0)
        term.keys("q")
        term.exit_code(timeout=10)
        return times
    finally:
        term.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed; this bench drives the app in it (apt-get install tmux)")
        return 2
    failed = []
    print(f"{args.keys} random keys from {len(KEYS)} footer keys, 80×24, while training on digits")
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
            t0 = time.perf_counter()
            ok, what, sent = one_seed(seed, args.keys, Path(tmp))
        load = os.getloadavg()[0]
        print(
            f"seed {seed}: {'OK  ' if ok else 'FAIL'} {what} ({time.perf_counter() - t0:.0f} s, load {load:.1f})"
        )
        if not ok:
            failed.append(seed)
            print(f"  keys sent ({len(sent)}): {' '.join(sent)}")
    if not args.skip_latency:
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
            times = sorted(latency(args.presses, Path(tmp)))
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        print(
            f"key to screen while training ({len(times)} presses of v, tmux send-keys → capture showing the "
            f"next view): p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {times[-1] * 1000:.0f} ms"
        )
    print(f"seeds failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
