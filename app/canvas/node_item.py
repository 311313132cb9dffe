"""One layer on the canvas: a card with its type, id, key parameters, output shape and
parameter count. Pure view — it never touches the document; gestures move and wire it."""
from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from layerlab.engine import find_layer

from ..icons import paint_group_glyph
from ..theme import Theme, group_color
from .labels import NodeLabel
from .port_item import PortItem

__all__ = ["NodeItem", "NODE_WIDTH", "NODE_HEIGHT"]

NODE_WIDTH = 150.0
HEADER = 24.0
NODE_HEIGHT = 104.0
PAD = 9.0
RADIUS = 7.0
LOD_SIMPLE = 0.35   # below this zoom a card is drawn without text


class _Fonts:
    """Created on first paint (a QGuiApplication must exist)."""
    ready = False

    @classmethod
    def load(cls) -> None:
        if cls.ready:
            return
        base = QFont()
        cls.header = QFont(base)
        cls.header.setPointSizeF(9.0)
        cls.header.setBold(True)
        cls.ident = QFont(base)
        cls.ident.setPointSizeF(10.5)
        cls.ident.setBold(True)
        cls.small = QFont(base)
        cls.small.setPointSizeF(8.5)
        cls.shape = QFont(base)
        cls.shape.setPointSizeF(9.5)
        cls.shape.setBold(True)
        cls.small_metrics = QFontMetricsF(cls.small)
        cls.ready = True


class NodeItem(QGraphicsItem):
    def __init__(self, node_id: str, type_name: str, theme: Theme) -> None:
        super().__init__()
        self.node_id = node_id
        self.theme = theme
        spec = find_layer(type_name)
        self.group = spec.group if spec else ""
        self.accent = group_color(self.group)
        self.label: NodeLabel | None = None
        self.label_key: tuple | None = None   # what the label was made from (scene's cache)
        self.edges: set = set()   # EdgeItems attached (kept by the scene)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        # the card is repainted from a pixmap while panning/zooming, redrawn when it changes
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        takes = spec is None or spec.takes_inputs
        multi = bool(spec and spec.max_inputs is None)
        self.input_port = PortItem(self, "in", multi) if takes else None
        self.output_port = PortItem(self, "out")
        if self.input_port:
            self.input_port.setPos(0, NODE_HEIGHT / 2)
        self.output_port.setPos(NODE_WIDTH, NODE_HEIGHT / 2)

    # --- state from the scene ---------------------------------------------------------------
    def set_label(self, label: NodeLabel) -> None:
        if label == self.label:
            return
        self.label = label
        self.node_id = label.node_id
        self.setOpacity(0.45 if label.status == "unknown" else 1.0)
        tip = f"<b>{html.escape(label.node_id)}</b> — {html.escape(label.type)}"
        spec = find_layer(label.type)
        if spec:
            tip += f"<br>{html.escape(spec.summary)}"
        if label.status == "error" and label.error:
            tip += (f"<br><br><span style='color:{self.theme.error.name()}'><b>Problem:</b> "
                    f"{html.escape(label.error)}</span>")
        elif label.status == "unknown":
            tip += "<br><br><i>Shape unknown: fix the problem upstream first.</i>"
        self.setToolTip(tip)
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()
        for port in (self.input_port, self.output_port):
            if port:
                port.update()

    def center(self) -> QPointF:
        return self.pos() + QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2)

    # --- QGraphicsItem ---------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-3, -3, NODE_WIDTH + 6, NODE_HEIGHT + 6)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), RADIUS, RADIUS)
        return path

    def itemChange(self, change, value):  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.adjust()
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(2 if value else 1)
        return super().itemChange(change, value)

    def paint(self, p: QPainter, option, widget=None) -> None:
        _Fonts.load()
        t, label = self.theme, self.label
        rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        error = label is not None and label.status == "error"
        if option.levelOfDetailFromTransform(p.worldTransform()) < LOD_SIMPLE:
            self._paint_simple(p, rect, error)   # text would be unreadable: just the card
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        # card
        if self.isSelected():
            glow = QColor(t.selection)
            glow.setAlpha(70)
            p.setPen(QPen(glow, 6))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect, RADIUS, RADIUS)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(t.node_fill)
        p.drawRoundedRect(rect, RADIUS, RADIUS)
        # header band in the group colour
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, NODE_WIDTH, HEADER))
        p.setBrush(self.accent)
        p.drawPath(header.intersected(clip))
        paint_group_glyph(p, self.group, QRectF(PAD - 2, 4, HEADER - 8, HEADER - 8),
                          QColor("white"))
        if label is None:
            return
        p.setPen(QColor("white"))
        p.setFont(_Fonts.header)
        p.drawText(QRectF(PAD + HEADER - 8, 0, NODE_WIDTH - 2 * PAD - HEADER, HEADER),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label.type)
        # id, key parameters, shape and count
        inner = NODE_WIDTH - 2 * PAD
        p.setPen(t.text)
        p.setFont(_Fonts.ident)
        p.drawText(QRectF(PAD, HEADER + 3, inner, 20),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label.node_id)
        p.setPen(t.dim_text)
        p.setFont(_Fonts.small)
        params = _Fonts.small_metrics.elidedText(label.params, Qt.TextElideMode.ElideRight,
                                                 inner)
        p.drawText(QRectF(PAD, HEADER + 23, inner, 18),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, params)
        shape_row = QRectF(PAD, HEADER + 42, inner, 20)
        count_row = QRectF(PAD, HEADER + 60, inner, 17)
        if error:
            p.setPen(t.error)
            reason = (label.error or "").split(": ", 1)[-1]
            p.drawText(count_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       _Fonts.small_metrics.elidedText(reason, Qt.TextElideMode.ElideRight,
                                                       inner))
        else:
            p.drawText(count_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       label.count)
        p.setPen(t.error if error else t.text)
        p.setFont(_Fonts.shape)
        p.drawText(shape_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   f"→ {label.shape}")
        # outline: error > selected > normal
        p.setBrush(Qt.BrushStyle.NoBrush)
        if error:
            p.setPen(QPen(t.error, 2.5))
        elif self.isSelected():
            p.setPen(QPen(t.selection, 2.0))
        else:
            p.setPen(QPen(t.node_border, 1.0))
        p.drawRoundedRect(rect, RADIUS, RADIUS)
        if error:
            self._paint_badge(p)

    def _paint_simple(self, p: QPainter, rect: QRectF, error: bool) -> None:
        t = self.theme
        outline = t.error if error else t.selection if self.isSelected() else t.node_border
        p.setPen(QPen(outline, 4.0 if error or self.isSelected() else 1.0))
        p.setBrush(t.node_fill)
        p.drawRect(rect)
        p.fillRect(QRectF(0, 0, NODE_WIDTH, HEADER), self.accent)

    def _paint_badge(self, p: QPainter) -> None:
        c = QPointF(NODE_WIDTH - 12, HEADER / 2)
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(self.theme.error)
        p.drawEllipse(c, 8, 8)
        p.setFont(_Fonts.header)
        p.drawText(QRectF(c.x() - 8, c.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")
