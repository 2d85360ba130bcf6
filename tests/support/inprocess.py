"""Run the ``dataloupe`` command line inside the test process, as the console script would run it.

``dataloupe.tui.cli.entry.main`` is what the console script calls; calling it here with stdout and stderr
captured gives the same text and exit code without a new interpreter, which costs about 2 s of
CPU to import torch again (most of the suite's time on two cores was spent there). Tests
about the process itself still start one: the console script (test_cli), a fresh
interpreter's imports (test_core_isolation), signals (test_train_cli), closed pipes
(test_piped_output), a terminal (test_terminal, the tmux tests) and reproducibility across
processes (test_batches_cli).

What a run may change for the whole process is put back afterwards: the environment, the
current folder, ``sys.path`` (and the modules imported from ``cwd``), torch's thread count, the SIGINT/SIGTERM handlers and the
warning filters.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path


def run_main(
    *args: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``dataloupe ARGS`` in this process; stdout and stderr are pipes (not terminals), as under CI.

    ``env`` adds to (and overrides) the environment for this run only; ``cwd`` is the folder it runs in.
    """
    import torch

    from dataloupe.tui.cli.entry import main

    saved_env, saved_cwd, saved_path = dict(os.environ), os.getcwd(), list(sys.path)
    saved_modules = set(sys.modules)
    saved_threads = torch.get_num_threads()
    saved_signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    try:
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse: --help, and bad arguments (exit code 2)
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        if (
            cwd is not None
        ):  # the user's modules it imported from there go, as a new process would forget them
            for name in set(sys.modules) - saved_modules:
                if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(Path(cwd).resolve())):
                    del sys.modules[name]
        torch.set_num_threads(saved_threads)
        for sig, handler in saved_signals.items():
            signal.signal(sig, handler)
    return subprocess.CompletedProcess(["dataloupe", *argv], code, out.getvalue(), err.getvalue())
