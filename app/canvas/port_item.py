"""A node's input (left) or output (right) connector. Pure view: gestures read it."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

__all__ = ["PortItem", "PORT_RADIUS"]

PORT_RADIUS = 6.0
_HIT = 11.0


class PortItem(QGraphicsItem):
    """``kind`` is "in" or "out"; ``multi`` draws the taller slot of a Concat/Add input."""

    def __init__(self, node_item, kind: str, multi: bool = False) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.kind = kind
        self.multi = multi
        self._hover = False
        self._flash: QColor | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        self.setToolTip("Drag from here to a layer to wire this output into it" if kind == "out"
                        else "Input: drag a wire here from another layer's output"
                        + (" (several inputs, in order)" if multi else ""))

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def scene_anchor(self) -> QPointF:
        return self.scenePos()

    def set_flash(self, color: QColor | None) -> None:
        """Colour the port while a wire hovers it (green: accepted, red: refused)."""
        if color != self._flash:
            self._flash = color
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        h = _HIT * (1.6 if self.multi else 1.0)
        return QRectF(-_HIT, -h, 2 * _HIT, 2 * h)

    def paint(self, p: QPainter, option, widget=None) -> None:
        theme = self.node_item.theme
        accent = self._flash or (theme.selection if self._hover else self.node_item.accent)
        r = PORT_RADIUS * (1.35 if self._hover or self._flash else 1.0)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(accent, 2.0))
        p.setBrush(accent if self.kind == "out" else theme.node_fill)
        if self.multi:
            p.drawRoundedRect(QRectF(-r, -2.2 * r, 2 * r, 4.4 * r), r, r)
        else:
            p.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()
