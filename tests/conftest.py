"""Shared fixtures: the real data in ``../shared/data``, small datasets made on the fly, and app helpers.

Real-data tests use ``shared_data``: it skips when ``DATALOUPE_TEST_DATA`` is unset (a
user's clone) and fails when it is set but the files are missing (CI must not skip).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from makers import write_image_folder


def _share_the_cores() -> None:
    """Under pytest-xdist, give each worker its share of the cores for torch's threads.

    Every worker (and every program a test starts, which inherits the environment) would
    otherwise run as many threads as the machine has cores, and two workers on two cores would
    spend their time preempting each other. Set before torch is imported; an explicit
    ``OMP_NUM_THREADS`` wins.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        os.environ.setdefault("MKL_NUM_THREADS", str(threads))


_share_the_cores()


def _wait_for_the_event_loop_only() -> None:
    """Make Pilot's "wait until idle" wait for the app's event loop, not for the whole process.

    ``pilot.press`` waits for idle twice per key and ``pilot.pause()`` once; Textual judges idle by
    the process's CPU time, up to 1 s each. While a worker thread is busy (a training run, a count)
    the process never idles, so every key cost 2 s, during which that thread ran flat out and took
    the core from the other test worker. The question the wait answers is whether the app has
    handled what it was sent: the event loop's own thread time answers it. Workers are awaited by
    ``settle`` and ``wait_for``, as before.
    """
    import asyncio
    import time

    import textual._wait
    import textual.app
    import textual.pilot

    granularity, idle = textual._wait.SLEEP_GRANULARITY, textual._wait.SLEEP_IDLE

    async def wait_for_idle(min_sleep: float = granularity, max_sleep: float = 1) -> None:
        start = time.monotonic()
        while True:
            cpu = time.thread_time()
            await asyncio.sleep(granularity)
            busy = time.thread_time() - cpu
            elapsed = time.monotonic() - start
            if elapsed >= max_sleep or (elapsed > min_sleep and busy < idle):
                return

    textual.app.wait_for_idle = wait_for_idle
    textual.pilot.wait_for_idle = wait_for_idle


_wait_for_the_event_loop_only()

REAL_DATA_FIXTURES = frozenset({"shared_data"})
"""Fixtures whose users read DATALOUPE_TEST_DATA (every real-data fixture depends on ``shared_data``)."""
TERMINAL_FIXTURES = frozenset({"tmux"})
"""Fixtures whose users drive the installed program in tmux."""


gc.disable()  # until the test modules are imported: see pytest_collection_finish


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what the test modules imported (torch, textual: 390,000 objects) and turn the collector
    back on. While they were imported, a dozen full collections walked the growing heap and found
    nothing to free: 2.3 s of each worker's start."""
    gc.collect()
    gc.freeze()
    gc.enable()


def pytest_xdist_setupnodes(config: pytest.Config, specs: list) -> None:
    """The xdist controller collects no test module: its collector goes back on at once."""
    gc.enable()


