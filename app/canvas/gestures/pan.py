"""Panning the view: middle-button drag, or left drag while Space is held."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

__all__ = ["Pan"]


class Pan:
    """A view-level gesture (it works in viewport pixels, not scene coordinates)."""

    def __init__(self, view, pos: QPoint) -> None:
        self.view = view
        self.last = pos
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, pos: QPoint) -> None:
        delta = pos - self.last
        self.last = pos
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - delta.x())
        v.setValue(v.value() - delta.y())

    def finish(self) -> None:
        self.view.viewport().setCursor(
            Qt.CursorShape.OpenHandCursor if self.view.space_held else Qt.CursorShape.ArrowCursor)
