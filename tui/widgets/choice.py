"""A drop-down that never takes the pane keys: ``1``–``6`` and ``q`` reach the app even while it is open.

Textual's ``Select`` searches its options as you type, so with the list open a digit was eaten by
the search and the pane keys seemed dead (found by ``tests/bench/bench_keys.py``, seed 0). The
options here are short lists chosen with the arrow keys; typing to search them buys nothing.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Select


class Choice(Select):
    """``Select`` without type-to-search (CSS and queries that name ``Select`` still match it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("type_to_search", False)
        super().__init__(*args, **kwargs)
