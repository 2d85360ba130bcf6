"""``dataloupe curve DATASET``: would more data help? Learning curves of data size against network shape.

Trains the built-in model on growing class-stratified shares of the training split (5 sizes from
5% to 100% by default) for networks with the same hidden units arranged wide or deep (1×96, 2×48,
4×24), 2 seeds a point, each scored on the whole test split
(:mod:`dataloupe.core.training.curve`). Prints a table per network and a plain verdict; ``--json``
gives one object with every point and the verdict. Progress goes to stderr on a terminal. Ctrl-C
or SIGTERM stops at the next step and still prints the points measured.

    dataloupe curve digits
    dataloupe curve mnist --root ~/data --epochs 1 --depths 1,2 --json > curve.json
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from dataloupe.core.training.curve.points import (
    DEFAULT_MIN_STEPS,
    DEFAULT_REPEATS,
    DEFAULT_SIZES,
    DEFAULT_SMALLEST,
    DEFAULT_UNITS,
    CurvePlan,
    CurveResult,
    format_depths,
    parse_depths,
)
from dataloupe.tui.cli.common import (
    StderrProgress,
    add_dataset_arguments,
    open_for_command,
    spec_from_args,
    whole,
)
from dataloupe.tui.cli.train import add_training_options, config_from_args

DEFAULT_DEPTHS_TEXT = format_depths(CurvePlan().depths)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options, the training options ``train`` has, and the sweep's own."""
    add_dataset_arguments(parser)
    add_training_options(parser)
    group = parser.add_argument_group("learning curve")
    group.add_argument(
        "--units",
        type=whole(1),
        default=DEFAULT_UNITS,
        metavar="N",
        help=f"hidden units of every network, shared out among its layers (default {DEFAULT_UNITS})",
    )
    group.add_argument(
        "--depths",
        default=DEFAULT_DEPTHS_TEXT,
        metavar="D,D,...",
        help=f"hidden layers of each network compared (default {DEFAULT_DEPTHS_TEXT}: 1×96, 2×48, 4×24)",
    )
    group.add_argument(
        "--sizes",
        type=whole(0),
        default=DEFAULT_SIZES,
        metavar="K",
        help=f"training sizes, spaced geometrically up to the whole split (default {DEFAULT_SIZES})",
    )
    group.add_argument(
        "--smallest",
        type=float,
        default=DEFAULT_SMALLEST,
        metavar="SHARE",
        help=f"share of the training split at the smallest size (default {DEFAULT_SMALLEST:g})",
    )
    group.add_argument(
        "--repeats",
        type=whole(0),
        default=DEFAULT_REPEATS,
        metavar="R",
        help=f"seeds per point, to show the spread (default {DEFAULT_REPEATS})",
    )
    group.add_argument(
        "--min-steps",
        type=whole(0),
        default=DEFAULT_MIN_STEPS,
        metavar="STEPS",
        help="every point trains for the steps of --epochs passes over the whole training split, and "
        f"at least this many, so that sizes differ only in the data (default {DEFAULT_MIN_STEPS})",
    )
    group.add_argument("--json", action="store_true", help="one JSON object: every point and the verdict")


def plan_from_args(args: argparse.Namespace) -> CurvePlan:
    """The :class:`CurvePlan` the options describe; SettingsError when one cannot work."""
    plan = CurvePlan(
        units=args.units,
        depths=parse_depths(args.depths),
        sizes=args.sizes,
        smallest=args.smallest,
        repeats=args.repeats,
        min_steps=args.min_steps,
    )
    plan.validate()
    return plan


def run(args: argparse.Namespace) -> int:
    """Measure and print; 0 when every point was measured, 2 when the sweep failed, 128 + the signal's
    number when stopped (the points measured are printed all the same)."""
    config = config_from_args(args)
    plan = plan_from_args(args)
    from dataloupe.core.progress import Progress
    from dataloupe.core.training.curve.sweep import CurveSweep

    handle = open_for_command(spec_from_args(args))
    cancel = threading.Event()
    shown = StderrProgress()

    def on_progress(r: CurveResult) -> None:
        if not r.ended:
            shown(Progress(f"{len(r.points)}/{r.total} points · {r.current}", r.fraction, 1.0))

    sweep = CurveSweep(handle, config, plan, cancel=cancel, on_progress=on_progress)
    stopped_by: list[int] = []

    def stop(signum, frame) -> None:  # the first Ctrl-C or SIGTERM stops at the next step; a second at once
        stopped_by.append(signum)
        cancel.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = sweep.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shown.done()
    from dataloupe.core.training.curve.verdict import judge

    verdict = judge(result)
    if args.json:
        print(json.dumps({**result.to_dict(), **verdict.to_dict()}))
    else:
        print(
            report(result, config_summary=f"{config.optimizer} lr {config.lr:g}, batch {config.batch_size}")
        )
    if result.state == "failed":
        return 2
    if result.state == "stopped":
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    return 0


def report(result: CurveResult, config_summary: str = "") -> str:
    """The sweep as text: what was measured, a table per network, the verdict and the best shape by size."""
    from dataloupe.core.training.curve.verdict import judge, percent

    seeds = len(result.seeds)
    lines = [
        f"learning curve of {result.dataset}: {len(result.networks)} networks × {len(result.sizes)} sizes × "
        f"{seeds} seed{'s' if seeds != 1 else ''} = {result.total} points of {result.steps_per_point:,} steps"
        + (f" ({config_summary})" if config_summary else ""),
        f"tested on all {result.test_samples:,} test samples; {result.device}; {result.elapsed:.1f} s",
        *(f"note: {n}" for n in result.notes),
    ]
    for network in result.networks:
        lines += [
            "",
            f"{network.name}  {network.description}  {network.params:,} parameters",
            f"  {'samples':>9} {'share':>6} {'per class':>10} {'train %':>8} {'test %':>7} {'spread':>7}",
        ]
        for size in result.sizes:
            cell = result.cell(network.name, size.samples)
            if cell is None:
                measured = f"{'-':>8} {'-':>7} {'-':>7}"
            else:
                spread = f"{100 * cell.spread:7.1f}" if cell.spread is not None else f"{'-':>7}"
                measured = f"{100 * cell.train:8.1f} {100 * cell.test:7.1f} {spread}"
            lines.append(
                f"  {size.samples:>9,} {percent(size.share):>6} {size.per_class_text():>10} {measured}"
            )
    verdict = judge(result)
    lines += ["", verdict.text]
    if verdict.best:
        lines.append(verdict.best)
    if result.message:
        lines.append(result.message)
    return "\n".join(lines)
