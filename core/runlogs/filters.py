"""Which tags and runs to show: one filter for the watch screen's ``/`` and ``f`` and for
``watch --once --tags REGEX``.

A filter is a regular expression searched anywhere in the name, case not mattering; text that is
not a valid expression ("loss(") is taken as a plain substring, so typing never fails halfway.

    python -c "from dataloupe.core.runlogs.filters import NameFilter; print(NameFilter('^val').matches('val/loss'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NameFilter:
    """A substring or regular expression that names must contain; empty keeps every name."""

    text: str = ""
    """What the user typed."""
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = None
        if self.text:
            try:
                pattern = re.compile(self.text, re.IGNORECASE)
            except re.error:
                pattern = re.compile(re.escape(self.text), re.IGNORECASE)
        object.__setattr__(self, "_pattern", pattern)

    @property
    def is_regex(self) -> bool:
        """Whether the text is used as a regular expression (it compiles) rather than a substring."""
        try:
            re.compile(self.text)
        except re.error:
            return False
        return True

    def matches(self, name: str) -> bool:
        """Whether ``name`` passes the filter."""
        return self._pattern is None or self._pattern.search(name) is not None


def strict_filter(text: str) -> NameFilter:
    """A filter from the command line, where a bad expression is an error (ValueError says why)."""
    try:
        re.compile(text)
    except re.error as e:
        raise ValueError(f"{text!r} is not a regular expression ({e})") from e
    return NameFilter(text)
