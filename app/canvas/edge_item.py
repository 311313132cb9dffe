"""A wire between two nodes: a curve from an output port to an input port, labelled with the
tensor shape it carries. Pure view."""
from __future__ import annotations

import re

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QFont, QFontMetricsF, QPainter, QPainterPath,
                           QPainterPathStroker, QPen)
from PySide6.QtWidgets import QGraphicsItem

from layerlab.engine import Edge

from ..theme import Theme
from .port_item import PORT_RADIUS

__all__ = ["EdgeItem", "wire_path"]

_BY_BOUNDS = Qt.ItemSelectionMode.IntersectsItemBoundingRect
_SQUARE = re.compile(r"(\d+)×(\d+)×\2\b")


LOD_LABELS = 0.55    # below this zoom wires are drawn plain (the cards show the shapes)
ARCH_MIN_DX = 300.0   # a same-row wire longer than this would pass behind other layers
ARCH_LIFT = 130.0     # how far above its ports a skip connection runs (the layout's lane)
RETURN_OUT = 24.0     # a wire back to the left first leaves its port by this much
RETURN_RADIUS = 14.0
#: Where along a wire its label may sit, best first.
LABEL_SPOTS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82)


def wire_path(a: QPointF, b: QPointF, channel: float | None = None) -> QPainterPath:
    """A horizontal-tangent curve from ``a`` (an output) to ``b`` (an input). A long wire
    along a row (a skip connection) arches over the layers in between, into the lane the
    layout keeps free above them. A wire back to the left (from the end of one row to the
    start of the next, or to a layer placed before it) runs out of its port, along the free
    horizontal ``channel`` between the rows, and into its target from the left."""
    dx = b.x() - a.x()
    if dx > ARCH_MIN_DX and abs(b.y() - a.y()) < 60:
        top = min(a.y(), b.y()) - ARCH_LIFT
        path = QPainterPath(a)
        path.cubicTo(QPointF(a.x() + 70, a.y()), QPointF(a.x() + 40, top),
                     QPointF(a.x() + dx / 2, top))
        path.cubicTo(QPointF(b.x() - 40, top), QPointF(b.x() - 70, b.y()), b)
        return path
    if dx < -RETURN_OUT and abs(b.y() - a.y()) > 2 * RETURN_RADIUS:
        return _return_path(a, b, (a.y() + b.y()) / 2 if channel is None else channel)
    bend = max(40.0, abs(dx) * 0.5) if dx >= 0 else max(80.0, min(240.0, -dx * 0.5))
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + bend, a.y()), QPointF(b.x() - bend, b.y()), b)
    return path


def _return_path(a: QPointF, b: QPointF, channel: float) -> QPainterPath:
    """Out to the right, along ``channel``, in from the left: four rounded corners."""
    r = RETURN_RADIUS
    right, left = a.x() + RETURN_OUT, b.x() - RETURN_OUT
    path = QPainterPath(a)
    for corner, nxt in (((right, a.y()), (right, channel)), ((right, channel), (left, channel)),
                        ((left, channel), (left, b.y())), ((left, b.y()), (b.x(), b.y()))):
        _rounded_to(path, QPointF(*corner), QPointF(*nxt), r)
    path.lineTo(b)
    return path


def _rounded_to(path: QPainterPath, corner: QPointF, nxt: QPointF, r: float) -> None:
    here = path.currentPosition()
    into = QLineF(here, corner)
    out = QLineF(corner, nxt)
    r = min(r, into.length() / 2, out.length() / 2)
    if into.length() > 0:
        path.lineTo(into.pointAt(1 - r / into.length()))
    if out.length() > 0:
        path.quadTo(corner, out.pointAt(r / out.length()))


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
        self._bounds = QRectF()
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
        """Recompute the curve after an end moved. Looking around for free room (the
        channel of a wire back to the left, a free spot for the label) queries the scene,
        which must not happen inside an item's move: the scene asks for it right after
        (GraphScene.queue_route → route_around)."""
        self._route(look=False)
        scene = self.scene()
        if scene is not None and hasattr(scene, "queue_route"):
            scene.queue_route(self)

    def route_around(self) -> None:
        if self.scene() is not None:
            self._route(look=True)
            self.update()

    def _route(self, look: bool) -> None:
        self._load_font()
        self.prepareGeometryChange()
        out = self.source_item.output_port
        a = out.scenePos() if out else self.source_item.center()
        port = self.target_item.input_port
        b = port.scenePos() if port else self.target_item.center()
        self._path = wire_path(a, b, self._free_channel(a, b) if look else None)
        straight = abs(b.y() - a.y()) < 40 and b.x() > a.x()
        self._room = b.x() - a.x() - 4 if straight else float("inf")
        self.shown = self.display_text(self._room) if self.text else ""
        w = self._metrics.horizontalAdvance(self.shown) + 12 if self.shown else 0
        h = self._metrics.height() + 4
        self._label_rect = (self._free_label_rect(w, h) if look
                            else self._label_at(LABEL_SPOTS[0], w, h))
        self._bounds = self._path.boundingRect().united(self._label_rect).adjusted(-6, -6, 6, 6)

    def _label_at(self, t: float, w: float, h: float) -> QRectF:
        at = self._path.pointAtPercent(t)
        return QRectF(at.x() - w / 2, at.y() - h - PORT_RADIUS - 3, w, h)

    def _free_label_rect(self, w: float, h: float) -> QRectF:
        """Above the wire's middle (clear of its port circles in a tight gap), or, when a
        card or another wire's label is there, the nearest free spot along the wire."""
        first = None
        for t in LABEL_SPOTS:
            rect = self._label_at(t, w, h)
            if first is None:
                first = rect
            if not w or not self._label_blocked(rect):
                return rect
        return first

    def _label_blocked(self, rect: QRectF) -> bool:
        scene = self.scene()
        if scene is None:
            return False
        for item in scene.items(rect, _BY_BOUNDS):   # bounds, not shapes: no path stroking
            if getattr(item, "is_node_card", False):
                if item.sceneBoundingRect().adjusted(3, 3, -3, -3).intersects(rect):
                    return True
                continue
            if (isinstance(item, EdgeItem) and item is not self and item.shown
                    and item._label_rect.intersects(rect)):
                return True
        return False

    def _free_channel(self, a: QPointF, b: QPointF) -> float | None:
        """For a wire back to the left: the middle of the widest horizontal strip between
        its ends that no layer card occupies (the gap between two rows), else None."""
        scene = self.scene()
        if scene is None or b.x() >= a.x() - RETURN_OUT:
            return None
        lo, hi = sorted((a.y(), b.y()))
        span = QRectF(QPointF(b.x() - RETURN_OUT - 8, lo), QPointF(a.x() + RETURN_OUT + 8, hi))
        cards = sorted((r.top(), r.bottom()) for r in
                       (i.sceneBoundingRect() for i in scene.items(span, _BY_BOUNDS)
                        if getattr(i, "is_node_card", False)))
        best, best_gap, reach = None, 0.0, lo
        for top, bottom in cards + [(hi, hi)]:
            if top - reach > best_gap:
                best, best_gap = (reach + top) / 2, top - reach
            reach = max(reach, bottom)
        return best

    def boundingRect(self) -> QRectF:  # noqa: N802  (cached: the scene index asks often)
        return self._bounds

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
