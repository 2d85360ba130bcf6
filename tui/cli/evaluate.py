"""``dataloupe eval MODEL DATASET``: how a model does on a dataset, class by class.

MODEL is a checkpoint saved by dataloupe (rebuilt from the spec it stores and evaluated on the test
split through the pipeline it was trained with), or the user's own model as ``file.py:NAME`` or
``module:NAME`` (an ``nn.Module``, its class, or a function without arguments that returns one), with
``--weights`` read safely. A user's model is scored on the test split when the data has one, otherwise
on all of it, and the report has accuracy, per-class precision, recall and F1, the confusion matrix,
the most confused pairs, the worst mistakes and the calibration.

    dataloupe eval digits.pt digits
    dataloupe eval net.py:Net mnist --weights net.pt --normalize 0.1307,0.3081 --json
    dataloupe eval net.py:Net mydata.py:test --weights lightning.ckpt --min-accuracy 0.95

Exit codes: 0 done; 1 the accuracy is below ``--min-accuracy``; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import DEVICES
from dataloupe.core.training.metrics import OUTPUT_KINDS
from dataloupe.tui.cli.common import StderrProgress, add_dataset_arguments, open_for_command, spec_from_args

BAR_WIDTH = 20
"""Characters of the longest per-class bar."""
MATRIX_CLASSES = 20
"""Classes up to which the confusion matrix is printed as a table (beyond, it is in --json)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """MODEL first, then the shared dataset options, then the model's."""
    parser.add_argument(
        "checkpoint",
        metavar="MODEL",
        help="a file written by dataloupe train --save or the app, or your own model as path/to/file.py:NAME "
        "or package.module:NAME (an nn.Module, its class, or a function without arguments returning one)",
    )
    add_dataset_arguments(parser)
    parser.add_argument(
        "--weights",
        metavar="PATH",
        help="your model's weights: a state_dict, a dict holding one (a Lightning checkpoint), or a whole "
        "module saved with torch.save(model); read without running any code from the file",
    )
    parser.add_argument(
        "--outputs",
        choices=OUTPUT_KINDS,
        help="what your model returns (default: detected from the first batch)",
    )
    parser.add_argument(
        "--normalize",
        metavar="MEAN,STD",
        help="dataloupe's own sources: Normalize after ToTensor, as your model was trained "
        "(0.1307,0.3081; or all means then all stds, one per channel)",
    )
    parser.add_argument("--device", choices=DEVICES, default=DEVICES[0], help=f"default: {DEVICES[0]}")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument(
        "--min-accuracy", type=float, metavar="X", help="exit with code 1 when the accuracy is below X (0..1)"
    )
    parser.add_argument(
        "--mistakes", type=int, default=20, metavar="N", help="worst mistakes to list (default 20)"
    )


