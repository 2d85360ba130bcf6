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

    @classmethod
    def read(cls, handle: DatasetHandle) -> DatasetFacts:
        """Decode the first sample of ``handle`` (in a worker) and describe the dataset."""
        return cls(handle.describe(), tuple(int(s) for s in handle.sample_shape))


class TorchReady(Message):
    """torch and torchvision have finished importing in the background."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        """How long the import took."""


class DatasetProgress(Message):
    """How far opening (or downloading) a dataset has come."""

    def __init__(self, what: str, fraction: float | None, request: int | None = None) -> None:
        super().__init__()
        self.request = request
        """Which open this is about (a superseded open's reports are dropped); None: always shown."""
        self.what = what
        """What is being done: "downloading t10k-images-idx3-ubyte.gz"."""
        self.fraction = fraction
        """0..1, or None when the total is unknown."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DatasetProgress)


class DatasetOpened(Message):
    """A dataset has been opened; every pane should show it."""

    def __init__(
        self,
        handle: DatasetHandle,
        spec: DatasetSpec,
        split: str,
        seconds: float,
        facts: DatasetFacts | None = None,
        request: int | None = None,
    ) -> None:
        super().__init__()
        self.request = request
        """Which open this answers (a superseded open's result is dropped); None: always shown."""
        self.handle = handle
        """The opened dataset."""
        self.spec = spec
        """What was asked for."""
        self.split = split
        """The split to show first."""
        self.seconds = seconds
        """How long opening took."""
        self.facts = facts
        """Its description and sample shape, read in the worker (None: the panes show less)."""


class DatasetFailed(Message):
    """Opening a dataset failed; ``text`` says why and what to do."""

    def __init__(
        self, spec: DatasetSpec, text: str, cancelled: bool = False, request: int | None = None
    ) -> None:
        super().__init__()
        self.request = request
        """Which open this answers (a superseded open's failure is dropped); None: always shown."""
        self.cancelled = cancelled
        """The user cancelled it: not an error."""
        self.spec = spec
        """What was asked for."""
        self.text = text
        """The message for the user."""
