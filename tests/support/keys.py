"""Keys sent together, as a terminal delivers them over SSH, and which pane a screen shows.

``burst`` puts keys in the app's queue all at once, as Textual's driver does with keys read in
one write (Pilot's ``press`` waits for the app to go idle after each key, so it never sends a
burst). ``active_pane`` reads the pane from a captured screen (tmux), for the end-to-end test
and ``bench_keys.py``.
"""

from __future__ import annotations

PANES = ("Dataset", "Preview", "Balance", "Checklist", "Batches", "Training")
"""The tab titles, in key order (1-6)."""

FOOTERS = {
    "Dataset": "^o Open",
    "Preview": "←→ sample",
    "Balance": "s split b train|test",
    "Checklist": "r re-check",
    "Batches": "n next e epoch",
    "Training": "r start p pause",
}
"""How each pane's footer begins when the keys are with it."""


def burst(app, *keys: str) -> None:
    """Queue ``keys`` (Textual's key names: "5", "right", "backspace") for the app in one go."""
    from textual import events

    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


def active_pane(screen: str) -> str | None:
    """The pane whose tab the underline (row 3) highlights, once it has settled under one tab; when a
    notification covers the underline, the pane whose keys the footer lists."""
    rows = screen.splitlines()
    if len(rows) < 3:
        return None
    if "▌" in rows[2] or "▌" in rows[1]:  # a toast over the tab bar
        return next((name for name, start in FOOTERS.items() if rows[-1].startswith(start)), None)
    tabs, underline = rows[1], rows[2]
    left = underline.find("╸")
    right = underline.find("╺", left + 1)
    start = left + 1 if left >= 0 else 0
    end = right if right >= 0 else len(underline)
    if end <= start:
        return None
    for name in PANES:
        at = tabs.find(name)
        if at >= 0:
            label_start, label_end = at - 2, at + len(name)  # "1 Dataset"
            if abs(label_start - start) <= 2 and abs(label_end - end) <= 2:
                return name
    return None
