"""Settings in one place: :class:`TrainConfig`, the loader's defaults, their choices and their limits.

The training form, the loader form, the ``dataloupe train`` and ``batches`` options, the trainer,
the batch stepper, the models, checkpoints and the readers that hold out a test split all read
them from here, and every whole-number option typed in a form or on the command line is read by
:func:`parse_whole`. This module imports
no torch, so the form can draw its defaults before torch has loaded (a test checks it).

    python -c "from dataloupe.core.settings import TrainConfig; print(TrainConfig().to_dict())"
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from dataloupe.core.data.pipeline import MODES
from dataloupe.core.errors import SettingsError

Architecture = Literal["mlp", "cnn"]
ARCHITECTURES: tuple[Architecture, ...] = ("mlp", "cnn")
"""The networks dataloupe trains: the tutorials' MLP and a small CNN."""
DEFAULT_HIDDEN: dict[str, tuple[int, ...]] = {"mlp": (64, 64, 64), "cnn": (64,)}
"""Hidden sizes when none are given: the tutorials' 64-64-64 MLP, and one dense layer after the CNN's convolutions."""
MAX_HIDDEN_LAYERS = 8
"""More hidden layers than this is almost certainly a typo."""
MAX_LAYER_WIDTH = 16_384
"""Wider than this would not fit a terminal's patience."""
OPTIMIZERS = ("adam", "sgd")
"""Adam forgives a poorly chosen learning rate; SGD (with momentum) is the textbook baseline."""
DEFAULT_LR: dict[str, float] = {"adam": 1e-3, "sgd": 0.01}
"""The learning rate each optimizer is usually started with."""
TRAIN_SAMPLERS = ("random", "balanced")
"""Sample order: a permutation per epoch, or every class drawn equally often (with replacement)."""
DEVICES = ("auto", "cpu", "cuda")
"""What a user may ask for; auto takes CUDA when it is there."""
DATA_PATHS = ("auto", "memory", "loader")
"""How training reads its samples: held on the device when they fit, or through a DataLoader."""
TEST_FRACTION = 0.2
"""Share of a dataset held out for testing when it has no test split of its own."""
HOLDOUT_SEED = 0
"""Seed of the test split held out by the readers (digits, tables): the same split every run."""
TRAIN_BATCH_SIZE = 64
"""Samples per training step: the tutorials' batch size."""
PREVIEW_BATCH_SIZE = 10
"""Samples per batch in the batches pane and ``dataloupe batches``. Smaller than training's on purpose:
the point there is to look at every sample of a batch, and ten fit on one screen. Training uses
:data:`TRAIN_BATCH_SIZE`; a user's own DataLoader keeps its own."""
MAX_SEED = 2**63 - 1
"""Largest seed ``torch.Generator.manual_seed`` takes as a signed 64-bit number."""


