"""``dataloupe check``: the class table and the data checklist, without the app.

    dataloupe check digits --transform raw
    dataloupe check wine.csv --threshold 4.5 --json
    dataloupe check mnist --root ~/data --strict && python train.py
    dataloupe check data/images --deep --export suspects.csv   # label noise, near copies, quality

Plain text (no escape codes unless stdout is a terminal and NO_COLOR is unset), or one JSON document with
``--json``. Exit code 0 when no check fails; 1 with ``--strict`` when one warns; 2 when
one fails or the input cannot be used.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from dataloupe.core.checks import MIN_CLASS_SAMPLES, SAMPLE_LIMIT
from dataloupe.core.data.pipeline import MODES
from dataloupe.core.errors import SettingsError
from dataloupe.core.stats.classes import IMBALANCE_THRESHOLD
from dataloupe.tui.cli.common import (
    StderrProgress,
    add_dataset_arguments,
    end_output_quietly,
    open_for_command,
    spec_from_args,
    whole,
)
from dataloupe.tui.terminal import no_color

COLOURS = {"pass": "\x1b[32m", "warn": "\x1b[33m", "fail": "\x1b[31;1m"}
"""ANSI colours of the verdicts, used only when stdout is a terminal and ``NO_COLOR`` is unset."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options and the checklist's own."""
    add_dataset_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument(
        "--strict", action="store_true", help="exit with code 1 when a check warns (2 still means a failure)"
    )
    parser.add_argument(
        "--imbalance-threshold",
        type=float,
        default=IMBALANCE_THRESHOLD,
        metavar="R",
        help=f"largest ÷ smallest class above which a split is unbalanced (default {IMBALANCE_THRESHOLD:g})",
    )
    parser.add_argument(
        "--transform",
        choices=MODES,
        help="check the samples raw (as stored), scaled (ToTensor-like, the default) or normalized",
    )
    parser.add_argument(
        "--sample-limit",
        type=whole(),
        default=SAMPLE_LIMIT,
        metavar="N",
        help=f"samples read from a split not held in memory (default {SAMPLE_LIMIT:,})",
    )
    parser.add_argument(
        "--min-class-samples",
        type=whole(),
        default=MIN_CLASS_SAMPLES,
        metavar="N",
        help=f"warn about classes with fewer training samples (default {MIN_CLASS_SAMPLES})",
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help="also look inside the data: likely label errors (K-fold models and confident learning), "
        "near copies within a split and across train/test, odd images; reads every sample",
    )
    parser.add_argument(
        "--export",
        metavar="FILE.csv",
        help="with --deep (implied): write every finding to a CSV file (file or index, split, check, "
        "given label, predicted label, score)",
    )
    parser.add_argument(
        "--model",
        metavar="FILE.py:NAME",
        help="with --deep (implied): judge the labels of the test split by your own model (an nn.Module, "
        "its class, or a function that returns one) instead of dataloupe's K-fold models",
    )
    parser.add_argument(
        "--weights", metavar="PATH", help="with --model: its weights (read without running code)"
    )
    parser.add_argument(
        "--outputs",
        choices=("logits", "probs", "log_probs"),
        help="with --model: what it returns (default: detected)",
    )
    parser.add_argument(
        "--loader-shuffles",
        choices=("yes", "no"),
        help="whether your training DataLoader shuffles (default: unknown)",
    )


def _validate(args: argparse.Namespace) -> None:
    if not args.imbalance_threshold >= 1:
        raise SettingsError(
            f"--imbalance-threshold must be a ratio ≥ 1 (largest ÷ smallest), got {args.imbalance_threshold:g}."
        )
    if args.sample_limit < 1:
        raise SettingsError(f"--sample-limit must be a whole number ≥ 1, got {args.sample_limit}.")
    if args.min_class_samples < 0:
        raise SettingsError(f"--min-class-samples must be a whole number ≥ 0, got {args.min_class_samples}.")


