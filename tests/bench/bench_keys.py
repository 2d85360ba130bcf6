"""Any order of keys while a model trains, in a real terminal (tmux, 80×24); and key-to-screen latency.

    python tests/bench/bench_keys.py                      # 5 seeds of 200 keys, bursts, then 100 presses of v
    python tests/bench/bench_keys.py --seeds 7 --keys 500 # one seed, more keys
    python tests/bench/bench_keys.py --seeds --skip-latency --burst-seeds 0 1 2

(a) For each seed: start ``dataloupe`` on the bundled digits, start a long training run, then
send ``--keys`` keys drawn at random from the footers of all six panes (``q`` and ctrl+c
aside). After each key the screen must show no traceback and the program must still be
running. After the burst, once the app has caught up, Escape (as often as the footer shows
a field or a dialog has the keys, at most 3), then ``1``–``6`` must each switch panes within 0.5 s, and ``q`` must end the program within 2 s with the
terminal restored (tmux reports the alternate screen off and the cursor shown). A failing seed
prints the keys that led to it; rerun that seed to reproduce it.

(b) Keys in bursts, as they arrive over SSH: for each seed, 200 random footer keys sent in bursts
of 1 to 10 keys, each burst in one ``tmux send-keys`` (one write), while a model trains. The keys
are those that leave the keys with a pane (not Tab, Enter, Escape, g, b, l or ctrl+o, which hand
them to a field or a dialog, where digits are typed as text; an Escape read together with the
next key is alt+that key). After each burst, once the app is idle, the pane shown must be the one
the burst's last pane key asked for (or the one before, with no pane key in it): a burst that ends
elsewhere lost a key. Figures: bursts, keys sent, pane keys lost.

(c) Key to screen while training: ``v`` pressed 100 times on the training pane; each press is
timed from ``tmux send-keys`` to the first capture that shows the next view. The time includes
tmux's own capture (a few ms); it is what a user sees. The floor beside it, measured the same way
in the same run: a bare Textual app (``--bare-app``: one line of text that ``v`` changes) with an
MLP training at full speed in a thread of the same process, twice: at the frame rate dataloupe sets
(``TEXTUAL_FPS``, :data:`dataloupe.tui.terminal.FRAME_RATE`) and at Textual's default of 60.

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

from dataloupe.tui.terminal import FRAME_RATE, FRAME_RATE_VARIABLE  # noqa: E402

from support.keys import PANES, active_pane  # noqa: E402
from support.terminal import EXIT_MARK, TRAINING_FORM, Terminal  # noqa: E402

DATALOUPE = Path(sys.executable).parent / "dataloupe"
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
TO_A_FIELD = {"Tab", "Enter", "Escape", "g", "b", "l", "C-o"}
"""Footer keys that hand the keys to a field or a dialog (or, Escape, merge with the next key)."""
BURST_KEYS = sorted(set(KEYS) - TO_A_FIELD)
"""The keys a burst is drawn from."""
PANE_KEYS = "1-6 pane"
"""In the footer when the keys are with a pane (not a text field or a dialog)."""
BROKEN = ("Traceback", "This is a bug", EXIT_MARK)
"""On screen, each means the program failed: a traceback, an unexpected error, or it ended."""


def start_training(term: Terminal, epochs: str = "5000") -> None:
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
    """The training pane's view, from what only that view shows (the status line above every view
    reads "loss …", so the curves are known by their lesson, not by that word)."""
    if "Checkpoint" in screen and "Optimizer" in screen:
        return "settings"
    if "confusion" in screen.lower() or "per-class" in screen.lower():
        return "classes"
    if "No model evaluated yet" in screen or "given " in screen:
        return "mistakes"
    if "by training samples" in screen:
        return "data size"
    if "overfitting" in screen:
        return "curves"
    return None


def bursts(seed: int, count: int, workdir: Path) -> tuple[int, int, int, list[str]]:
    """Send ``count`` keys in bursts of 1-10 while training; (bursts, bursts with a pane key, pane keys
    lost, what went wrong in each burst that lost one)."""
    rng = random.Random(seed)
    term = Terminal(workdir / "root")
    term.start([str(DATALOUPE)], cwd=workdir)
    checked = lost = sent = 0
    wrong: list[str] = []
    try:
        start_training(term)
        settle(term, quiet=0.5)
        pane = active_pane(term.screen())
        while sent < count:
            keys = [rng.choice(BURST_KEYS) for _ in range(min(count - sent, rng.randint(1, 10)))]
            sent += len(keys)
            term.keys(*keys)  # one send-keys: one write to the program
            digits = [k for k in keys if k in "123456"]
            want = PANES[int(digits[-1]) - 1] if digits else pane
            settle(term, quiet=0.5)
            screen = term.screen()
            if PANE_KEYS not in screen.splitlines()[-1]:  # a field or dialog has the keys after all
                term.keys("Escape")
                settle(term, quiet=0.5)
                pane = active_pane(term.screen())
                continue
            pane = active_pane(screen)
            if digits:
                checked += 1
                if pane != want:
                    lost += 1
                    wrong.append(f"{' '.join(keys)} → {pane}, not {want}")
        term.keys("q")
        term.exit_code(timeout=10)
        return checked, lost, sent, wrong
    finally:
        term.close()


def latency(
    presses: int, workdir: Path, command: list[str] | None = None, env: dict[str, str] | None = None
) -> list[float]:
    """Seconds from pressing v to the screen showing another view, ``presses`` times, while training
    (``command``: the bare app instead of dataloupe)."""
    term = Terminal(workdir / "root")
    term.start(command or [str(DATALOUPE)], cwd=workdir, env=env)
    try:
        if command is None:
            start_training(term)
            view = view_of
        else:
            term.wait_for("steps", timeout=60)
            view = bare_view_of
        times = []
        for _ in range(presses):
            before = view(term.screen())
            t0 = time.perf_counter()
            term.keys("v")
            # poll as fast as tmux answers (about 2 ms a capture): Terminal.wait_until's 50 ms
            # sleeps would add up to 50 ms to every figure, the floor's and dataloupe's alike
            while view(term.screen()) in (before, None):
                if time.perf_counter() - t0 > 10:
                    raise AssertionError(
                        f"the next view not seen within 10 s; the screen shows:\n{term.screen()}"
                    )
            times.append(time.perf_counter() - t0)
        term.keys("q")
        term.exit_code(timeout=10)
        return times
    finally:
        term.close()


def bare_view_of(screen: str) -> str | None:
    """The bare app's view: the word after "view"."""
    words = screen.split()
    return next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "view"), None)


