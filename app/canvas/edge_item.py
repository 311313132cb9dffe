"""A wire between two nodes: a curve from an output port to an input port, labelled with the
tensor shape it carries. Pure view."""
from __future__ import annotations

import re

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QFont, QFontMetricsF, QPainter, QPainterPath,
                           QPainterPathStroker, QPen)
from PySide6.QtWidgets import QGraphicsItem

from layerlab.engine import Edge

from ..theme import Theme
from .port_item import PORT_RADIUS

__all__ = ["EdgeItem", "wire_path"]

_SQUARE = re.compile(r"(\d+)×(\d+)×\2\b")


LOD_LABELS = 0.35    # below this zoom wires are drawn plain, without their shape labels
ARCH_MIN_DX = 300.0   # a same-row wire longer than this would pass behind other layers


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A horizontal-tangent curve from ``a`` (an output) to ``b`` (an input). A long wire
    along a row (a skip connection) arches over the layers in between, higher when longer."""
    dx = b.x() - a.x()
    if dx > ARCH_MIN_DX and abs(b.y() - a.y()) < 60:
        lift = min(110.0 + 0.1 * dx, 420.0)
        top = min(a.y(), b.y()) - lift
        path = QPainterPath(a)
        path.cubicTo(QPointF(a.x() + 70, a.y()), QPointF(a.x() + 40, top),
                     QPointF(a.x() + dx / 2, top))
        path.cubicTo(QPointF(b.x() - 40, top), QPointF(b.x() - 70, b.y()), b)
        return path
    bend = max(40.0, abs(dx) * 0.5) if dx >= 0 else max(80.0, min(240.0, -dx * 0.5))
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + bend, a.y()), QPointF(b.x() - bend, b.y()), b)
    return path


class EdgeItem(QGraphicsItem):
    _font: QFont | None = None
    _metrics: QFontMetricsF | None = None

    def __init__(self, edge: Edge, source_item, target_item, theme: Theme) -> None:
        super().__init__()
        self.edge = edge
        self.source_item = source_item
        self.target_item = target_item
        self.theme = theme
        self.text = ""
        self.shown = ""
        self.known = False
        self.highlight = False
        self._hover = False
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._room = float("inf")
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.adjust()

    @classmethod
    def _load_font(cls) -> None:
        if cls._font is None:
            cls._font = QFont()
            cls._font.setPointSizeF(8.0)
            cls._metrics = QFontMetricsF(cls._font)

    def display_text(self, room: float) -> str:
        """The label, written compactly (64×112² for 64×112×112) when the gap is tight."""
        if self._metrics.horizontalAdvance(self.text) + 12 <= room:
            return self.text
        return _SQUARE.sub(lambda m: f"{m[1]}×{m[2]}²", self.text)

    def set_label(self, text: str, known: bool) -> None:
        if (text, known) == (self.text, self.known):
            return
        self.text, self.known = text, known
        self.setToolTip(f"{self.edge.source} → {self.edge.target}: carries {text.split(': ')[-1]}"
                        " per sample")
        shown = self.display_text(self._room) if text else ""
        width = self._metrics.horizontalAdvance(shown) + 12 if shown else 0
        if abs(width - self._label_rect.width()) < 0.5:
            self.shown = shown            # same size: repaint, no geometry change
            self.update(self._label_rect)
        else:
            self.adjust()

    def set_highlight(self, on: bool) -> None:
        if on != self.highlight:
            self.highlight = on
            self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def adjust(self) -> None:
        """Recompute the curve after an end moved."""
        self._load_font()
        self.prepareGeometryChange()
        out = self.source_item.output_port
        a = out.scenePos() if out else self.source_item.center()
        port = self.target_item.input_port
        b = port.scenePos() if port else self.target_item.center()
        self._path = wire_path(a, b)
        mid = self._path.pointAtPercent(0.5)
        straight = abs(b.y() - a.y()) < 40 and b.x() > a.x()
        self._room = b.x() - a.x() - 4 if straight else float("inf")
        self.shown = self.display_text(self._room) if self.text else ""
        w = self._metrics.horizontalAdvance(self.shown) + 12 if self.shown else 0
        h = self._metrics.height() + 4
        # above the wire and its port circles, so both ports stay visible in a tight gap
        self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - PORT_RADIUS - 3, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._path.boundingRect().united(self._label_rect).adjusted(-6, -6, 6, 6)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        shape = stroker.createStroke(self._path)
        if self.text:
            shape.addRect(self._label_rect)
        return shape

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def paint(self, p: QPainter, option, widget=None) -> None:
        t = self.theme
        detailed = option.levelOfDetailFromTransform(p.worldTransform()) >= LOD_LABELS
        p.setRenderHint(QPainter.RenderHint.Antialiasing, detailed)
        if self.highlight:
            color, width = t.ok, 4.0
        elif self.isSelected():
            color, width = t.selection, 3.0
        else:
            color, width = QColor(t.edge), (2.6 if self._hover else 1.8)
        pen = QPen(color, width)
        if not self.known:
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(self._path)
        if self.text and detailed:
            p.setPen(QPen(color if (self.isSelected() or self.highlight) else t.node_border, 1))
            p.setBrush(t.edge_label_fill)
            r = self._label_rect
            p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
            p.setFont(self._font)
            p.setPen(t.edge_label_text if self.known else t.dim_text)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.shown)
