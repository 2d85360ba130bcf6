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
from pathlib import Path

from core.errors import DataloupeError
from core.sources import BUILTINS, BUNDLED, DatasetSpec

COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("tui.commands.check", "run the data checklist and print the class table"),
    "batches": ("tui.commands.batches", "print DataLoader batches as training sees them"),
    "train": ("tui.commands.train", "train a small model without the app"),
    "eval": ("tui.commands.evaluate", "evaluate a saved checkpoint on a dataset's test split"),
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


def add_dataset_arguments(parser: argparse.ArgumentParser, *, dataset_optional: bool = True) -> None:
    """The options every command shares to name a dataset."""
    names = ", ".join(BUILTINS)
    parser.add_argument(
        "dataset",
        nargs="?" if dataset_optional else None,
        default=BUNDLED,
        metavar="DATASET",
        help=f"a built-in name ({names}; default {BUNDLED}), a folder of images in class sub-folders "
        "(train/ and test/ inside make the splits), a folder of IDX files, or a .csv table",
    )
    parser.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="folder for torchvision datasets (default: a per-user data folder)",
    )
    parser.add_argument(
        "--download", action="store_true", help="download a torchvision dataset that is not under the root"
    )
    parser.add_argument(
        "--split",
        choices=("train", "test"),
        default="train",
        help="split to show or check first (default: train)",
    )
    parser.add_argument("--label", metavar="COLUMN", help="CSV: the label column (default: the last column)")
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="CSV: two classes from a numeric label, low (<= T) and high (> T)",
    )


def spec_from_args(args: argparse.Namespace) -> DatasetSpec:
    return DatasetSpec(
        source=args.dataset,
        root=args.root,
        download=args.download,
        label=args.label,
        threshold=args.threshold,
    )


class StderrProgress:
    """Progress of long work on stderr, for the headless commands.

    On a terminal one line is redrawn in place (a few times a second) and cleared by
    :meth:`done`; otherwise (nohup, a batch scheduler) only downloads are reported, one plain
    line per tenth of a file, so logs stay short and free of escape codes.
    """

    def __init__(self) -> None:
        from core.progress import Throttle

        self.tty = sys.stderr.isatty()
        """Whether stderr is a terminal."""
        self._throttle = Throttle()
        self._steps: dict[str, int] = {}
        self._drawn = False

    def __call__(self, p) -> None:
        if self.tty:
            if self._throttle.ready(final=p.fraction == 1.0):
                share = f" {p.fraction:.0%}" if p.fraction is not None else ""
                sys.stderr.write(f"\r\x1b[2K{p.what}{share}")
                sys.stderr.flush()
                self._drawn = True
        elif p.fraction is not None and p.what.startswith("downloading"):
            step = int(p.fraction * 10)
            if self._steps.get(p.what) != step:
                self._steps[p.what] = step
                print(f"{p.what}: {step * 10}%", file=sys.stderr)

    def done(self) -> None:
        """Clear the progress line."""
        if self._drawn:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self._drawn = False


def open_for_command(spec: DatasetSpec, progress: StderrProgress | None = None):
    """Open a dataset for a headless command, with download and reading progress on stderr."""
    import gc

    from core.datasets import open_dataset

    shown = progress or StderrProgress()
    try:
        handle = open_dataset(spec, progress=shown)
    finally:
        if progress is None:
            shown.done()
    # torch's and the dataset's long-lived objects need never be scanned again by the collector
    gc.freeze()
    return handle


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
    parser.add_argument("--ascii", action="store_true", help="draw samples with ASCII characters only")
    return parser


def fail(message: str) -> int:
    """Print a message for the user on stderr and return exit code 2."""
    print(f"dataloupe: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dataloupe`` console script and of ``python -m tui``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available_commands()
    if argv and argv[0] in commands:
        module = importlib.import_module(commands[argv[0]][0])
        parser = Parser(prog=f"dataloupe {argv[0]}", description=commands[argv[0]][1])
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        try:
            return int(module.run(args))
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
    spec = spec_from_args(args)
    try:
        spec.kind()  # a path that does not exist fails here, before the app starts
    except DataloupeError as e:
        return fail(str(e))

    from tui.app import AppOptions, build_app

    app = build_app(AppOptions(spec=spec, split=args.split, ascii=args.ascii))
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