def parse_normalize(text: str | None) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """``--normalize MEAN,STD`` (or C means then C stds) as (means, stds)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or len(values) % 2 or any(v <= 0 for v in values[len(values) // 2 :]):
        raise SettingsError(
            f"--normalize must be MEAN,STD (0.1307,0.3081) or all means then all stds, stds above 0; got {text!r}."
        )
    half = len(values) // 2
    return tuple(values[:half]), tuple(values[half:])


def _below(accuracy: float, args: argparse.Namespace) -> bool:
    if args.min_accuracy is None or accuracy >= args.min_accuracy:
        return False
    print(
        f"dataloupe: accuracy {accuracy:.2%} is below --min-accuracy {args.min_accuracy:.2%}.",
        file=sys.stderr,
    )
    return True


def run(args: argparse.Namespace) -> int:
    """Load, evaluate, print; DataloupeError becomes exit code 2 in the caller."""
    from dataloupe.core.training.user_model import is_code_model

    if args.min_accuracy is not None and not 0 <= args.min_accuracy <= 1:
        raise SettingsError(f"--min-accuracy is a share between 0 and 1, not {args.min_accuracy}.")
    if is_code_model(args.checkpoint):
        return run_user_model(args)
    if args.weights or args.outputs or args.normalize:
        raise SettingsError(
            f"{args.checkpoint} is a checkpoint file, which holds its weights and pipeline: --weights, "
            "--outputs and --normalize apply to your own model (path/to/file.py:NAME)."
        )
    return run_checkpoint(args)


# ---------------------------------------------------------------------- the user's own model
def run_user_model(args: argparse.Namespace) -> int:
    """``dataloupe eval file.py:NAME DATA``: the full report."""
    from dataloupe.core.training.user_model import evaluate_on_dataset, load_user_model

    normalize = parse_normalize(args.normalize)
    model = load_user_model(args.checkpoint, args.weights, args.outputs)
    handle = open_for_command(spec_from_args(args))
    progress = StderrProgress()
    try:
        result, split, device_notes = evaluate_on_dataset(
            model, handle, args.device, normalize=normalize, progress=progress
        )
    finally:
        progress.done()
    name = split.name
    notes = [*device_notes, *result.notes]
    if args.json:
        record: dict[str, Any] = {
            "model": model.describe(),
            "weights": str(model.weights) if model.weights else None,
            "dataset": handle.name,
            "split": name,
            "transform": split.pipeline.describe(),
            **result.to_json(args.mistakes),
        }
        record["notes"] = notes
        print(json.dumps(record))
    else:
        print_report(
            model.describe(), f"{handle.name} {name}", split.pipeline.describe(), notes, result, args.mistakes
        )
    return 1 if _below(result.accuracy, args) else 0


def _pct(value: float | None) -> str:
    return "     —" if value is None else f"{value:6.1%}"


def print_report(title: str, data: str, transform: str, notes: list[str], result, mistakes: int) -> None:
    """The text report of a :class:`~dataloupe.core.training.metrics.ModelReport`."""
    print(title)
    print(f"transform: {transform}")
    for note in notes:
        print(f"note: {note}")
    correct = sum(result.confusion[k][k] for k in range(len(result.confusion)))
    print(
        f"accuracy on {data}: {result.accuracy:.1%} ({correct:,} of {result.samples:,} samples), "
        f"loss {result.loss:.4f}"
    )
    width = max(5, *(len(c.name) for c in result.per_class))
    print(f"  {'class':>{width}} precision  recall      F1  support")
    for c in result.per_class:
        print(f"  {c.name:>{width}}    {_pct(c.precision)}  {_pct(c.recall)}  {_pct(c.f1)}  {c.support:7,}")
    k = len(result.confusion)
    if k <= MATRIX_CLASSES:
        cell = max(
            4,
            len(str(max(max(r) for r in result.confusion))) + 1,
            *(len(c.name) + 1 for c in result.per_class),
        )
        print("confusion matrix (rows: true class, columns: predicted):")
        print(" " * (width + 2) + "".join(f"{result.name(j):>{cell}}" for j in range(k)))
        for i, row in enumerate(result.confusion):
            print(f"  {result.name(i):>{width}}" + "".join(f"{v:>{cell}}" for v in row))
    else:
        print(f"confusion matrix: {k}×{k}, in --json")
    if result.confused_pairs:
        print("most confused:")
        for t, p, n in result.confused_pairs:
            print(f"  {result.pair_text(t, p, n)}")
    if result.mistakes:
        shown = result.mistakes[:mistakes]
        print(f"worst mistakes ({len(shown)} of {len(result.mistakes):,}, highest loss first):")
        for m in shown:
            where = f"  {m.where}" if m.where else ""
            print(
                f"  sample {m.index:>6,}: given {result.name(m.label)}, predicted {result.name(m.predicted)} "
                f"at {m.confidence:.1%}, loss {m.loss:.2f}{where}"
            )
    filled = [b for b in result.bins if b.count]
    print(f"calibration: ECE {result.ece:.2%} over {len(result.bins)} confidence bins")
    for b in filled:
        print(
            f"  confidence {b.low:.2f}–{b.high:.2f}: {b.count:7,} samples, mean confidence "
            f"{b.confidence:.1%}, accuracy {b.accuracy:.1%}"
        )


# ---------------------------------------------------------------------- a dataloupe checkpoint
def run_checkpoint(args: argparse.Namespace) -> int:
    """``dataloupe eval model.pt DATA``: test accuracy and per-class accuracy of a saved checkpoint."""
    from dataloupe.core.training.checkpoint import load_checkpoint
    from dataloupe.core.training.evaluation import evaluate_on_test

    checkpoint = load_checkpoint(args.checkpoint)
    handle = open_for_command(spec_from_args(args))
    result, notes = evaluate_on_test(checkpoint, handle, device=args.device)
    names = list(handle.classes)
    if args.json:
        record: dict[str, Any] = {
            "checkpoint": checkpoint.source,
            "model": checkpoint.name,
            "dataset": handle.name,
            "test_accuracy": result.accuracy,
            "test_loss": result.loss,
            "samples": result.samples,
            "per_class_accuracy": {names[k]: a for k, a in enumerate(result.per_class)},
            "saved_test_accuracy": checkpoint.metrics.get("test_accuracy"),
            "notes": notes,
        }
        print(json.dumps(record))
        return 1 if _below(result.accuracy, args) else 0
    correct = sum(result.confusion[k][k] for k in range(len(names)))
    print(checkpoint.describe())
    for note in notes:
        print(f"note: {note}")
    print(
        f"test accuracy on {handle.name}: {result.accuracy:.1%} ({correct:,} of {result.samples:,} samples), "
        f"loss {result.loss:.4f}"
    )
    print("per-class accuracy:")
    width = max(len(n) for n in names)
    for k, acc in enumerate(result.per_class):
        n = sum(result.confusion[k])
        if acc is None:
            print(f"  {names[k]:>{width}}      —  (no test samples)")
            continue
        bar = "█" * round(acc * BAR_WIDTH)
        print(f"  {names[k]:>{width}} {acc:6.1%}  {bar:<{BAR_WIDTH}}  ({n:,})")
    return 1 if _below(result.accuracy, args) else 0
