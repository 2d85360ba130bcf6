"""The ``dataloupe`` command: start the app, or run a check, batches, training or evaluation headless.

    dataloupe                      # the app, on the bundled digits
    dataloupe mnist --root ~/data  # the app, on MNIST under ~/data
    dataloupe check data/wine.csv --threshold 5.5

Exit codes: 0 success; 1 a ``--strict`` check warned; 2 bad input or a failed check.

The app needs a terminal: one on stdin for its keys, and one to draw on, stderr as Textual
chooses or stdout when stderr goes to a file (``dataloupe 2>err.log``, which then gets only the
messages). Without one, or under ``TERM=dumb``, it says so and exits 2; the commands run anywhere,
and a closed stdout (``>&-``) is treated as a pipe whose reader has gone.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from dataloupe.core.errors import DataloupeError
from dataloupe.core.threads import set_threads
from dataloupe.tui.cli.common import (
    add_dataset_arguments,
    end_output_quietly,
    reopen_closed_streams,
    spec_from_args,
    warn,
)
from dataloupe.tui.terminal import set_frame_rate

COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("dataloupe.tui.cli.check", "run the data checklist and print the class table"),
    "batches": ("dataloupe.tui.cli.batches", "print DataLoader batches as training sees them"),
    "train": ("dataloupe.tui.cli.train", "train a small model without the app"),
    "eval": ("dataloupe.tui.cli.evaluate", "evaluate a saved checkpoint on a dataset's test split"),
    "curve": ("dataloupe.tui.cli.curve", "would more data help? learning curves of data size and shape"),
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
        "--model",
        metavar="FILE.py:NAME",
        help="your own model (an nn.Module, its class, or a function returning one): the training pane "
        "loads it and shows its per-class results and worst mistakes on the dataset",
    )
    parser.add_argument(
        "--weights",
        metavar="PATH",
        help="its weights: a state_dict, a Lightning checkpoint or a saved module",
    )
    parser.add_argument(
        "--ascii",
        action="store_true",
        help="draw the whole screen with 7-bit ASCII characters (the default when the locale is not UTF-8)",
    )
    return parser


def fail(message: str) -> int:
    """Print a message for the user on stderr and return exit code 2."""
    warn(message)
    return 2


def check_model_options(model: str | None, weights: str | None) -> None:
    """Refuse ``--weights`` without ``--model``, and a ``--model`` that names no code, before the app starts."""
    from dataloupe.core.data.sources import code_source
    from dataloupe.core.errors import SettingsError

    if weights and not model:
        raise SettingsError("--weights needs --model: name your model as path/to/file.py:NAME.")
    if model and code_source(model) is None:
        raise SettingsError(f"--model {model}: expected path/to/file.py:NAME or package.module:NAME.")


def terminal_problem(environ=None) -> str | None:
    """Why the app cannot run here, or None: it reads keys from stdin and draws full-screen with
    escape codes, so it needs a terminal on stdin, one on stdout or stderr, and a ``TERM`` that is not
    ``dumb``."""
    env = os.environ if environ is None else environ
    commands = "the commands (dataloupe check, batches, train, eval, watch --once) run without one"
    if not _isatty(0):
        return f"the app needs a terminal: it reads keys from stdin, which is not one here. {commands.capitalize()}."
    if not (_isatty(1) or _isatty(2)):
        return f"the app needs a terminal to draw on, and neither stdout nor stderr is one. {commands.capitalize()}."
    if env.get("TERM", "") == "dumb":
        return (
            "the app needs a terminal that understands cursor movement and colour, and TERM=dumb says this "
            "one does not. Run it in a full terminal (xterm, tmux, a terminal emulator's default TERM); "
            f"{commands}."
        )
    return None


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def draw_on_the_terminal() -> int | None:
    """Textual draws on stderr. When stderr goes to a file but stdout is a terminal
    (``dataloupe 2>err.log``), point stderr at the terminal for the app's life and return a copy of
    the file's descriptor, which :func:`messages_back_to_stderr` puts back; None when nothing moved."""
    if _isatty(2) or not _isatty(1):
        return None
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(1, 2)
    return saved


def messages_back_to_stderr(saved: int | None) -> None:
    """Undo :func:`draw_on_the_terminal`: what is written to stderr from now on goes to the file again."""
    if saved is None:
        return
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dataloupe`` console script and of ``python -m dataloupe.tui``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    set_frame_rate()  # before Textual is imported (the app and `watch`), which reads it once
    reopen_closed_streams()  # `dataloupe check digits >&-`: the output goes nowhere, as into a closed pipe
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
            from dataloupe.core.memory import is_out_of_memory, out_of_memory_message

            if is_out_of_memory(
                e
            ):  # numpy reading a file, torch building a model: not a bug, too little memory
                return fail(out_of_memory_message(e))
            return fail(
                f"unexpected error: {type(e).__name__}: {e}\n"
                "This is a bug in dataloupe; DATALOUPE_DEBUG=1 shows where it happened."
            )

    args = app_parser().parse_args(argv)
    try:
        spec = spec_from_args(args)
        spec.reader()  # a path that does not exist fails here, before the app starts
        check_model_options(args.model, args.weights)
    except DataloupeError as e:
        return fail(str(e))
    problem = terminal_problem()
    if problem is not None:
        return fail(problem)

    from dataloupe.tui.app import AppOptions, build_app
    from dataloupe.tui.terminal import locale_is_utf8

    set_threads()  # once, before the app's workers start (the training pane's among them)

    ascii_only = args.ascii or not locale_is_utf8()
    options = AppOptions(
        spec=spec,
        split=args.split,
        ascii=ascii_only,
        model=args.model,
        weights=args.weights,
        start_pane="training" if args.model else "preview",
    )
    return run_app(build_app(options))


def run_app(app) -> int:
    """Run the app on the terminal (stdout when stderr goes to a file) and return its exit code; every
    start of the app comes through here, after :func:`terminal_problem` found none.

    Afterwards stderr gets the app's farewell (where a hang-up kept the model), and a thread left in
    the user's code (a ``__getitem__`` that never returns) is left behind: the process ends at once,
    instead of Python waiting for it for ever.
    """
    saved_stderr = draw_on_the_terminal()
    try:
        app.run()
    finally:
        messages_back_to_stderr(saved_stderr)
    code = app.return_code or 0
    farewell = getattr(app, "farewell", "")
    if farewell:
        warn(farewell)
    from dataloupe.core.user_calls import running_calls

    stuck = running_calls()
    if stuck:  # a thread in the user's code cannot be stopped, and Python would wait for it at exit
        warn(f"{stuck[0].describe()}; it was left behind when the app quit.")
        sys.stdout.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