def run(args: argparse.Namespace) -> int:
    """Open the dataset, run the checklist, print it; the exit code says how it went."""
    _validate(args)
    from dataloupe.core.checks import run_checklist
    from dataloupe.core.checks.report import report_json, report_text

    deep = args.deep or args.export is not None or args.model is not None
    if (args.weights or args.outputs) and not args.model:
        raise SettingsError("--weights and --outputs go with --model FILE.py:NAME (your own model).")
    if args.export is not None:
        _check_export(args.export)
    progress = StderrProgress()
    found = None
    try:
        handle = open_for_command(spec_from_args(args), progress)
        pipeline = handle.pipeline.with_(mode=args.transform) if args.transform else None
        options = dict(
            loader_shuffles={"yes": True, "no": False}.get(args.loader_shuffles or ""),
            pipeline=pipeline,
            sample_limit=args.sample_limit,
            threshold=args.imbalance_threshold,
            min_class_samples=args.min_class_samples,
            progress=progress,
        )
        if deep:
            from dataloupe.core.audit import run_checklist_deep

            report, found = run_checklist_deep(
                handle, scored=_scored_by_model(args, handle, progress), **options
            )
        else:
            report = run_checklist(handle, **options)
    finally:
        progress.done()
    if found is not None and args.export is not None:
        _write_export(args.export, found.to_csv())
    if handle.reader == "code" and not args.json:
        for note in handle.notes:  # how the labels were read; that a stream was sampled
            print(f"note: {note}")
    try:
        if args.json:
            document = report_json(report)
            if found is not None:
                document["deep"] = found.to_json()
            print(json.dumps(document, indent=2, ensure_ascii=False))
        elif sys.stdout.isatty():
            width = min(shutil.get_terminal_size().columns, 120)
            if no_color():
                print(report_text(report, width))
            else:
                paint = lambda verdict, text: f"{COLOURS[verdict]}{text}\x1b[0m"  # noqa: E731
                print(report_text(report, width, paint=paint))
        else:
            print(report_text(report))
        if found is not None and not args.json:
            print("\n".join(findings_lines(found)))
        sys.stdout.flush()
    except BrokenPipeError:
        end_output_quietly()  # `dataloupe check … | head`: the exit code still says how the check went
    return report.exit_code(strict=args.strict)


SHOWN = 10
"""Findings of each deep check printed after the checklist; ``--export`` and ``--json`` carry all."""


def findings_lines(found) -> list[str]:
    """The first findings of each deep check, one line each, and where the rest are."""
    from dataloupe.core.checks.findings import DEEP_CHECKS

    lines = []
    for check in DEEP_CHECKS:
        named = found.of(check)
        if not named:
            continue
        lines += ["", f"{check}: {len(named):,} found"]
        lines += [f"  {f.place:<28} {f.headline()}" for f in named[:SHOWN]]
        if len(named) > SHOWN:
            lines.append(f"  … and {len(named) - SHOWN:,} more (--export FILE.csv writes them all)")
    return lines


def _scored_by_model(args: argparse.Namespace, handle, progress):
    """The test split scored by the user's own model (``--model``), or None without one."""
    if args.model is None:
        return None
    from dataloupe.core.checks.label_noise import ScoredSplit
    from dataloupe.core.training.user_model import load_user_model, probabilities_on_test_split

    model = load_user_model(args.model, args.weights, args.outputs)
    probs, split, by = probabilities_on_test_split(model, handle, progress=progress)
    return ScoredSplit(split.name, probs, by)


def _check_export(path: str) -> None:
    """Refuse an export path whose folder does not exist before the long work starts."""
    from pathlib import Path

    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise SettingsError(
            f"--export {path}: the folder {folder} does not exist. Create it or choose another path."
        )


def _write_export(path: str, text: str) -> None:
    from pathlib import Path

    try:
        Path(path).expanduser().write_text(text, encoding="utf-8")
    except OSError as e:
        raise SettingsError(
            f"--export {path}: cannot write it ({e.strerror or e}). Choose another path."
        ) from e
