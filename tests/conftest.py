"""Fixtures and hooks: the real data in ``../shared/data``, small datasets made on the fly, test marks.

Helpers that tests call live in the ``support`` package: ``support.pilot`` (the app through Pilot),
``support.terminal`` (the installed program in tmux), ``support.makers`` and ``support.runlogs`` (data).

Real-data tests use ``shared_data``: it skips when ``DATALOUPE_TEST_DATA`` is unset (a
user's clone) and fails when it is set but the files are missing (CI must not skip).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest

from support.makers import write_image_folder
from support.process import share_the_cores, wait_for_the_event_loop_only

share_the_cores()
wait_for_the_event_loop_only()

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
    """A real terminal (tmux, 80×24 unless asked otherwise) to run the installed program in; see support/terminal.py.

    Skips when tmux is missing in a user's clone; fails in CI (DATALOUPE_TEST_DATA set), where
    ``.ci/run`` installs it. Tests using it are marked ``e2e``.
    """
    import shutil

    from support.terminal import Terminal

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
