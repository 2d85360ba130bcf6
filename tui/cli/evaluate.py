"""``dataloupe eval CHECKPOINT DATASET``: test accuracy and per-class accuracy of a saved model.

The checkpoint is loaded without unpickling any Python object, rebuilt from the spec it
stores, and evaluated on the dataset's test split through the pipeline it was trained
with. A checkpoint that does not fit the dataset (input shape, class count) is refused.

    dataloupe eval digits.pt digits
    dataloupe eval mnist.pt mnist --root ~/data --json
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from dataloupe.core.settings import DEVICES
from dataloupe.tui.cli.common import add_dataset_arguments, open_for_command, spec_from_args

BAR_WIDTH = 20
"""Characters of the longest per-class bar."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The checkpoint first, then the shared dataset options."""
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a file written by dataloupe train --save or the app"
    )
    add_dataset_arguments(parser)
    parser.add_argument("--device", choices=DEVICES, default=DEVICES[0], help=f"default: {DEVICES[0]}")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    """Load, evaluate, print; CheckpointError and DatasetError become exit code 2 in the caller."""
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
        return 0
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
    return 0
