"""``dataloupe train DATASET``: train a small model without the app and print how it learns.

One line per evaluation and a final summary; plain text when stdout is not a terminal
(so it works under nohup and batch schedulers), one JSON object per line with ``--json``
(the last one the summary, with the final test accuracy). Ctrl-C stops the run at the
next step and still prints the summary.

    dataloupe train digits --epochs 10 --save digits.pt
    dataloupe train mnist --root ~/data --model cnn --json > run.jsonl
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from core.errors import SettingsError
from core.pipeline import MODES
from core.settings import (
    ARCHITECTURES,
    DEFAULT_HIDDEN,
    DEFAULT_LR,
    DEVICES,
    OPTIMIZERS,
    TRAIN_SAMPLERS,
    TrainConfig,
    format_hidden,
    parse_hidden,
)
from tui.cli.common import add_dataset_arguments, open_for_command, spec_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options and the training settings (defaults and choices from :mod:`core.settings`)."""
    add_dataset_arguments(parser)
    d = TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument(
        "--model", choices=ARCHITECTURES, default=d.model, help=f"network (default: {d.model})"
    )
    group.add_argument(
        "--hidden",
        metavar="SIZES",
        help=f"hidden layer widths, e.g. {format_hidden(DEFAULT_HIDDEN['mlp'])} (the MLP default) or 256; "
        f"for the CNN its dense layers (default {format_hidden(DEFAULT_HIDDEN['cnn'])})",
    )
    group.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help=f"default: {d.optimizer}")
    group.add_argument(
        "--lr",
        type=float,
        metavar="LR",
        help="learning rate (default: " + ", ".join(f"{lr:g} for {o}" for o, lr in DEFAULT_LR.items()) + ")",
    )
    group.add_argument(
        "--epochs",
        type=int,
        default=d.epochs,
        metavar="N",
        help=f"passes over the training split (default {d.epochs})",
    )
    group.add_argument(
        "--batch-size",
        type=int,
        default=d.batch_size,
        metavar="B",
        help=f"samples per step (default {d.batch_size})",
    )
    group.add_argument(
        "--sampler",
        choices=TRAIN_SAMPLERS,
        default=d.sampler,
        help=f"random order, or class-balanced (every class drawn equally often; default: {d.sampler})",
    )
    group.add_argument("--device", choices=DEVICES, default=d.device, help=f"default: {d.device}")
    group.add_argument(
        "--seed",
        type=int,
        default=d.seed,
        metavar="S",
        help=f"fixes initial weights and sample order (default {d.seed})",
    )
    group.add_argument(
        "--eval-every",
        type=int,
        default=d.eval_every,
        metavar="STEPS",
        help="steps between evaluations (default: mid-epoch)",
    )
    group.add_argument(
        "--transform",
        choices=MODES,
        default=d.transform,
        help=f"what the model sees: normalized like the tutorials, scaled to 0..1, or raw stored values "
        f"(default: {d.transform})",
    )
    group.add_argument(
        "--threads", type=int, default=d.threads, metavar="N", help="CPU threads for torch (default: all)"
    )
    group.add_argument(
        "--save", type=Path, metavar="PATH", help="save the trained model here when the run finishes"
    )
    group.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    group.add_argument(
        "--log",
        type=Path,
        metavar="FILE.jsonl",
        help="also append the metrics to FILE (dataloupe watch FILE)",
    )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`~core.settings.TrainConfig` the options describe; SettingsError when one is out of range."""
    hidden = parse_hidden(args.hidden) if args.hidden is not None else DEFAULT_HIDDEN[args.model]
    config = TrainConfig(
        model=args.model,
        hidden=hidden,
        optimizer=args.optimizer,
        lr=args.lr if args.lr is not None else DEFAULT_LR[args.optimizer],
        epochs=args.epochs,
        batch_size=args.batch_size,
        sampler=args.sampler,
        device=args.device,
        seed=args.seed,
        eval_every=args.eval_every,
        transform=args.transform,
        threads=args.threads,
    )
    config.validate()
    return config


class _Printer:
    """Writes evaluations and the summary as text or JSON lines; a live status line only on a terminal."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        """One JSON object per line."""
        self.live = sys.stdout.isatty() and not as_json
        """Redraw a status line in place (terminals only: no escape codes in logs)."""
        self._live_shown = False

    def emit(self, record: dict[str, Any], text: str) -> None:
        """Print one record: ``record`` as JSON or ``text`` as a line."""
        self.clear_live()
        print(json.dumps(record) if self.as_json else text, flush=True)

    def status(self, text: str) -> None:
        """Redraw the live line (terminals only)."""
        if self.live:
            sys.stdout.write("\r\x1b[2K" + text)
            sys.stdout.flush()
            self._live_shown = True

    def clear_live(self) -> None:
        if self._live_shown:
            sys.stdout.write("\r\x1b[2K")
            self._live_shown = False


def run(args: argparse.Namespace) -> int:
    """Train, print, save; 0 when the run finished, 2 when it diverged or failed, 130 when interrupted."""
    config = config_from_args(args)
    save_to: Path | None = args.save.expanduser() if args.save else None
    if save_to is not None and not save_to.parent.is_dir():
        raise SettingsError(f"--save {save_to}: the folder {save_to.parent} does not exist. Create it first.")
    if save_to is not None and save_to.is_dir():
        raise SettingsError(f"--save {save_to} is a folder; give a file name such as {save_to / 'model.pt'}.")

    from core.checkpoint import save_checkpoint
    from core.snapshots import Evaluation, TrainingSnapshot
    from core.training import TrainingRun
    from core.wording import duration, plural

    handle = open_for_command(spec_from_args(args))
    out = _Printer(args.json)
    cancel = threading.Event()

    def on_evaluation(e: Evaluation) -> None:
        record = {
            "event": "evaluation",
            "step": e.step,
            "epoch": round(e.epoch, 4),
            "train_accuracy": e.train.accuracy,
            "test_accuracy": e.test.accuracy,
            "train_loss": e.train.loss,
            "test_loss": e.test.loss,
            "test_samples": e.test.samples,
            "elapsed": round(e.elapsed, 3),
        }
        text = (
            f"epoch {e.epoch:6.2f}  step {e.step:>7,}  "
            f"train loss {e.train.loss:7.4f} acc {e.train.accuracy:6.1%}  "
            f"test loss {e.test.loss:7.4f} acc {e.test.accuracy:6.1%}  {duration(e.elapsed):>9}"
        )
        if e.test.samples < len(setup.test):  # within an epoch: a fixed subset of the test split
            text += f"  (test on {e.test.samples:,})"
        out.emit(record, text)

    def on_report(s: TrainingSnapshot) -> None:
        if s.ended:
            return
        loss = f"loss {s.loss:.4f}" if s.loss is not None else ""
        eta = f"ETA {duration(s.eta)}" if s.eta is not None else ""
        out.status(
            f"epoch {s.epoch}/{s.epochs} {s.epoch_fraction:4.0%}  step {s.step:,}/{s.total_steps:,}  {loss}  "
            f"{s.samples_per_second:,.0f} samples/s  {eta}  (Ctrl-C stops)"
        )

    if args.log is not None:  # JSON Lines that `dataloupe watch` reads live
        from core.runlogs import JsonlLog

        on_report, on_evaluation = JsonlLog(args.log).follow(on_report, on_evaluation)
    training = TrainingRun(handle, config, on_report=on_report, cancel=cancel, on_evaluation=on_evaluation)
    setup = training.prepare()
    assert training.spec is not None and training.model is not None
    from core.models import parameter_count

    n_params = parameter_count(training.model)
    out.emit(
        {
            "event": "start",
            "dataset": handle.name,
            "model": training.spec.describe(),
            "parameters": n_params,
            "train_samples": len(setup.train),
            "test_samples": len(setup.test),
            "device": setup.choice.name,
            "config": config.to_dict(),
            "notes": setup.notes,
        },
        "\n".join(
            [
                f"training {training.spec.describe()} ({n_params:,} parameters) on {handle.name}: "
                f"{len(setup.train):,} train / {len(setup.test):,} test samples, {setup.choice.name}",
                f"{config.optimizer} lr {config.lr:g}, batch {config.batch_size}, {plural(config.epochs, 'epoch')}, "
                f"{config.sampler} sampler, seed {config.seed}, transform {setup.pipeline.describe()}",
                *(f"note: {n}" for n in setup.notes),
            ]
        ),
    )

    def stop(signum, frame) -> None:  # first Ctrl-C: stop at the next step; a second one interrupts at once
        cancel.set()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        final = training.run()
    finally:
        signal.signal(signal.SIGINT, previous)

    saved = None
    save_note = ""
    if save_to is not None:
        if final.state == "finished":
            saved = save_checkpoint(
                save_to,
                training.model,
                training.spec,
                handle.classes,
                training.pipeline,
                training.metrics(),
                handle.name,
            )
            save_note = f"saved to {saved}"
        else:
            save_note = f"not saved to {save_to}: the run {final.state} before the end"
    latest = final.latest
    record: dict[str, Any] = {
        "event": "summary",
        "state": final.state,
        "message": final.message,
        "steps": final.step,
        "epochs": final.epochs,
        "elapsed": round(final.elapsed, 3),
        "test_accuracy": latest.test.accuracy if latest else None,
        "train_accuracy": latest.train.accuracy if latest else None,
        "per_class_accuracy": (
            {handle.classes[k]: a for k, a in enumerate(latest.test.per_class)} if latest else None
        ),
        "saved": str(saved) if saved else None,
    }
    out.emit(record, final.summary() + (f"\n{save_note}" if save_note else ""))
    if final.state == "stopped":
        return 130
    if final.state in ("diverged", "failed"):
        if not args.json:
            print(f"dataloupe: {final.message}", file=sys.stderr)
        return 2
    return 0
