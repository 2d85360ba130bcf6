"""``dataloupe batches``: print DataLoader batches as training sees them, without the app.

    dataloupe batches digits --batch-size 10 --count 3 --epochs 2
    dataloupe batches wine.csv --threshold 4.5 --sampler balanced --batch-size 64 --count 20 --json

Text by default (plain, no escape codes), or ``--json``: one JSON object per batch and line,
with shapes, dtypes, labels and statistics. Bad settings exit with code 2 and a message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from dataloupe.core.batching import SAMPLER_NAMES, LoaderSettings, check_batch_count
from dataloupe.core.settings import parse_whole
from dataloupe.tui.cli.common import add_dataset_arguments, open_for_command, spec_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options, the loader settings, and what to print."""
    add_dataset_arguments(parser)
    defaults = LoaderSettings()
    # Numbers are read as text and checked by dataloupe.core.batching, so a bad value gets the same clear
    # message here as in the app ("--batch-size must be a whole number ≥ 1, got 0").
    parser.add_argument(
        "--batch-size",
        default=str(defaults.batch_size),
        metavar="N",
        help=f"samples per batch (default {defaults.batch_size})",
    )
    parser.add_argument("--count", default="3", metavar="K", help="batches to print per epoch (default 3)")
    parser.add_argument("--epochs", default="1", metavar="E", help="passes over the loader (default 1)")
    parser.add_argument(
        "--no-shuffle",
        dest="shuffle",
        action="store_false",
        help="keep the dataset's order (the sequential sampler then reads samples 0, 1, 2, …)",
    )
    parser.add_argument(
        "--seed",
        default=str(defaults.seed),
        metavar="S",
        help=f"seed of the generator behind every epoch's order (default {defaults.seed})",
    )
    parser.add_argument(
        "--sampler",
        choices=SAMPLER_NAMES,
        default=defaults.sampler,
        help="sequential (random when shuffling), random, or balanced: each class equally likely, "
        "drawn with replacement (default sequential)",
    )
    parser.add_argument(
        "--drop-last", action="store_true", help="drop the last batch when it is smaller than the batch size"
    )
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="Normalize(mean, std) with the dataset's own mean and std after scaling",
    )
    parser.add_argument(
        "--augment", action="store_true", help="images: a small random rotation and shift (and flip for RGB)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per batch and line")


def settings_from_args(args: argparse.Namespace) -> LoaderSettings:
    """The loader settings the options ask for; raises ``SettingsError`` naming the option."""
    return LoaderSettings.parse(
        args.batch_size,
        args.seed,
        shuffle=args.shuffle,
        drop_last=args.drop_last,
        sampler=args.sampler,
        names=("--batch-size", "--seed"),
    )


def run(args: argparse.Namespace) -> int:
    """Open the dataset, step through ``--epochs`` epochs of ``--count`` batches, print each."""
    # Check every setting before opening the dataset, which may take a while.
    settings = settings_from_args(args)
    count = parse_whole(args.count, "--count")
    epochs = parse_whole(args.epochs, "--epochs")

    from dataloupe.core.batching.user_loader import stepper_for

    handle = open_for_command(spec_from_args(args))
    split_name = handle.default_split(args.split)
    mode = "normalized" if args.normalize else "scaled"
    split = handle.split(split_name, handle.pipeline.with_(mode=mode, augment=args.augment))
    stepper = stepper_for(handle, split, settings)
    settings = stepper.settings  # your DataLoader's own when the dataset is one
    if stepper.batches_per_epoch:  # a stream's length is unknown
        count = check_batch_count(count, stepper.batches_per_epoch, "--count")

    out = sys.stdout
    try:
        if not args.json:
            print(_header(handle, split, settings, stepper.batches_per_epoch, args), file=out)
        for e in range(epochs):
            if e:
                stepper.new_epoch()
            for _ in range(count):
                summary = stepper.step().summary
                if args.json:
                    record = {"dataset": handle.name, "split": split.name, **summary.to_json()}
                    print(json.dumps(record), file=out)
                else:
                    print("\n" + summary.text(), file=out)
            if not args.json and settings.effective_sampler == "balanced":
                print("\n" + stepper.current.summary.counts_text(), file=out)  # type: ignore[union-attr]
        out.flush()
    except BrokenPipeError:
        # the reader (head, less) stopped early: not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    finally:
        stepper.close()
    return 0


def _header(handle, split, settings: LoaderSettings, per_epoch: int, args: argparse.Namespace) -> str:
    per = f"{per_epoch:,} batches per epoch" if per_epoch else "batches until the stream ends"
    lines = [
        f"{handle.name} · {split.name} split · {len(split):,} samples · {handle.num_classes} classes",
        f"loader: {settings.describe()} → {per}",
    ]
    if not isinstance(settings, LoaderSettings):
        lines.append(
            "note: --batch-size, --seed, --sampler, --no-shuffle, --drop-last, --normalize and --augment "
            "do not apply: the batches are your DataLoader's own"
        )
        return "\n".join(lines)
    lines.append(f"transform: {split.pipeline.describe()}")
    if args.augment and split.pipeline.sample_type != "image":
        lines.append("note: augmentation applies to images only; table rows are unchanged")
    if not args.shuffle and settings.sampler != "sequential":
        lines.append(
            f"note: the {settings.sampler} sampler draws in a random order whatever --no-shuffle says"
        )
    return "\n".join(lines)