FREEZE_GROWTH = 150_000
"""Memory blocks a worker may gain before what lives on is frozen (see ``pytest_runtest_protocol``)."""
_blocks_at_freeze = 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Between tests, keep the garbage collector off what has come to live as long as the worker.

    A test worker imports, test by test, what the app loads lazily (pandas, pyarrow, torchvision's
    transforms, torch._dynamo...): 400,000 objects by the end, which every full collection walked,
    40-odd times per worker, 0.2 s each (a quarter of the suite's CPU). When the worker has grown by
    :data:`FREEZE_GROWTH` blocks since the last time, the garbage is collected and the rest frozen
    (``gc.freeze``), as tui/heap.py does in the app after its heavy imports. Tests leave no app
    behind, so what is frozen is modules, caches and session fixtures.
    """
    global _blocks_at_freeze
    yield
    if sys.getallocatedblocks() - _blocks_at_freeze > FREEZE_GROWTH:
        gc.collect()
        gc.freeze()
        _blocks_at_freeze = sys.getallocatedblocks()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core, and one more for the tmux tests.

    Those tests (one worker runs them all) spend most of their time waiting on the program in the
    terminal; with a worker per core only, that worker's core would sit idle meanwhile. On the
    2-core CI machine, 3 workers ran the suite in 100-104 s where 2 took 112-114 s.
    """
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the fixtures they use (directly or through other fixtures): ``realdata``, ``e2e``.

    So ``pytest -m "not e2e"`` leaves out the tmux tests and ``-m "not realdata"`` the ones that
    need ``DATALOUPE_TEST_DATA``, without a decorator on every test that might be forgotten.
    """
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & REAL_DATA_FIXTURES:
            item.add_marker(pytest.mark.realdata)
        if used & TERMINAL_FIXTURES:
            item.add_marker(pytest.mark.e2e)
            # one worker runs them, one after another: they mostly wait on the program they drive,
            # and pytest_xdist_auto_num_workers gives that worker a core's worth of slack
            item.add_marker(pytest.mark.xdist_group("e2e"))
            continue
        if _uses_a_module_fixture(item):
            # under `--dist loadgroup` (pyproject's addopts) one worker runs them all, so a
            # module-scoped fixture (a training run, a checkpoint) is built once, not once per worker
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    # The tmux tests are the longest (each starts the program and waits on it): their group goes
    # first, so that it runs beside the short tests instead of being the last one waited for.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


def _uses_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


REAL_FILES = (
    "mnist/t10k-images-idx3-ubyte.gz",
    "mnist/t10k-labels-idx1-ubyte.gz",
    "mnist/train-labels-idx1-ubyte.gz",
    "wine/winequality-red.csv",
    "wine/winequality-white.csv",
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real test data; skips only when DATALOUPE_TEST_DATA is unset."""
    env = os.environ.get("DATALOUPE_TEST_DATA")
    if not env:
        pytest.skip("DATALOUPE_TEST_DATA is not set (real-data tests run in CI)")
    root = Path(env)
    missing = [f for f in REAL_FILES if not (root / f).is_file()]
    if missing:
        pytest.fail(f"DATALOUPE_TEST_DATA={env} is set but these files are missing: {', '.join(missing)}")
    return root


@pytest.fixture(scope="session")
def mnist_dir(shared_data: Path) -> Path:
    """../shared/data/mnist: the t10k pair and the training labels, gzip-compressed."""
    return shared_data / "mnist"


@pytest.fixture(scope="session")
def red_wine(shared_data: Path) -> Path:
    return shared_data / "wine" / "winequality-red.csv"


@pytest.fixture(scope="session")
def white_wine(shared_data: Path) -> Path:
    return shared_data / "wine" / "winequality-white.csv"


@pytest.fixture(scope="session")
def digits():
    """The bundled digits, opened once per session."""
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset

    return open_dataset(DatasetSpec("digits"))


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path):
    """The 10,000 real MNIST test images through the IDX reader (only a test split)."""
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset

    return open_dataset(DatasetSpec(str(mnist_dir)))


@pytest.fixture
def tmux(tmp_path: Path):
    """A real terminal (tmux, 80×24 unless asked otherwise) to run the installed program in; see terminal.py.

    Skips when tmux is missing in a user's clone; fails in CI (DATALOUPE_TEST_DATA set), where
    ``.ci/run`` installs it. Tests using it are marked ``e2e``.
    """
    import shutil

    from terminal import Terminal

    if shutil.which("tmux") is None:
        if os.environ.get("DATALOUPE_TEST_DATA"):
            pytest.fail("tmux is not installed; .ci/run installs it (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    terminal = Terminal(tmp_path / "root")
    yield terminal
    terminal.close()


@pytest.fixture
def image_folder_factory(tmp_path: Path):
    """Make image folders: ``factory({"cat": 5, "dog": 20}, name="pets")``."""

    def make(counts: dict[str, int], name: str = "images", **kw) -> Path:
        return write_image_folder(tmp_path / name, counts, **kw)

    return make


async def settle(app, pilot, rounds: int = 20) -> None:
    """Wait until the app's start-up work has begun, no worker is pending or running, and the screen
    has caught up with the messages they posted.

    The app opens its dataset once the first screen is drawn (``first_paint``); before that there
    is no worker to wait for. A worker counts until it has finished: a pending one has not begun.
    """
    from textual.worker import WorkerCancelled, WorkerFailed

    def busy() -> bool:
        return any(not w.is_finished for w in app.workers)

    await wait_for(pilot, lambda: getattr(app, "first_paint", 0) is not None, what="the first screen")
    for _ in range(rounds):
        # an exclusive worker replaced by a newer one, or a failure the app reports itself
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not busy():
            await pilot.pause()
            if not busy():
                return


async def wait_for(pilot, predicate, timeout: float = 10.0, what: str | Callable[[], str] = "") -> None:
    """Let the app run until ``predicate()`` is true; fail with ``what`` after ``timeout`` seconds
    (a callable ``what`` is called then, to describe what the app shows at that moment)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {described or predicate}")
        await pilot.pause(0.02)


def screen_text(app) -> str:
    """Every character on screen (from the SVG export), spaces normalized."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg))).replace("\xa0", " ")
