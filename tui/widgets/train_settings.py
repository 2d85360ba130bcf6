"""The training form: model, hidden sizes (with the parameter count), optimizer, learning rate, epochs,
batch size, sampler, device, seed, and the checkpoint file to save to or load from.

Its defaults and choices come from :mod:`dataloupe.core.settings`, which imports no torch, so the form
draws before torch has loaded. Only the parameter count needs ``dataloupe.core.training.models`` (torch).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

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
    parse_whole,
)
from dataloupe.tui.widgets.choice import Choice

if TYPE_CHECKING:
    from dataloupe.core.training.models import ModelSpec

DEFAULT_HIDDEN_TEXT = {model: format_hidden(sizes) for model, sizes in DEFAULT_HIDDEN.items()}
"""Hidden sizes put in when the model changes and the field still holds the other model's default."""
DEFAULT_LR_TEXT = {optimizer: f"{lr:g}" for optimizer, lr in DEFAULT_LR.items()}
"""Learning rate put in when the optimizer changes and the field still holds the other one's default."""
CHOICE_LABELS = {
    "mlp": "MLP (the tutorials')",
    "cnn": "small CNN (images)",
    "adam": "Adam",
    "sgd": "SGD (momentum 0.9)",
    "random": "random",
    "balanced": "class-balanced",
    "auto": "auto (CUDA if there)",
    "cpu": "cpu",
    "cuda": "cuda",
}
"""How each choice of :mod:`dataloupe.core.settings` reads in the form's menus."""
DEFAULT_CHECKPOINT = "dataloupe-model.pt"
"""File saved to and loaded from, relative to the working folder."""


