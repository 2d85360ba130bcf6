"""dataloupe installs under its own name: a user's project with its own ``core`` and ``tui`` packages
opens through ``file.py:NAME``, headless and in the app, with their packages, not dataloupe's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from support.pilot import settle, wait_for

PROJECT = {
    "core/__init__.py": "",
    "core/data.py": """
        import torch
        from torch.utils.data import TensorDataset

        def make():
            x = torch.arange(160, dtype=torch.float32).reshape(40, 1, 2, 2) / 160
            return TensorDataset(x, torch.arange(40) % 2)
        """,
    "tui/__init__.py": "WHO = 'the user'\n",
    "mydata.py": """
        from core.data import make
        from tui import WHO

        assert WHO == "the user"
        ds = make()
        """,
}


@pytest.fixture
def project(tmp_path):
    for name, text in PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] in ("core", "tui", "mydata")]:
        del sys.modules[name]  # the user's packages, imported by the app test


def test_dataloupe_imports_nothing_named_core_or_tui():
    code = (
        "import sys, dataloupe.tui.app, dataloupe.tui.cli, dataloupe.core.checks; print(sorted(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not any(m == "core" or m.startswith(("core.", "tui.")) or m == "tui" for m in eval(out))


def test_the_users_own_core_package_opens_headless(project):
    assert subprocess.run([sys.executable, "-c", "import mydata"], cwd=project).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "dataloupe.tui", "check", "mydata.py:ds", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "No module named" not in done.stderr, done.stderr
    assert '"train"' in done.stdout and done.returncode in (0, 1), done.stderr


async def test_the_users_own_core_package_opens_in_the_app(project, monkeypatch):
    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.tui.app import AppOptions, build_app

    monkeypatch.chdir(project)
    app = build_app(AppOptions(spec=DatasetSpec("mydata.py:ds")))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.handle is not None, what="the user's dataset to open")
        assert len(app.handle.split("train")) == 40
        assert sys.modules["core"].__file__.startswith(str(project))