def bare_app() -> None:
    """A bare Textual app (one line, which ``v`` changes) beside an MLP training in a thread: the floor
    of key-to-screen latency for a Textual app while a model trains in the same process."""
    import threading

    import torch
    from textual.app import App
    from textual.widgets import Static

    steps = [0]
    stop = threading.Event()

    def train() -> None:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(1438, 64), torch.randint(0, 10, (1438,))
        while not stop.is_set():
            for i in range(0, len(x), 64):
                loss = torch.nn.functional.cross_entropy(model(x[i : i + 64]), y[i : i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps[0] += 1

    class Bare(App):
        BINDINGS = [("v", "view", "view"), ("q", "quit", "quit")]

        def compose(self):
            self.view = 0
            yield Static(id="line")

        def on_mount(self) -> None:
            threading.Thread(target=train, daemon=True).start()
            self.set_interval(0.25, self.show)

        def show(self) -> None:
            self.query_one(Static).update(
                f"view {('settings', 'curves', 'classes')[self.view]} · {steps[0]:,} steps"
            )

        def action_view(self) -> None:
            self.view = (self.view + 1) % 3
            self.show()

    Bare().run()
    stop.set()


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--burst-seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--bare-app", action="store_true", help="run the bare app (the latency floor) and exit"
    )
    args = parser.parse_args()
    if args.bare_app:
        bare_app()
        return 0
    if shutil.which("tmux") is None:
        print("tmux is not installed; this bench drives the app in it (apt-get install tmux)")
        return 2
    failed = []
    if args.seeds:
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
    total_lost = 0
    for seed in args.burst_seeds:
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
            checked, lost, sent, wrong = bursts(seed, args.keys, Path(tmp))
        total_lost += lost
        print(
            f"bursts seed {seed}: {sent} keys from {len(BURST_KEYS)} footer keys in bursts of 1-10 per write "
            f"while training: pane keys lost in {lost} of {checked} bursts with one"
        )
        for line in wrong:
            print(f"  lost: {line}")
    if not args.skip_latency:
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
            times = latency(args.presses, Path(tmp))
        bare = [sys.executable, __file__, "--bare-app"]
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
            floor = latency(args.presses, Path(tmp), bare, {FRAME_RATE_VARIABLE: str(FRAME_RATE)})
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
            floor_60 = latency(args.presses, Path(tmp), bare, {FRAME_RATE_VARIABLE: "60"})
        print(
            f"key to screen while training ({len(times)} presses of v, tmux send-keys → capture showing the "
            f"next view): {percentiles(times)}; a bare Textual app with an MLP training in a thread, at the "
            f"app's {FRAME_RATE} frames a second: {percentiles(floor)}; at Textual's default 60: "
            f"{percentiles(floor_60)} (load {os.getloadavg()[0]:.1f})"
        )
    print(f"seeds failed: {failed or 'none'}; pane keys lost in bursts: {total_lost}")
    return 1 if failed or total_lost else 0


if __name__ == "__main__":
    sys.exit(main())