class TrainSettings(VerticalScroll):
    """The run's settings as a compact form; Escape or Enter hands the keys back to the pane."""

    BINDINGS = [Binding("escape", "leave", "keys", show=False)]
    can_focus = False  # Tab goes straight to the fields; the pane keeps the keys otherwise

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.input_shape: tuple[int, ...] | None = None
        """Sample shape of the open dataset (for the parameter count)."""
        self.num_classes = 0
        """Classes of the open dataset."""
        self.sizes_vary = False
        """The dataset's images differ in size: no parameter count until a resize gives them one size."""

    def compose(self) -> ComposeResult:
        d = TrainConfig()
        with Horizontal(classes="row"):
            yield Label("Model", classes="field-label")
            yield Choice(
                _options(ARCHITECTURES),
                value=d.model,
                allow_blank=False,
                compact=True,
                id="train-model",
            )
        with Horizontal(classes="row"):
            yield Label("Hidden", classes="field-label")
            yield Input(
                format_hidden(d.hidden), placeholder="64,64,64 or 256", compact=True, id="train-hidden"
            )
            yield Static("", id="param-count")
        with Horizontal(classes="row"):
            yield Label("Optimizer", classes="field-label")
            yield Choice(
                _options(OPTIMIZERS),
                value=d.optimizer,
                allow_blank=False,
                compact=True,
                id="train-optimizer",
            )
            yield Label("lr", classes="field-label-short")
            yield Input(f"{d.lr:g}", compact=True, id="train-lr")
        with Horizontal(classes="row"):
            yield Label("Epochs", classes="field-label")
            yield Input(str(d.epochs), compact=True, id="train-epochs")
            yield Label("batch", classes="field-label-short")
            yield Input(str(d.batch_size), compact=True, id="train-batch")
        with Horizontal(classes="row"):
            yield Label("Sampler", classes="field-label")
            yield Choice(
                _options(TRAIN_SAMPLERS),
                value=d.sampler,
                allow_blank=False,
                compact=True,
                id="train-sampler",
            )
        with Horizontal(classes="row"):
            yield Label("Device", classes="field-label")
            yield Choice(
                _options(DEVICES),
                value=d.device,
                allow_blank=False,
                compact=True,
                id="train-device",
            )
            yield Label("seed", classes="field-label-short")
            yield Input(str(d.seed), compact=True, id="train-seed")
        with Horizontal(classes="row"):
            yield Label("Checkpoint", classes="field-label")
            yield Input(DEFAULT_CHECKPOINT, compact=True, id="train-checkpoint")

    def on_mount(self) -> None:
        self.update_parameter_count()

    # ------------------------------------------------------------------ reading
    def _text(self, field: str) -> str:
        return self.query_one(f"#train-{field}", Input).value.strip()

    def _choice(self, field: str) -> str:
        return str(self.query_one(f"#train-{field}", Select).value)

    def _number(self, field: str, label: str, example: str) -> float:
        text = self._text(field)
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{label} {text!r} is not a number; try {example}.") from None

    def _whole(self, field: str, label: str, minimum: int = 1) -> int:
        return parse_whole(self._text(field), label, minimum=minimum)

    def hidden(self) -> tuple[int, ...]:
        """The hidden sizes typed; SettingsError when malformed."""
        return parse_hidden(self._text("hidden"))

    def config(self, **extra: Any) -> TrainConfig:
        """The settings as a TrainConfig (plus ``extra`` fields); SettingsError naming a bad field."""
        d = TrainConfig()
        config = TrainConfig(
            model=self._choice("model"),
            hidden=self.hidden(),
            optimizer=self._choice("optimizer"),
            lr=self._number("lr", "Learning rate", f"{d.lr:g}"),
            epochs=self._whole("epochs", "Epochs"),
            batch_size=self._whole("batch", "Batch size"),
            sampler=self._choice("sampler"),
            device=self._choice("device"),
            seed=self._whole("seed", "Seed", minimum=0),
            **extra,
        )
        config.validate()
        return config

    def model_spec(self) -> ModelSpec:
        """The network the form describes for the open dataset; SettingsError when it cannot be built."""
        from dataloupe.core.training.models import ModelSpec

        if self.input_shape is None:
            raise SettingsError("Open a dataset first (key 1): the model's input depends on it.")
        return ModelSpec(self._choice("model"), self.hidden(), self.input_shape, self.num_classes)  # type: ignore[arg-type]

    def checkpoint_path(self) -> Path:
        """The checkpoint file typed (default ``dataloupe-model.pt``)."""
        return Path(self._text("checkpoint") or DEFAULT_CHECKPOINT).expanduser()

    # ------------------------------------------------------------------ keeping it consistent
    def set_dataset(self, input_shape: tuple[int, ...], num_classes: int, sizes_vary: bool = False) -> None:
        """The open dataset changed: recount the parameters (none when its images differ in size)."""
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.sizes_vary = sizes_vary
        self.update_parameter_count()

    def update_parameter_count(self) -> None:
        """Show the trainable parameter count of the network the form describes."""
        label = self.query_one("#param-count", Static)
        if self.input_shape is None or "torch" not in sys.modules:
            label.update(
                "params: open a dataset"
            )  # counting needs dataloupe.core.training.models, which imports torch
            return
        if self.sizes_vary:  # sample 0's size is not the model's: there is no one input size to count from
            label.update("no count: images differ in size; needs --resize")
            return
        try:
            spec = self.model_spec()
        except SettingsError as e:
            label.update(f"✗ {e}")
            return
        label.update(f"{spec.parameter_count():,} params")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "train-hidden":
            self.update_parameter_count()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_leave()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "train-model":
            hidden = self.query_one("#train-hidden", Input)
            if hidden.value.strip() in DEFAULT_HIDDEN_TEXT.values():
                hidden.value = DEFAULT_HIDDEN_TEXT[str(event.value)]
            self.update_parameter_count()
        elif event.select.id == "train-optimizer":
            lr = self.query_one("#train-lr", Input)
            if lr.value.strip() in DEFAULT_LR_TEXT.values():
                lr.value = DEFAULT_LR_TEXT[str(event.value)]

    @dataclass
    class Left(Message):
        """The user is done with the form (Esc or Enter): the pane takes the keys back (r start, v view, …)."""

    def action_leave(self) -> None:
        """Give the keys back to the pane: it hears :class:`Left`."""
        self.post_message(self.Left())


def _options(choices: tuple[str, ...]) -> list[tuple[str, str]]:
    """(label, value) pairs for a Select over ``choices``."""
    return [(CHOICE_LABELS.get(choice, choice), choice) for choice in choices]
