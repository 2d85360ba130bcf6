"""Checkbox and radio button that show their state by glyph, not by colour alone: ``[x]``/``[ ]``, ``(*)``/``( )``.

Textual's own draw ``▐X▌`` whether on or off and leave the difference to colour, which is
lost under ``NO_COLOR`` and in ASCII. These are drop-in replacements (CSS and queries that
name ``Checkbox`` or ``RadioButton`` still match them).
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox as _Checkbox
from textual.widgets import RadioButton as _RadioButton


def _mark(button: _Checkbox | _RadioButton, left: str, on: str, right: str) -> Content:
    style = button.get_visual_style("toggle--button")
    return Content.assemble(left, (on if button.value else " ", style), right)


class Checkbox(_Checkbox):
    """A checkbox drawn as ``[x]`` when on and ``[ ]`` when off."""

    @property
    def _button(self) -> Content:
        return _mark(self, "[", "x", "]")


class RadioButton(_RadioButton):
    """A radio button drawn as ``(*)`` when chosen and ``( )`` when not."""

    @property
    def _button(self) -> Content:
        return _mark(self, "(", "*", ")")
