"""The app through Pilot: wait for start-up, wait for a condition, and read the screen.

Every test that reads what the app shows reads it with :func:`screen_text`; every test that waits
waits with :func:`wait_for` or :func:`settle`, never for a fixed time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable


async def settle(app, pilot, rounds: int = 20) -> None:
    """Wait until the app's start-up work has begun, no worker is pending or running, and the screen
    has caught up with the messages they posted.

    The app opens its dataset once the first screen is drawn (``first_paint``); before that there
    is no worker to wait for. A worker counts until it has finished: a pending one has not begun.
    """
    from textual.worker import WorkerCancelled, WorkerFailed

    def busy() -> bool:
        return any(not w.is_finished for w in app.workers)

    await wait_for(pilot, lambda: getattr(app, "first_paint", 0) is not None, what="the first screen")
    for _ in range(rounds):
        # an exclusive worker replaced by a newer one, or a failure the app reports itself
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not busy():
            await pilot.pause()
            if not busy():
                return


async def wait_for(pilot, predicate, timeout: float = 10.0, what: str | Callable[[], str] = "") -> None:
    """Let the app run until ``predicate()`` is true; fail with ``what`` after ``timeout`` seconds
    (a callable ``what`` is called then, to describe what the app shows at that moment)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {described or predicate}")
        await pilot.pause(0.02)


async def open_training(app, pilot, **fields: str):
    """Wait for the app's start-up, open the training tab (its widgets are made when first shown) and
    type ``fields`` into its form (``epochs="1000"`` sets ``#train-epochs``); return the pane."""
    from dataloupe.tui.panes.training_pane import TrainingPane

    await settle(app, pilot)
    await pilot.press("6")
    await wait_for(pilot, lambda: app.query("#train-epochs"), what="the training pane, made when first shown")
    pane = app.query_one(TrainingPane)
    for field, value in fields.items():
        pane.query_one(f"#train-{field}").value = value
    await pilot.pause()
    return pane


def screen_text(app) -> str:
    """Every character on screen (from the SVG export), spaces normalized."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg))).replace("\xa0", " ")


def screen_lines(app) -> list[str]:
    """The screen as lines of text, one per terminal row, each as wide as the screen.

    Read from the same SVG export as :func:`screen_text` (Textual's public screenshot), with every
    piece of text put back at its column, so that tests can check what stands where.
    """
    import html
    import re

    svg = app.export_screenshot()
    width, height = app.size.width, app.size.height
    line = re.search(r'<clipPath id="[^"]*-line-0">\s*<rect x="0" y="[\d.]+" width="([\d.]+)"', svg)
    assert line is not None, "the screenshot's layout changed: support.pilot.screen_lines must follow it"
    cell = float(line.group(1)) / width
    rows = [[" "] * width for _ in range(height)]
    pieces = r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" clip-path="url\(#[^"]*-line-(\d+)\)">(.*?)</text>'
    for piece in re.finditer(pieces, svg):
        column, row = round(float(piece.group(1)) / cell), int(piece.group(2))
        for i, char in enumerate(html.unescape(piece.group(3)).replace("\xa0", " ")):
            if row < height and column + i < width:
                rows[row][column + i] = char
    return ["".join(r) for r in rows]
