"""One layer on the canvas: a card with its type, id, key parameters, output shape and
parameter count. Pure view — it never touches the document; gestures move and wire it."""
from __future__ import annotations

import html
import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from layerlab.engine import find_layer
from layerlab.engine.layout import NODE_SIZE

from ..icons import paint_group_glyph
from ..theme import Theme, group_color, text_scale
from .labels import NodeLabel
from .port_item import PortItem

__all__ = ["NodeItem", "NODE_WIDTH", "NODE_HEIGHT"]

#: The card's size, declared once in the engine so its auto-layout leaves exactly the room
#: the canvas draws.
NODE_WIDTH, NODE_HEIGHT = NODE_SIZE
HEADER = 24.0
PAD = 9.0
RADIUS = 7.0
#: Below this zoom the card's small print (parameters, counts) would be unreadable: it is
#: drawn in a simplified form instead, its name and output shape in large type.
LOD_SIMPLE = 0.55
#: What the simplified form aims for on screen, and the least it accepts before eliding.
SIMPLE_TEXT_PX = 14.0
MIN_TEXT_PX = 8.0
SIMPLE_PAD = 5.0


def simple_below(scale: float) -> float:
    """The zoom under which a card shows only its name and shape in large type. In projector
    mode (``scale`` > 1) that is up to 0.75·scale (1.2): below it the detailed card's 8–10 pt
    type is too small to read from the back of a room."""
    return LOD_SIMPLE if scale <= 1.0 else 0.75 * scale


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


def simple_font(text: str, row: QRectF, lod: float, bold: bool) -> QFont:
    """The simplified form's font for ``text`` in ``row`` (scene units) at zoom ``lod``:
    SIMPLE_TEXT_PX on screen, shrunk to fit the row, never below MIN_TEXT_PX (then the text
    is elided)."""
    font = QFont()
    font.setBold(bold)
    size = min(SIMPLE_TEXT_PX * text_scale() / max(lod, 0.01), row.height() * 0.8)
    font.setPixelSize(max(1, round(size)))
    least = math.ceil(MIN_TEXT_PX / max(lod, 0.01))
    while QFontMetricsF(font).horizontalAdvance(text) > row.width() and \
            font.pixelSize() > least:      # shrink to fit (text width is not linear in size)
        font.setPixelSize(max(least, math.floor(font.pixelSize() * 0.94)))
    return font


def _simple_row() -> QRectF:
    return QRectF(0, 0, NODE_WIDTH - 2 * SIMPLE_PAD, (NODE_HEIGHT * 0.82) * 0.45)


def simple_text_px(text: str, lod: float, bold: bool = True) -> float:
    """How tall (screen pixels) the simplified form draws ``text`` at zoom ``lod``."""
    return simple_font(text, _simple_row(), lod, bold).pixelSize() * lod


def _breakable(text: str) -> str:
    """A long name may break after its underscores (a zero-width space there)."""
    return text.replace("_", "_\u200b")


def _wrapped_height(metrics: QFontMetricsF, text: str, width: float) -> float:
    return metrics.boundingRect(QRectF(0, 0, width, 1e6), Qt.TextFlag.TextWordWrap,
                                _breakable(text)).height()


def simple_text_fits(text: str, lod: float, bold: bool = True) -> bool:
    """Whether the simplified form shows ``text`` whole (on one line, or a name broken
    after an underscore onto two), not elided, at zoom ``lod``."""
    row = _simple_row()
    metrics = QFontMetricsF(simple_font(text, row, lod, bold))
    if metrics.horizontalAdvance(text) <= row.width():
        return True
    return bold and _wrapped_height(metrics, text, row.width()) <= row.height() / 0.45 * 0.5


