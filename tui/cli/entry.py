"""The ``dataloupe`` command: start the app, or run a check, batches, training or evaluation headless.

    dataloupe                      # the app, on the bundled digits
    dataloupe mnist --root ~/data  # the app, on MNIST under ~/data
    dataloupe check data/wine.csv --threshold 5.5

Exit codes: 0 success; 1 a ``--strict`` check warned; 2 bad input or a failed check.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from dataloupe.core.errors import DataloupeError
from dataloupe.core.threads import set_threads
from dataloupe.tui.cli.common import add_dataset_arguments, end_output_quietly, spec_from_args

COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("dataloupe.tui.cli.check", "run the data checklist and print the class table"),
    "batches": ("dataloupe.tui.cli.batches", "print DataLoader batches as training sees them"),
    "train": ("dataloupe.tui.cli.train", "train a small model without the app"),
    "eval": ("dataloupe.tui.cli.evaluate", "evaluate a saved checkpoint on a dataset's test split"),
    "watch": (
        "dataloupe.tui.cli.watch",
        "watch training runs from their logs (TensorBoard, CSV, JSON Lines)",
    ),
}
"""Sub-command → (module, one-line help). Each module has ``add_arguments(parser)`` and ``run(args)``."""


def _available_commands() -> dict[str, tuple[str, str]]:
    found = {}
    for name, (module, about) in COMMANDS.items():
        try:
            if importlib.util.find_spec(module) is not None:
                found[name] = (module, about)
        except ModuleNotFoundError:  # a broken install: the app still starts, the command is not offered
            continue
    return found


class Parser(argparse.ArgumentParser):
    """argparse that prefixes errors with the program name and exits with code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def app_parser() -> argparse.ArgumentParser:
    commands = _available_commands()
    epilog = "commands (dataloupe COMMAND --help for their options):\n" + "\n".join(
        f"  {name:<9} {about}" for name, (_, about) in commands.items()
    )
    parser = Parser(
        prog="dataloupe",
        description="Is this data ready to train on? A terminal app to look at a dataset, its balance and "
        "its batches, and to watch a small model learn from it.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dataset_arguments(parser)
    parser.add_argument(
        "--ascii",
        action="store_true",
        help="draw the whole screen with 7-bit ASCII characters (the default when the locale is not UTF-8)",
    )
    return parser


def fail(message: str) -> int:
    """Print a message for the user on stderr and return exit code 2."""
    print(f"dataloupe: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dataloupe`` console script and of ``python -m dataloupe.tui``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available_commands()
    if argv and argv[0] in commands:
        module = importlib.import_module(commands[argv[0]][0])
        parser = Parser(prog=f"dataloupe {argv[0]}", description=commands[argv[0]][1])
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        try:
            set_threads(getattr(args, "threads", 0))  # once, before any work: never from a worker
            return int(module.run(args))
        except BrokenPipeError:
            end_output_quietly()  # `dataloupe train … | head`: the reader has what it wanted
            return 0
        except DataloupeError as e:
            return fail(str(e))
        except KeyboardInterrupt:
            return fail("interrupted.")
        except Exception as e:  # noqa: BLE001 - the last line of defence: a message, not a traceback
            if os.environ.get("DATALOUPE_DEBUG"):
                raise
            return fail(
                f"unexpected error: {type(e).__name__}: {e}\n"
                "This is a bug in dataloupe; DATALOUPE_DEBUG=1 shows where it happened."
            )

    args = app_parser().parse_args(argv)
    try:
        spec = spec_from_args(args)
        spec.reader()  # a path that does not exist fails here, before the app starts
    except DataloupeError as e:
        return fail(str(e))

    from dataloupe.tui.app import AppOptions, build_app
    from dataloupe.tui.terminal import locale_is_utf8

    set_threads()  # once, before the app's workers start (the training pane's among them)

    ascii_only = args.ascii or not locale_is_utf8()
    app = build_app(AppOptions(spec=spec, split=args.split, ascii=ascii_only))
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