def parse_whole(value: Any, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` (text from a form or the command line, or an int) as a whole number ≥ ``minimum``.

    The one reader of whole-number options: the forms, argparse (through
    ``dataloupe.tui.cli.common.whole``) and the settings' own checks. Raises :class:`SettingsError`
    naming the setting: "--batch-size must be a whole number ≥ 1, got 0".
    """
    bound = (
        f"a whole number ≥ {minimum}" if maximum is None else f"a whole number from {minimum} to {maximum:,}"
    )
    if isinstance(value, bool):
        raise SettingsError(f"{name} must be {bound}, got {value!r}.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        try:
            number = int(text)
        except ValueError:
            raise SettingsError(f"{name} must be {bound}, got {str(value)!r}.") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise SettingsError(f"{name} must be {bound}, got {number:,}.")
    return number


def parse_hidden(text: str) -> tuple[int, ...]:
    """Hidden sizes written "64,64,64" (or "256", or "" for none) as a tuple; SettingsError when malformed."""
    text = text.strip()
    if not text:
        return ()
    sizes = []
    for part in text.replace(" ", "").split(","):
        if not part.isdigit() or int(part) <= 0:
            raise SettingsError(
                f"hidden sizes {text!r}: {part!r} is not a positive whole number; write them like 64,64,64 or 256."
            )
        sizes.append(int(part))
    check_hidden(tuple(sizes), text)
    return tuple(sizes)


def check_hidden(sizes: tuple[int, ...], text: str | None = None) -> None:
    """Raise SettingsError when hidden sizes are not positive, too many, or too wide (``text``: as typed)."""
    shown = repr(text) if text is not None else format_hidden(sizes) or "none"
    if any(not isinstance(s, int) or isinstance(s, bool) or s <= 0 for s in sizes):
        raise SettingsError(f"hidden sizes {shown}: each must be a positive whole number, like 64,64,64.")
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise SettingsError(f"hidden sizes {shown}: {len(sizes)} layers; use at most {MAX_HIDDEN_LAYERS}.")
    if sizes and max(sizes) > MAX_LAYER_WIDTH:
        raise SettingsError(
            f"hidden sizes {shown}: a layer of {max(sizes):,}; keep each ≤ {MAX_LAYER_WIDTH:,}."
        )


def format_hidden(hidden: tuple[int, ...]) -> str:
    """(64, 64, 64) written "64,64,64"."""
    return ",".join(str(h) for h in hidden)


def one_of(choices: tuple[str, ...]) -> str:
    """("auto", "cpu", "cuda") written "auto, cpu or cuda"."""
    return ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else "".join(choices)


def suggested_lr(optimizer: str) -> float:
    """The learning rate to start ``optimizer`` with (0.001 for Adam, 0.01 for SGD)."""
    return DEFAULT_LR.get(optimizer, DEFAULT_LR["adam"])


@dataclass(frozen=True)
class TrainConfig:
    """One training run's settings; every field has a default a beginner can start from."""

    model: str = "mlp"  # "mlp" is the tutorials' network; "cnn" learns image features first
    hidden: tuple[int, ...] = DEFAULT_HIDDEN["mlp"]  # hidden widths: (64, 64, 64) deep and thin, (256,) wide
    optimizer: str = "adam"  # adam forgives a poorly chosen lr; sgd is the textbook baseline
    lr: float = DEFAULT_LR["adam"]  # 1e-3 suits Adam; SGD wants about 0.01..0.1
    momentum: float = 0.9  # SGD only: the tutorials' usual value
    epochs: int = 5  # passes over the training split
    batch_size: int = TRAIN_BATCH_SIZE  # the tutorials' batch size
    sampler: str = "random"  # "balanced" draws every class equally often, with replacement
    device: str = "auto"  # auto takes CUDA when it is there; cuda without a GPU falls back to the CPU
    seed: int = 0  # one seed fixes the initial weights, the sample order and a held-out test split
    eval_every: int = 0  # steps between evaluations within an epoch; 0: mid-epoch (and always at its end)
    eval_min_seconds: float = (
        1.0  # with eval_every 0, no mid-epoch evaluation sooner than this after the last
    )
    eval_train_samples: int = 2_000  # in-sample accuracy on a fixed training subset this big (about ±1%)
    eval_test_samples: int = 2_000  # within an epoch, test accuracy on a fixed subset; at its end, all of it
    transform: str = "normalized"  # pipeline mode the model sees: normalized (tutorials), scaled or raw
    test_fraction: float = TEST_FRACTION  # share of train held out when a dataset has no test split
    data_path: str = "auto"  # auto: one tensor on the device when it fits, else a DataLoader; or force one
    memory_limit: int = 2 * 1024**3  # bytes the held split may take on the device
    workers: int = 0  # DataLoader worker processes on the loader path (0 reads in the training thread)
    cuda_graph: bool = True  # on CUDA with the data held there, replay each step as one captured graph
    loss_smoothing: float = 0.9  # weight of the past in the loss chart's moving average
    report_interval: float = 0.1  # seconds between two snapshots sent to the caller
    history_points: int = 400  # points kept per chart series: plotting thousands would stall the screen

    def validate(self) -> None:
        """Raise :class:`SettingsError` naming the first setting that is out of range."""
        checks = [
            (self.model in ARCHITECTURES, f"model {self.model!r}: choose {one_of(ARCHITECTURES)}."),
            (
                self.optimizer in OPTIMIZERS,
                f"optimizer {self.optimizer!r}: choose {one_of(OPTIMIZERS)}.",
            ),
            (
                isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0,
                f"learning rate {self.lr!r}: it must be a positive number such as {DEFAULT_LR['adam']:g}.",
            ),
            (self.epochs >= 1, f"epochs {self.epochs}: train for at least 1 epoch."),
            (self.batch_size >= 1, f"batch size {self.batch_size}: use at least 1 (64 is usual)."),
            (self.sampler in TRAIN_SAMPLERS, f"sampler {self.sampler!r}: choose {one_of(TRAIN_SAMPLERS)}."),
            (self.device in DEVICES, f"device {self.device!r}: choose {one_of(DEVICES)}."),
            (self.eval_every >= 0, f"eval_every {self.eval_every}: use 0 (mid-epoch) or a number of steps."),
            (self.eval_min_seconds >= 0, f"eval_min_seconds {self.eval_min_seconds}: use 0 or more."),
            (self.transform in MODES, f"transform {self.transform!r}: choose one of {', '.join(MODES)}."),
            (0 < self.test_fraction < 1, f"test fraction {self.test_fraction}: it must lie between 0 and 1."),
            (self.data_path in DATA_PATHS, f"data path {self.data_path!r}: choose {one_of(DATA_PATHS)}."),
            (0 <= self.loss_smoothing < 1, f"loss smoothing {self.loss_smoothing}: use 0..1 (exclusive)."),
            (self.history_points >= 10, f"history points {self.history_points}: keep at least 10."),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        check_hidden(tuple(self.hidden))

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (for checkpoints and JSON output)."""
        d = asdict(self)
        d["hidden"] = format_hidden(self.hidden)
        return d


def with_changes(config: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``config`` with some fields changed (the form and the command line build configs so)."""
    try:
        return replace(config, **changes)
    except TypeError as e:
        raise SettingsError(f"unknown training setting: {e}") from None


def holdout_of(metrics: dict[str, Any] | None) -> tuple[int, float]:
    """(seed, test fraction) a trained model's run held its test split out with, from its stored metrics.

    Models saved before these were stored, or with malformed values, get the defaults.
    """
    config = (metrics or {}).get("config")
    config = config if isinstance(config, dict) else {}
    try:
        seed = int(config.get("seed", TrainConfig.seed))
        fraction = float(config.get("test_fraction", TEST_FRACTION))
    except (TypeError, ValueError):
        return TrainConfig.seed, TEST_FRACTION
    if not 0 < fraction < 1:
        fraction = TEST_FRACTION
    return seed, fraction