class NodeItem(QGraphicsItem):
    is_node_card = True   # what a wire routing around cards looks for
    def __init__(self, node_id: str, type_name: str, theme: Theme) -> None:
        super().__init__()
        self.node_id = node_id
        self.theme = theme
        spec = find_layer(type_name)
        self.group = spec.group if spec else ""
        self.accent = group_color(self.group)
        self.label: NodeLabel | None = None
        self.label_key: tuple | None = None   # what the label was made from (scene's cache)
        self.notes: list[str] = []            # problems from other sources (set_problems)
        self.fixes: list = []                 # one-click fixes (engine.edits.Fix)
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
        self._update_tooltip()
        self.update()

    def set_problems(self, messages: list[str], fixes: list) -> None:
        """Problems about this layer from beyond its own shape rule (e.g. the dataset's
        fit), and every one-click fix offered for it (the red ! opens them)."""
        if (messages, fixes) == (self.notes, self.fixes):
            return
        self.notes, self.fixes = list(messages), list(fixes)
        self._update_tooltip()
        self.update()

    @property
    def has_problem(self) -> bool:
        return bool(self.notes) or (self.label is not None and self.label.status == "error")

    def badge_rect(self) -> QRectF:
        """Where the red ! sits (item coordinates), with a finger-sized margin."""
        c = QPointF(NODE_WIDTH - 12, HEADER / 2)
        return QRectF(c.x() - 12, c.y() - 12, 24, 24)

    def _update_tooltip(self) -> None:
        label = self.label
        if label is None:
            return
        tip = f"<b>{html.escape(label.node_id)}</b> — {html.escape(label.type)}"
        spec = find_layer(label.type)
        if spec:
            tip += f"<br>{html.escape(spec.summary)}"
        problems = ([label.error] if label.status == "error" and label.error else []) \
            + [m for m in self.notes if m != label.error]
        for text in problems:
            tip += (f"<br><br><span style='color:{self.theme.error.name()}'><b>Problem:</b> "
                    f"{html.escape(text)}</span>")
        if self.fixes:
            tip += ("<br><i>Click the red ! for "
                    + ("the fix: " + html.escape(self.fixes[0].label) if len(self.fixes) == 1
                       else f"{len(self.fixes)} fixes") + ".</i>")
        if label.status == "unconnected":
            tip += ("<br><br><i>Not connected yet: drag a wire from a layer's right-hand port "
                    "to this layer's left-hand port.</i>")
        elif label.status == "unknown":
            tip += "<br><br><i>Shape unknown: fix the problem upstream first.</i>"
        self.setToolTip(tip)

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
        lod = option.levelOfDetailFromTransform(p.worldTransform())
        if lod < simple_below(self.theme.scale):   # projector mode: large type sooner
            self._paint_simple(p, rect, lod)   # small print would be unreadable
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
        loose = label.status == "unconnected"
        if loose:
            p.drawText(count_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       "wire an input into it")
        elif error:
            p.setPen(t.error)
            reason = (label.error or "").split(": ", 1)[-1]
            p.drawText(count_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       _Fonts.small_metrics.elidedText(reason, Qt.TextElideMode.ElideRight,
                                                       inner))
        else:
            p.drawText(count_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       label.count)
        p.setPen(t.error if error else t.dim_text if loose else t.text)
        p.setFont(_Fonts.shape)
        p.drawText(shape_row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   "not connected yet" if loose else f"→ {label.shape}")
        # outline: error > selected > not connected yet (dashed, neutral) > normal
        p.setBrush(Qt.BrushStyle.NoBrush)
        if error:
            p.setPen(QPen(t.error, 2.5))
        elif self.isSelected():
            p.setPen(QPen(t.selection, 2.0))
        elif loose:
            p.setPen(QPen(t.dim_text, 1.4, Qt.PenStyle.DashLine))
        else:
            p.setPen(QPen(t.node_border, 1.0))
        p.drawRoundedRect(rect, RADIUS, RADIUS)
        if self.has_problem:
            self._paint_badge(p)

    def _paint_simple(self, p: QPainter, rect: QRectF, lod: float) -> None:
        """Name and output shape in type large enough to read at this zoom (about
        SIMPLE_TEXT_PX on screen, smaller only to fit the card), on the group colour."""
        t, label = self.theme, self.label
        error = label is not None and label.status == "error"
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        outline = t.error if error else t.selection if self.isSelected() else self.accent
        width = (4.0 if error or self.isSelected() else 1.5) / max(lod, 0.05)
        p.setPen(QPen(outline, min(width, 16.0)))
        p.setBrush(t.node_fill)
        p.drawRoundedRect(rect, RADIUS, RADIUS)
        band = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT * 0.18)
        p.fillRect(band.adjusted(RADIUS / 2, 0, -RADIUS / 2, 0), self.accent)
        if label is None:
            return
        inner = NODE_WIDTH - 2 * SIMPLE_PAD
        rest = NODE_HEIGHT - band.bottom()
        for text, row, bold in ((label.node_id, QRectF(SIMPLE_PAD, band.bottom() + 2, inner,
                                                       rest * 0.5), True),
                                (label.shape, QRectF(SIMPLE_PAD, band.bottom() + rest * 0.5,
                                                     inner, rest * 0.45), False)):
            font = simple_font(text, row, lod, bold)
            p.setFont(font)
            p.setPen(t.error if error and not bold else t.text)
            metrics = QFontMetricsF(font)
            if metrics.horizontalAdvance(text) <= row.width():
                p.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            elif _wrapped_height(metrics, text, row.width()) <= row.height():
                p.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
                           | Qt.TextFlag.TextWordWrap, _breakable(text))    # l2b0_ / down_bn
            else:
                p.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                           metrics.elidedText(text, Qt.TextElideMode.ElideRight, row.width()))

    def _paint_badge(self, p: QPainter) -> None:
        c = QPointF(NODE_WIDTH - 12, HEADER / 2)
        p.setPen(QPen(QColor("white"), 1.5))
        p.setBrush(self.theme.error)
        p.drawEllipse(c, 8, 8)
        p.setFont(_Fonts.header)
        p.drawText(QRectF(c.x() - 8, c.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")
        if self.fixes:         # a ring says "click me"
            p.setPen(QPen(self.theme.error, 1.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(c, 11, 11)
