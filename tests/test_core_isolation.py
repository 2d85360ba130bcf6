"""core never imports a UI library, and the app does not import torch before its first screen."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import core

UI_MODULES = ("textual", "plotext", "textual_plotext", "rich")


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


def test_every_core_module_imports_without_ui_libraries():
    modules = _core_modules()
    assert "core.datasets" in modules and "core.readers.idx" in modules  # the walk found the package
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in {UI_MODULES!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_app_module_does_not_import_torch():
    code = "import sys, tui.app, tui.cli\nprint('torch' in sys.modules, 'torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_sources_is_torch_free():
    code = "import sys, core.sources\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_training_settings_and_their_form_are_torch_free():
    """The form draws its defaults before torch loads: core.settings and the form must not pull it in."""
    code = (
        "import sys, core.settings, tui.widgets.train_settings, tui.cli.train\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_package_is_found_for_installation():
    """A sub-package that pyproject's package search misses would be left out of `pip install .`."""
    import pathlib
    import tomllib

    from setuptools import find_packages

    root = pathlib.Path(__file__).resolve().parent.parent
    settings = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(str(root), include=settings["packages"]["find"]["include"]))
    on_disk = {
        ".".join(p.parent.relative_to(root).parts)
        for top in ("core", "tui")
        for p in (root / top).rglob("__init__.py")
    }
    assert on_disk == found
    assert {"core.readers", "tui.cli", "tui.panes"} <= found
    assert settings["package-data"]["*"] == ["*.tcss"]  # each pane's stylesheet travels with it
