"""Training logs written for the watch tests the way real tools write them.

TensorBoard event files come from ``torch.utils.tensorboard.SummaryWriter``; the CSV has
Lightning's CSVLogger layout (epoch, step, one column per metric, empty cells); the
Trainer's ``trainer_state.json`` has its ``log_history`` and ``max_steps``.
"""

from __future__ import annotations

import json
from pathlib import Path

LIGHTNING_HEADER = "epoch,step,train_loss,val_loss,val_acc"
"""The header Lightning's CSVLogger writes for these three metrics (its columns sorted)."""


def write_tensorboard(folder: Path, steps: range, *, val_every: int = 10, writer=None):
    """Log train/loss every step and val/loss, val/acc every ``val_every`` steps; returns the open writer."""
    from torch.utils.tensorboard import SummaryWriter

    writer = writer or SummaryWriter(str(folder))
    for step in steps:
        writer.add_scalar("train/loss", 2.0 / (step + 1), step)
        if step % val_every == 0:
            writer.add_scalar("val/loss", 2.2 / (step + 1), step)
            writer.add_scalar("val/acc", min(1.0, step / 100), step)
    writer.flush()
    return writer


def lightning_rows(steps: range, *, val_every: int = 10) -> list[str]:
    """CSV rows as Lightning writes them: a train row per step, a separate val row every ``val_every``."""
    rows = []
    for step in steps:
        epoch = step // 50
        rows.append(f"{epoch},{step},{2.0 / (step + 1):.6f},,")
        if step % val_every == 0:
            rows.append(f"{epoch},{step},,{2.2 / (step + 1):.6f},{min(1.0, step / 100):.4f}")
    return rows


def write_lightning_csv(path: Path, steps: range) -> Path:
    """A metrics.csv in Lightning's layout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LIGHTNING_HEADER + "\n" + "\n".join(lightning_rows(steps)) + "\n")
    return path


def append_lines(path: Path, lines: list[str]) -> None:
    """Append complete lines (flushed on close)."""
    with open(path, "a") as f:
        f.write("".join(line + "\n" for line in lines))


def jsonl_lines(steps: range, t0: float = 1_700_000_000.0, per_second: float = 10.0) -> list[str]:
    """JSON Lines with step, loss, accuracy and time (``per_second`` steps per second)."""
    return [
        json.dumps({"step": s, "loss": 1.0 / (s + 1), "accuracy": s / 1000, "time": t0 + s / per_second})
        for s in steps
    ]


def write_trainer_state(path: Path, steps: range, max_steps: int = 500, eval_every: int = 50) -> Path:
    """A Hugging Face trainer_state.json logging loss every 10 steps and eval_loss every ``eval_every``."""
    history = []
    for step in steps:
        if step % 10 == 0 and step:
            history.append({"loss": 3.0 / step, "learning_rate": 5e-5, "epoch": step / 100, "step": step})
        if step % eval_every == 0 and step:
            history.append({"eval_loss": 3.3 / step, "eval_runtime": 1.2, "epoch": step / 100, "step": step})
    state = {"global_step": steps[-1], "max_steps": max_steps, "log_history": history}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))
    return path
