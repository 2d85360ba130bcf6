"""The headless sub-commands. Each module has ``add_arguments(parser)`` and ``run(args) -> int``.

They use ``core`` only, never textual, and print plain text when stdout is not a terminal.
"""
