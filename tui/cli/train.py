"""``dataloupe train DATASET``: train a small model without the app and print how it learns.

One line per evaluation and a final summary; plain text when stdout is not a terminal
(so it works under nohup and batch schedulers), one JSON object per line with ``--json``
(the last one the summary, with the final test accuracy). Ctrl-C, SIGTERM or SIGHUP (the SSH
connection dropped) stops the run at the next step and still prints the summary;
``--save-on-stop`` then keeps the model in ``NAME.interrupted.pt``, never over ``--save``. The
``--save`` folder is checked before training; a save that still fails at the end (a full disk
among other causes) writes ``NAME.rescued.pt`` in the first folder that takes it and exits 2. A
file that is not dataloupe's checkpoint of this dataset is replaced only with ``--overwrite``.
Output that cannot be written (a full disk under ``> log``, a reader that left, a terminal
that hung up) stops the printing, and a ``--log`` that cannot be written stops the logging,
each with one warning on stderr; neither stops the training or the save.

    dataloupe train digits --epochs 10 --save digits.pt
    dataloupe train mnist --root ~/data --model cnn --json > run.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
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
from dataloupe.tui.cli.common import (
    add_dataset_arguments,
    can_redraw,
    end_output_quietly,
    open_for_command,
    spec_from_args,
    warn,
    whole,
)

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that stop a run at its next step with a summary: Ctrl-C, ``kill``, and the terminal gone
(an SSH connection dropped, a tmux session killed)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options and the training settings (defaults and choices from :mod:`dataloupe.core.settings`)."""
    add_dataset_arguments(parser)
    d = TrainConfig()
    group = add_training_options(parser)
    group.add_argument(
        "--hidden",
        metavar="SIZES",
        help=f"hidden layer widths, e.g. {format_hidden(DEFAULT_HIDDEN['mlp'])} (the MLP default) or 256; "
        f"for the CNN its dense layers (default {format_hidden(DEFAULT_HIDDEN['cnn'])})",
    )
    group.add_argument(
        "--sampler",
        choices=TRAIN_SAMPLERS,
        default=d.sampler,
        help=f"random order, or class-balanced (every class drawn equally often; default: {d.sampler})",
    )
    group.add_argument(
        "--eval-every",
        type=whole(0),
        default=d.eval_every,
        metavar="STEPS",
        help="steps between evaluations (default: mid-epoch)",
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
        help="when stopped early (Ctrl-C, SIGTERM, SIGHUP), save the model to NAME.interrupted.pt beside --save",
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


def add_training_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The "training" option group of every command that trains (``train``, ``curve``): model, optimizer,
    learning rate, epochs, batch size, device, seed, transform, threads. Returns the group, for a
    command's own options."""
    d = TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument(
        "--model", choices=ARCHITECTURES, default=d.model, help=f"network (default: {d.model})"
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
    group.add_argument("--device", choices=DEVICES, default=d.device, help=f"default: {d.device}")
    group.add_argument(
        "--seed",
        type=whole(0),
        default=d.seed,
        metavar="S",
        help=f"fixes initial weights and sample order (default {d.seed})",
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
    return group


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`~dataloupe.core.settings.TrainConfig` the options describe; SettingsError when one is out of range."""
    d = TrainConfig()
    given = getattr(args, "hidden", None)  # options of train only: other commands take the defaults
    hidden = parse_hidden(given) if given is not None else DEFAULT_HIDDEN[args.model]
    config = TrainConfig(
        model=args.model,
        hidden=hidden,
        optimizer=args.optimizer,
        lr=args.lr if args.lr is not None else DEFAULT_LR[args.optimizer],
        epochs=args.epochs,
        batch_size=args.batch_size,
        sampler=getattr(args, "sampler", d.sampler),
        device=args.device,
        seed=args.seed,
        eval_every=getattr(args, "eval_every", d.eval_every),
        transform=args.transform,
    )
    config.validate()
    return config


class _Printer:
    """Writes evaluations and the summary as text or JSON lines; a live status line only on a terminal.

    When stdout cannot be written (the reader left, the disk under ``> log`` is full, the terminal
    hung up), printing stops with one warning on stderr and ``on_lost`` is called; the run goes on.
    """

    def __init__(self, as_json: bool, on_lost=None) -> None:
        self.as_json = as_json
        """One JSON object per line."""
        self.live = can_redraw(sys.stdout) and not as_json
        """Redraw a status line in place (capable terminals only: no escape codes in logs)."""
        self.lost: OSError | None = None
        """Why stdout could not be written, once it could not; nothing is printed after."""
        self._on_lost = on_lost
        self._live_shown = False

    def emit(self, record: dict[str, Any], text: str) -> None:
        """Print one record: ``record`` as JSON or ``text`` as a line."""
        self._write(
            ("\r\x1b[2K" if self._live_shown else "") + (json.dumps(record) if self.as_json else text) + "\n"
        )
        self._live_shown = False

    def status(self, text: str) -> None:
        """Redraw the live line (terminals only)."""
        if self.live:
            self._live_shown = self._write("\r\x1b[2K" + text)

    def _write(self, text: str) -> bool:
        if self.lost is not None:
            return False
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
            return True
        except OSError as e:  # EPIPE, ENOSPC, EIO (a terminal that hung up): stop printing, not training
            self.lost = e
            end_output_quietly()  # what is still buffered goes nowhere, here and at exit
            if not isinstance(e, BrokenPipeError):
                warn(f"cannot write the output ({e.strerror or e}); printing stops, the run goes on.")
            if self._on_lost is not None:
                self._on_lost(e)
            return False


def run(args: argparse.Namespace) -> int:
    """Train, print, save; 0 when the run finished and was saved as asked, 2 when it diverged, failed or
    could not be saved where asked, 128 + the signal's number (130, 143, 129 for SIGHUP) when interrupted."""
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
    cancel = threading.Event()
    stopped_by: list[int] = []
    keeps_something = save_to is not None or args.log is not None

    def output_lost(error: OSError) -> None:
        if not keeps_something:  # nothing of the run would be kept: stop, as when `head` has its lines
            cancel.set()

    out = _Printer(args.json, on_lost=output_lost)

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
        on_report, on_evaluation = _logged(args.log, on_report, on_evaluation)
    training = TrainingRun(handle, config, on_report=on_report, cancel=cancel, on_evaluation=on_evaluation)

    # the first Ctrl-C, SIGTERM or SIGHUP stops at the next step; a second one at once
    def stop(signum, frame) -> None:
        stopped_by.append(signum)
        cancel.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    # from here on a signal stops the run (before its first step, while preparing) with a summary
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
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
            warn(final.message)
        return 2
    if save_failed:
        warn(save_note)
        return 2
    if final.state == "stopped":
        if not stopped_by and out.lost is not None:
            return (
                0  # the reader of stdout left (`| head`) and nothing was to be kept: as before, not an error
            )
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    return 0


def _logged(path: Path, on_report, on_evaluation):
    """The run's callbacks, also appending to the JSON Lines file ``path``. A log that cannot be
    written (a full disk) stops the logging with one warning, never the training."""
    from dataloupe.core.runlogs import JsonlLog

    log = JsonlLog(path)
    log_report, log_evaluation = log.follow(None, None)
    failed: list[OSError] = []

    def guarded(write, then):
        def call(value) -> None:
            if not failed:
                try:
                    write(value)
                except OSError as e:
                    failed.append(e)
                    with contextlib.suppress(OSError):
                        log.close()  # what is buffered cannot be written either; nothing more is tried
                    warn(
                        f"--log {path}: cannot be written ({e.strerror or e}); logging stops, training goes on."
                    )
            then(value)

        return call

    return guarded(log_report, on_report), guarded(log_evaluation, on_evaluation)


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

    A finished run goes to ``--save``. When that fails (whatever the write raised: a full disk is
    said as such), the model is not lost: it is written to ``NAME.rescued.pt`` in the first of the
    current folder, the home folder and the system's temporary folder that takes it, and the line
    names it. An interrupted run is saved only with ``--save-on-stop``, to ``NAME.interrupted.pt``
    beside the target (rescued the same way), never over it.
    """
    from dataloupe.core.training.checkpoint import save_checkpoint
    from dataloupe.core.training.safe_save import rescue_path, save_or_rescue

    if save_to is None:
        return None, "", False

    trained = training.trained()

    def save(path: Path) -> Path:  # only the target is checked for another run's write meanwhile
        return save_checkpoint(path, trained, unchanged_since=target_state if path == save_to else False)

    if state != "finished":
        if state == "stopped" and args.save_on_stop:
            kept, reason = save_or_rescue(save, rescue_path(save_to, "interrupted"), save_to, "interrupted")
            if kept is None:
                return None, f"not saved to {save_to}: the run stopped before the end, and {reason}", True
            return (
                kept,
                f"not saved to {save_to}: the run stopped before the end; saved what it learned to {kept}"
                + (f" ({reason})" if reason else ""),
                bool(reason),
            )
        return None, f"not saved to {save_to}: the run {state} before the end", False
    written, reason = save_or_rescue(save, save_to, save_to, "rescued")
    if not reason:
        return written, f"saved to {written}", False
    if written is not None:
        return written, f"{reason} The model was saved to {written} instead.", True
    return None, f"{reason} The model could not be saved anywhere else either.", True
