"""The batches pane (to come): DataLoader batches exactly as training sees them: batch size, shuffle, seed, sampler (sequential, random, class-balanced), a fresh shuffle each epoch, with shapes, dtypes, statistics and the samples of each batch."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from tui.pane import Pane


class BatchesPane(Pane):
    """Placeholder until this pane is built: says what it will show."""

    def compose(self) -> ComposeResult:
        yield Static(
            "Batches, to come.\n\nDataLoader batches exactly as training sees them: batch size, shuffle, seed, sampler (sequential, random, class-balanced), a fresh shuffle each epoch, with shapes, dtypes, statistics and the samples of each batch.",
            classes="pane-placeholder",
        )
