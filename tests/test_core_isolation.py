"""core never imports a UI library, and the app does not import torch before its first screen."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import dataloupe.core

UI_MODULES = ("textual", "plotext", "textual_plotext", "rich")


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(dataloupe.core.__path__, "dataloupe.core."))


def test_every_core_module_imports_without_ui_libraries():
    modules = _core_modules()
    assert (
        "dataloupe.core.data.datasets" in modules and "dataloupe.core.readers.idx" in modules
    )  # the walk found the package
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in {UI_MODULES!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_app_module_does_not_import_torch():
    code = "import sys, dataloupe.tui.app, dataloupe.tui.cli\nprint('torch' in sys.modules, 'torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_sources_is_torch_free():
    code = "import sys, dataloupe.core.data.sources\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_training_settings_and_their_form_are_torch_free():
    """The form draws its defaults before torch loads: dataloupe.core.settings and the form must not pull it in."""
    code = "import sys, dataloupe.core.settings, dataloupe.tui.widgets.train_settings, dataloupe.tui.cli.train\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_package_is_listed_for_installation():
    """A package folder that pyproject's list misses would be left out of `pip install .`."""
    import pathlib
    import tomllib

    root = pathlib.Path(__file__).resolve().parent.parent
    settings = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(("dataloupe", *p.parent.relative_to(root).parts))
        for top in ("core", "tui")
        for p in (root / top).rglob("__init__.py")
    }
    assert on_disk == set(settings["packages"])
    assert {"dataloupe.core.readers", "dataloupe.core.training", "dataloupe.tui.panes"} <= on_disk
    assert settings["package-dir"] == {"dataloupe.core": "core", "dataloupe.tui": "tui"}
    assert settings["package-data"]["*"] == ["*.tcss"]  # each pane's stylesheet travels with it


def test_the_data_side_never_imports_training():
    """Readers, batching, checks and statistics sit below training: none of them pulls it in."""
    below = [
        m for m in _core_modules() if m.split(".")[2] in ("data", "readers", "batching", "checks", "stats")
    ]
    assert "dataloupe.core.readers.idx" in below and "dataloupe.core.checks.checklist" in below
    code = (
        "import importlib, json, sys\n"
        f"for m in {below!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(k for k in sys.modules if k.startswith('dataloupe.core.training'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_training_package_exports_what_its_docstring_lists():
    """Each lazily exported name resolves, and importing the package alone does not load torch."""
    code = (
        "import sys, dataloupe.core.training as t\n"
        "before = 'torch' in sys.modules\n"
        "missing = [n for n in t.__all__ if getattr(t, n, None) is None]\n"
        "print(before, missing, all(f'``{n}``' in t.__doc__ for n in t.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False [] True"
