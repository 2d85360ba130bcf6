"""The command line: ``dataloupe`` starts the app; its sub-commands run headless.

- ``entry``: ``main``, the entry point; parses the options and starts the app or a command.
- ``common``: the options that name a dataset, shared by every command, and stderr progress.
- ``check``, ``batches``, ``train``, ``evaluate``: one module per sub-command, each with
  ``add_arguments(parser)`` and ``run(args) -> int``. They use ``core`` only, never textual,
  and print plain text when stdout is not a terminal.
"""

from dataloupe.tui.cli.entry import main

__all__ = ["main"]
