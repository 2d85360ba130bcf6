"""Keep Python's garbage collector off the objects that live as long as the app.

A full collection walks every tracked object and stops every thread while it does. torch
brings about 250,000 of them, and the first training run adds as many again: creating any
torch optimizer imports ``torch._dynamo`` (900 modules, sympy among them). Measured in bench_keys runs, each full collection then took 130-330 ms, a dozen times a
minute, and a key pressed meanwhile waited. :func:`freeze_long_lived` moves the objects alive
at that moment (modules, mostly) to a generation collections skip; garbage made later is
collected as before. The app and the headless commands freeze once torch is loaded, and the
training pane again after its first run has begun.

Each moment freezes once per process: the modules load once, and an app started again in the
same process (the tests start hundreds) must not have its widgets kept forever.
"""

from __future__ import annotations

import gc

_done: set[str] = set()


def freeze_long_lived(moment: str) -> None:
    """Exempt every object alive now from future collections, the first time ``moment`` comes in this
    process (call it once the heavy imports are done: "torch loaded", "first training run")."""
    if moment in _done:
        return
    _done.add(moment)
    gc.freeze()
