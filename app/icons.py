"""Small group icons drawn with QPainter (crisp at any size, tinted by group colour)."""
from __future__ import annotations

import math
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from .theme import group_color

__all__ = ["group_icon", "paint_group_glyph", "action_icon", "app_icon", "APP_ICON_SIZES"]

#: The application icon's bundled sizes (resources/icons/layerlab-<size>.png).
APP_ICON_SIZES = (48, 128, 256)


def paint_group_glyph(p: QPainter, group: str, rect: QRectF, color: QColor) -> None:
    """Draw the glyph of ``group`` inside ``rect`` with ``color`` strokes."""
    s = min(rect.width(), rect.height())
    x0, y0 = rect.center().x() - s / 2, rect.center().y() - s / 2

    def pt(fx: float, fy: float) -> QPointF:
        return QPointF(x0 + fx * s, y0 + fy * s)

    pen = QPen(color, max(1.2, s / 11), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if group == "Input":            # an arrow entering a box
        p.drawRoundedRect(QRectF(pt(0.42, 0.2), pt(0.88, 0.8)), s * 0.06, s * 0.06)
        p.drawLine(pt(0.1, 0.5), pt(0.62, 0.5))
        p.drawPolyline([pt(0.48, 0.36), pt(0.62, 0.5), pt(0.48, 0.64)])
    elif group == "Convolution":    # a grid with the kernel window highlighted
        for i in range(4):
            f = 0.14 + i * 0.24
            p.drawLine(pt(0.14, f), pt(0.86, f))
            p.drawLine(pt(f, 0.14), pt(f, 0.86))
        fill = QColor(color)
        fill.setAlpha(150)
        p.fillRect(QRectF(pt(0.14, 0.14), pt(0.62, 0.62)), fill)
    elif group == "Pooling":        # four cells become one
        for fx, fy in ((0.1, 0.2), (0.3, 0.2), (0.1, 0.4), (0.3, 0.4)):
            p.drawRect(QRectF(pt(fx, fy), pt(fx + 0.18, fy + 0.18)))
        p.drawLine(pt(0.54, 0.39), pt(0.66, 0.39))
        p.drawRect(QRectF(pt(0.72, 0.3), pt(0.9, 0.48)))
        p.drawLine(pt(0.1, 0.72), pt(0.9, 0.72))
    elif group == "Activation":     # a ReLU-like bend
        p.drawLine(pt(0.08, 0.86), pt(0.92, 0.86))
        p.drawPolyline([pt(0.1, 0.68), pt(0.5, 0.68), pt(0.9, 0.14)])
    elif group.startswith("Normalization"):  # a bell curve
        path = QPainterPath(pt(0.08, 0.82))
        for i in range(1, 41):
            fx = 0.08 + 0.84 * i / 40
            z = (fx - 0.5) / 0.16
            path.lineTo(pt(fx, 0.82 - 0.62 * math.exp(-z * z / 2)))
        p.drawPath(path)
        p.drawLine(pt(0.08, 0.86), pt(0.92, 0.86))
    elif group == "Dense":          # fully connected dots
        left = [pt(0.18, f) for f in (0.2, 0.5, 0.8)]
        right = [pt(0.82, f) for f in (0.32, 0.68)]
        thin = QPen(pen)
        thin.setWidthF(pen.widthF() * 0.6)
        p.setPen(thin)
        for a in left:
            for b in right:
                p.drawLine(a, b)
        p.setPen(pen)
        p.setBrush(color)
        for c in left + right:
            p.drawEllipse(c, s * 0.07, s * 0.07)
    elif group == "Merge":          # two branches joining
        p.drawPolyline([pt(0.1, 0.2), pt(0.5, 0.5), pt(0.92, 0.5)])
        p.drawPolyline([pt(0.1, 0.8), pt(0.5, 0.5)])
        p.drawPolyline([pt(0.78, 0.38), pt(0.92, 0.5), pt(0.78, 0.62)])
    else:
        p.drawEllipse(rect.adjusted(s * 0.2, s * 0.2, -s * 0.2, -s * 0.2))
    p.restore()


@lru_cache(maxsize=None)
def group_icon(group: str, size: int = 32) -> QIcon:
    """A rounded tile in the group's colour with the group's glyph in white."""
    icon = QIcon()
    for scale in (1, 2):
        px = QPixmap(size * scale, size * scale)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(group_color(group))
        r = QRectF(0, 0, size * scale, size * scale).adjusted(1, 1, -1, -1)
        p.drawRoundedRect(r, size * scale * 0.22, size * scale * 0.22)
        paint_group_glyph(p, group, r.adjusted(r.width() * 0.16, r.height() * 0.16,
                                               -r.width() * 0.16, -r.height() * 0.16),
                          QColor("white"))
        p.end()
        px.setDevicePixelRatio(scale)
        icon.addPixmap(px)
    return icon


def action_icon(kind: str, color: QColor, size: int = 20) -> QIcon:
    """Monochrome glyphs: new, open, save, undo, redo, fit, arrange (toolbar), fix."""
    icon = QIcon()
    for scale in (1, 2):
        px = QPixmap(size * scale, size * scale)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size * scale
        pen = QPen(color, max(1.4, s / 12), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)

        def pt(fx: float, fy: float) -> QPointF:
            return QPointF(fx * s, fy * s)

        if kind == "new":
            p.drawPolyline([pt(0.62, 0.12), pt(0.22, 0.12), pt(0.22, 0.88), pt(0.78, 0.88),
                            pt(0.78, 0.28), pt(0.62, 0.12), pt(0.62, 0.28), pt(0.78, 0.28)])
            p.drawLine(pt(0.5, 0.45), pt(0.5, 0.73))
            p.drawLine(pt(0.36, 0.59), pt(0.64, 0.59))
        elif kind == "open":
            p.drawPolyline([pt(0.1, 0.8), pt(0.1, 0.22), pt(0.38, 0.22), pt(0.46, 0.32),
                            pt(0.82, 0.32), pt(0.82, 0.45)])
            p.drawPolyline([pt(0.1, 0.8), pt(0.26, 0.45), pt(0.94, 0.45), pt(0.78, 0.8),
                            pt(0.1, 0.8)])
        elif kind == "save":
            p.drawRoundedRect(QRectF(pt(0.14, 0.14), pt(0.86, 0.86)), s * 0.06, s * 0.06)
            p.drawRect(QRectF(pt(0.3, 0.14), pt(0.66, 0.38)))
            p.drawRect(QRectF(pt(0.28, 0.56), pt(0.72, 0.86)))
        elif kind in ("undo", "redo"):
            path = QPainterPath(pt(0.3, 0.4))
            path.cubicTo(pt(0.55, 0.2), pt(0.95, 0.35), pt(0.8, 0.72))
            path.lineTo(pt(0.72, 0.8))
            p.save()
            if kind == "redo":
                p.translate(s, 0)
                p.scale(-1, 1)
            p.drawPath(path)
            p.drawPolyline([pt(0.36, 0.16), pt(0.26, 0.41), pt(0.52, 0.5)])
            p.restore()
        elif kind == "fit":
            for (x, y, dx, dy) in ((0.14, 0.14, 1, 1), (0.86, 0.14, -1, 1),
                                   (0.14, 0.86, 1, -1), (0.86, 0.86, -1, -1)):
                p.drawPolyline([pt(x + 0.22 * dx, y), pt(x, y), pt(x, y + 0.22 * dy)])
            p.drawRect(QRectF(pt(0.38, 0.38), pt(0.62, 0.62)))
        elif kind == "arrange":
            for x, y in ((0.08, 0.4), (0.4, 0.14), (0.4, 0.66), (0.72, 0.4)):
                p.drawRoundedRect(QRectF(pt(x, y), pt(x + 0.2, y + 0.2)), s * 0.03, s * 0.03)
            p.drawLine(pt(0.28, 0.5), pt(0.4, 0.24))
            p.drawLine(pt(0.28, 0.5), pt(0.4, 0.76))
            p.drawLine(pt(0.6, 0.24), pt(0.72, 0.5))
            p.drawLine(pt(0.6, 0.76), pt(0.72, 0.5))
        elif kind == "fix":           # a wrench: an open jaw on a handle
            p.drawLine(pt(0.2, 0.8), pt(0.56, 0.44))
            path = QPainterPath(pt(0.5, 0.36))
            path.arcTo(QRectF(pt(0.46, 0.1), pt(0.9, 0.54)), 200, 250)
            p.drawPath(path)
        p.end()
        px.setDevicePixelRatio(scale)
        icon.addPixmap(px)
    return icon


def app_icon() -> QIcon:
    """LayerLab's own icon (window title bars, task switchers), from the bundled PNGs; an
    empty icon when they are missing, so a stripped install still starts."""
    from layerlab.engine.data.paths import resources_dir
    icon = QIcon()
    for size in APP_ICON_SIZES:
        path = resources_dir() / "icons" / f"layerlab-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon
