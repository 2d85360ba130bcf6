"""Helpers the tests import by name (``from support.pilot import wait_for``).

- ``pilot``: the app through Pilot: ``settle``, ``wait_for``, ``screen_text``.
- ``terminal``: the installed program in a real terminal (tmux): ``Terminal``.
- ``keys``: ``burst`` (keys queued in one go, as one terminal write delivers them), ``active_pane``.
- ``inprocess``: ``run_main``, the command line run in this process.
- ``makers``: image folders, photo folders, training snapshots, a local HTTP mirror.
- ``runlogs``: TensorBoard, Lightning CSV, JSON Lines and trainer-state logs.
- ``process``: torch's threads per test worker and Pilot's idle wait (conftest calls them).
"""
