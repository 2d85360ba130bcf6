"""Messages that workers post to the app.

Workers run in threads; ``post_message`` is thread-safe, so this is how they report.
They never touch a widget. Each message is a small immutable value; a frequent one
says that a newer copy replaces an older one still waiting in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.data.sources import DatasetSpec


@dataclass(frozen=True)
class DatasetFacts:
    """What the panes show about an open dataset that takes decoding a sample to know.

    Read by the worker that opened the dataset, so the UI thread never decodes a sample itself.
    """

    description: str
    """A few lines about the dataset (``DatasetHandle.describe()``)."""
    sample_shape: tuple[int, ...]
    """Shape of one sample as the pipeline returns it."""
    sizes_vary: bool = False
    """The training split's images come in more than one size (no resize): a model's input size is unknown."""

    @classmethod
    def read(cls, handle: DatasetHandle) -> DatasetFacts:
        """Decode the first sample of ``handle`` (in a worker) and describe the dataset."""
        from dataloupe.core.data.pipeline import sizes_vary

        split = handle.splits[handle.default_split()]
        return cls(
            handle.describe(), tuple(int(s) for s in handle.sample_shape), sizes_vary(split, handle.pipeline)
        )


@dataclass
class TorchReady(Message):
    """torch and torchvision have finished importing in the background."""

    seconds: float
    """How long the import took."""


@dataclass
class DatasetProgress(Message):
    """How far opening (or downloading) a dataset has come."""

    what: str
    """What is being done: "downloading t10k-images-idx3-ubyte.gz"."""
    fraction: float | None
    """0..1, or None when the total is unknown."""
    request: int | None = None
    """Which open this is about (a superseded open's reports are dropped); None: always shown."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DatasetProgress)


@dataclass
class DatasetOpened(Message):
    """A dataset has been opened; every pane should show it."""

    handle: DatasetHandle
    """The opened dataset."""
    spec: DatasetSpec
    """What was asked for."""
    split: str
    """The split to show first."""
    seconds: float
    """How long opening took."""
    facts: DatasetFacts | None = None
    """Its description and sample shape, read in the worker (None: the panes show less)."""
    request: int | None = None
    """Which open this answers (a superseded open's result is dropped); None: always shown."""


@dataclass
class DatasetFailed(Message):
    """Opening a dataset failed; ``text`` says why and what to do."""

    spec: DatasetSpec
    """What was asked for."""
    text: str
    """The message for the user."""
    cancelled: bool = False
    """The user cancelled it: not an error."""
    request: int | None = None
    """Which open this answers (a superseded open's failure is dropped); None: always shown."""
