"""What every ``dataloupe`` command shares: the options that name a dataset, and opening it with
progress on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dataloupe.core.data.sources import BUILTINS, BUNDLED, STREAM_LIMIT, DatasetSpec
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import parse_whole


def whole(minimum: int = 1):
    """An argparse ``type`` for a whole-number option, read by :func:`dataloupe.core.settings.parse_whole`,
    as the forms read theirs: ``--epochs x`` says "argument --epochs: must be a whole number ≥ 1, got 'x'"."""

    def parse(text: str) -> int:
        try:
            return parse_whole(text, "", minimum=minimum)
        except SettingsError as e:
            raise argparse.ArgumentTypeError(str(e).strip()) from None

    parse.__name__ = "whole number"  # argparse names the type in some messages
    return parse


def add_dataset_arguments(parser: argparse.ArgumentParser, *, dataset_optional: bool = True) -> None:
    """The options every command shares to name a dataset."""
    names = ", ".join(BUILTINS)
    parser.add_argument(
        "dataset",
        nargs="?" if dataset_optional else None,
        default=BUNDLED,
        metavar="DATASET",
        help=f"a built-in name ({names}; default {BUNDLED}), a folder of images in class sub-folders "
        "(train/ and test/ inside make the splits), a folder of IDX files, a .csv or .parquet table, or "
        "your own Dataset or DataLoader as path/to/file.py:NAME or package.module:NAME",
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
    parser.add_argument(
        "--label", metavar="COLUMN", help="CSV or Parquet: the label column (default: the last column)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="CSV or Parquet: two classes from a numeric label, low (<= T) and high (> T)",
    )
    parser.add_argument(
        "--resize",
        metavar="N|WxH",
        help="images: N resizes the shorter side to N and centre-crops N×N; WxH resizes to exactly W×H "
        "(torchvision.transforms.v2). Needed when the images differ in size",
    )
    parser.add_argument(
        "--max-pixels",
        type=whole(),
        metavar="N",
        help="image folders: skip (and count) images with more pixels than N, without decoding them "
        "(default: Pillow's limit, 89,478,485)",
    )
    parser.add_argument(
        "--keys",
        metavar="INPUT,LABEL",
        help="your code's dict samples, or the columns of Parquet/Arrow shards, or the member extensions of "
        "tar shards (jpg,cls): the input and the label (default: guessed from image, img, pixel_values, "
        "input, … and label, labels, target, …)",
    )
    parser.add_argument(
        "--limit",
        default=str(STREAM_LIMIT),
        metavar="N",
        help="your code's stream (IterableDataset): samples read from its start to describe and check it "
        f"(default {STREAM_LIMIT:,})",
    )


def parse_keys(text: str | None) -> tuple[str, str] | None:
    """``--keys INPUT,LABEL`` as a pair of keys; raises :class:`SettingsError` for anything else."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise SettingsError(f"--keys must be two keys, INPUT,LABEL (for example image,label), got {text!r}.")
    return parts[0], parts[1]


def spec_from_args(args: argparse.Namespace) -> DatasetSpec:
    """The :class:`DatasetSpec` the dataset options describe; raises :class:`SettingsError` for a bad one."""

    return DatasetSpec(
        source=args.dataset,
        root=args.root,
        download=args.download,
        label=args.label,
        threshold=args.threshold,
        resize=getattr(args, "resize", None),
        max_pixels=getattr(args, "max_pixels", None),
        keys=parse_keys(getattr(args, "keys", None)),
        limit=parse_whole(getattr(args, "limit", STREAM_LIMIT), "--limit"),
    )


class StderrProgress:
    """Progress of long work on stderr, for the headless commands.

    On a terminal one line is redrawn in place (a few times a second) and cleared by
    :meth:`done`; otherwise (nohup, a batch scheduler) only downloads are reported, one plain
    line per tenth of a file, so logs stay short and free of escape codes.
    """

    def __init__(self) -> None:
        from dataloupe.core.progress import Throttle

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
    from dataloupe.core.readers import open_dataset
    from dataloupe.tui.heap import freeze_long_lived

    shown = progress or StderrProgress()
    try:
        handle = open_dataset(spec, progress=shown)
    finally:
        if progress is None:
            shown.done()
    freeze_long_lived("torch loaded")  # torch's objects need never be walked by the collector again
    return handle


def end_output_quietly() -> None:
    """The reader of stdout (``head``, ``less``) stopped early: not an error. Send what is left to
    /dev/null, so neither the command nor Python at exit complains about the closed pipe."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
