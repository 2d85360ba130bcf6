"""``dataloupe train DATASET``: train a small model without the app and print how it learns.

One line per evaluation and a final summary; plain text when stdout is not a terminal
(so it works under nohup and batch schedulers), one JSON object per line with ``--json``
(the last one the summary, with the final test accuracy). Ctrl-C or SIGTERM stops the
run at the next step and still prints the summary; ``--save-on-stop`` then keeps the model in
``NAME.interrupted.pt``, never over ``--save``. The ``--save`` folder is checked before
training; a save that still fails at the end writes ``NAME.rescued.pt`` in the current
folder and exits 2. A file that is not dataloupe's checkpoint of this dataset is replaced
only with ``--overwrite``.

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

from dataloupe.core.data.pipeline import MODES
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import (
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
from dataloupe.core.threads import MAX_DEFAULT_THREADS
from dataloupe.tui.cli.common import add_dataset_arguments, open_for_command, spec_from_args, whole


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options and the training settings (defaults and choices from :mod:`dataloupe.core.settings`)."""
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
        type=whole(0),  # 0 and below: TrainConfig.validate says what to use
        default=d.epochs,
        metavar="N",
        help=f"passes over the training split (default {d.epochs})",
    )
    group.add_argument(
        "--batch-size",
        type=whole(0),
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
        type=whole(0),
        default=d.seed,
        metavar="S",
        help=f"fixes initial weights and sample order (default {d.seed})",
    )
    group.add_argument(
        "--eval-every",
        type=whole(0),
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
        "--threads",
        type=whole(0),
        default=0,
        metavar="N",
        help=f"CPU threads for torch, set once at start-up (default: half the cores, at most {MAX_DEFAULT_THREADS})",
    )
    group.add_argument(
        "--save", type=Path, metavar="PATH", help="save the trained model here when the run finishes"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="let --save replace a file that is not dataloupe's checkpoint of this dataset",
    )
    group.add_argument(
        "--save-on-stop",
        action="store_true",
        help="when stopped early (Ctrl-C, SIGTERM), save the model to NAME.interrupted.pt beside --save",
    )
    group.add_argument(
        "--strict",
        action="store_true",
        help="refuse to train when the split check fails (test samples that are copies of training samples)",
    )
    group.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    group.add_argument(
        "--log",
        type=Path,
        metavar="FILE.jsonl",
        help="also append the metrics to FILE (dataloupe watch FILE)",
    )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`~dataloupe.core.settings.TrainConfig` the options describe; SettingsError when one is out of range."""
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
    """Train, print, save; 0 when the run finished and was saved as asked, 2 when it diverged, failed or
    could not be saved where asked, 128 + the signal's number (130, 143) when interrupted."""
    config = config_from_args(args)
    save_to: Path | None = args.save.expanduser() if args.save else None
    if save_to is not None:
        from dataloupe.core.training.safe_save import check_writable

        check_writable(save_to)  # a folder that cannot be written is found now, not after training

    from dataloupe.core.training.run import TrainingRun
    from dataloupe.core.training.snapshots import Evaluation, TrainingSnapshot
    from dataloupe.core.wording import duration, plural

    handle = open_for_command(spec_from_args(args))
    target_state = _check_overwrite(save_to, handle.name, args.overwrite) if save_to is not None else None
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
        from dataloupe.core.runlogs import JsonlLog

        on_report, on_evaluation = JsonlLog(args.log).follow(on_report, on_evaluation)
    training = TrainingRun(handle, config, on_report=on_report, cancel=cancel, on_evaluation=on_evaluation)
    stopped_by: list[int] = []

    def stop(signum, frame) -> None:  # the first Ctrl-C or SIGTERM stops at the next step; a second at once
        stopped_by.append(signum)
        cancel.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    # from here on a signal stops the run (before its first step, while preparing) with a summary
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        setup = training.prepare()
    except BaseException:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise
    if setup.leakage and getattr(args, "strict", False):
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise SettingsError(
            f"{handle.name}: the split check fails: {setup.leakage}. --strict refuses to train on it: "
            "remove the copies from the test split (dataloupe check lists them), or leave out --strict."
        )
    config = setup.config  # with what the user's own code decides (its DataLoader's batch size)
    assert training.spec is not None and training.model is not None
    from dataloupe.core.training.models import parameter_count

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

    try:
        final = training.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    saved, save_note, save_failed = _save_model(args, save_to, target_state, training, handle, final.state)
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
    if final.state in ("diverged", "failed"):
        if not args.json:
            print(f"dataloupe: {final.message}", file=sys.stderr)
        return 2
    if save_failed:
        print(f"dataloupe: {save_note}", file=sys.stderr)
        return 2
    if final.state == "stopped":
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    return 0


def _check_overwrite(save_to: Path, dataset: str, overwrite: bool):
    """Refuse, before training, to replace a file that is not dataloupe's checkpoint of ``dataset``
    unless ``--overwrite`` says so; return the target's state, which the save checks is unchanged."""
    from dataloupe.core.errors import DataloupeError
    from dataloupe.core.training.checkpoint import load_checkpoint
    from dataloupe.core.training.safe_save import file_state

    state = file_state(save_to)
    if state is None or overwrite:
        return state
    try:
        found = load_checkpoint(save_to).dataset
    except DataloupeError as e:
        raise SettingsError(
            f"--save {save_to}: the file exists and is not a checkpoint dataloupe can read ({e}). "
            "Pass --overwrite to replace it, or choose another path."
        ) from None
    if found != dataset:
        raise SettingsError(
            f"--save {save_to}: the file holds a model of {found or 'an unnamed dataset'}, not {dataset}. "
            "Pass --overwrite to replace it, or choose another path."
        )
    return state


def _save_model(
    args, save_to: Path | None, target_state, training, handle, state: str
) -> tuple[Any, str, bool]:
    """Save the trained model as asked: (path written or None, a line for the user, whether a save failed).

    A finished run goes to ``--save``. When that fails, the model is not lost: it is written to
    ``NAME.rescued.pt`` in the current folder (or the system's temporary folder) and the line says
    so. An interrupted run is saved only with ``--save-on-stop``, to ``NAME.interrupted.pt`` beside
    the target, never over it.
    """
    import tempfile

    from dataloupe.core.errors import CheckpointError
    from dataloupe.core.training.checkpoint import save_checkpoint
    from dataloupe.core.training.safe_save import rescue_path

    if save_to is None:
        return None, "", False

    trained = training.trained()

    def save(path: Path, **kw) -> Path:
        return save_checkpoint(path, trained, **kw)

    if state != "finished":
        if state == "stopped" and args.save_on_stop:
            try:
                kept = save(rescue_path(save_to, "interrupted"))
            except CheckpointError as e:
                return None, f"not saved to {save_to}: the run stopped before the end, and {e}", True
            return (
                kept,
                f"not saved to {save_to}: the run stopped before the end; saved what it learned to {kept}",
                False,
            )
        return None, f"not saved to {save_to}: the run {state} before the end", False
    try:
        written = save(save_to, unchanged_since=target_state)
        return written, f"saved to {written}", False
    except CheckpointError as e:
        reason = str(e)
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            rescued = save(rescue_path(save_to, "rescued", folder))
        except CheckpointError:
            continue
        return rescued, f"{reason} The model was saved to {rescued} instead.", True
    return None, f"{reason} The model could not be saved anywhere else either.", True
