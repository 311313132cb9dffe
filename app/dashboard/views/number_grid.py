"""Numbers a learner can read: a grid of values, each cell coloured by its sign and size (blue
below 0, red above, white at 0 — one scale for the grid) with the number written in it, as
CNN Explainer draws a kernel. And a map with the sliding window on it: a layer's map (or the
input image) with the taps of the window tinted and outlined, the current output cell marked,
clickable.

Both use the widget's own font (the theme's, projector-sized when that is large): cells grow
with the text, and numbers are left out only when the cells get too small to hold them.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QSizePolicy, QWidget

from layerlab.engine.explain.numbers import num

__all__ = ["NumberGrid", "MapView", "diverging", "DIGITS"]

#: Significant digits written in a cell (the worked text under the grids has four).
DIGITS = 3
#: Cells grow with the room they get, up to this factor of the font's own size (a large
#: window or a projector reads them from the back of the room).
MAX_GROWTH = 2.2
_NEG, _ZERO, _POS = np.array([58, 123, 213]), np.array([255, 255, 255]), np.array([217, 72, 60])
_PAD = QColor("#D8DCE2")


def diverging(values: np.ndarray, scale: float) -> np.ndarray:
    """Values → (…, 3) uint8 RGB: blue for negative, red for positive, white at 0, full colour
    at ±``scale``."""
    v = np.asarray(values, dtype=np.float64)
    t = np.clip(np.nan_to_num(v / scale if scale > 0 else v * 0.0), -1.0, 1.0)[..., None]
    rgb = np.where(t < 0, _ZERO + (-t) * (_NEG - _ZERO), _ZERO + t * (_POS - _ZERO))
    return rgb.astype(np.uint8)


class NumberGrid(QWidget):
    """``set_values`` a 2-D array (NaN: no value there — outside the input, a row without
    it); cells where ``padding`` is True are grey (the zero padding around a map) but keep
    their number; cells in ``highlight`` get a thick outline (the max-pooling winner, the
    current row)."""

    cellClicked = Signal(int, int)

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.values = np.zeros((0, 0))
        self.scale = 1.0
        self.highlight: set[tuple[int, int]] = set()
        self.row_labels: list[str] = []
        self.padding: np.ndarray | None = None
        self.blank = "pad"
        #: Set by a group of grids (window × kernel = products) so their cells match.
        self.shared_factor: float | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(40, 40)

    def set_values(self, values, scale: float | None = None, highlight=(),
                   title: str | None = None, row_labels=(), blank: str = "—",
                   padding=None) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        self.values = np.atleast_2d(values)
        self.padding = None if padding is None else np.asarray(padding, dtype=bool).reshape(
            self.values.shape)
        finite = np.abs(self.values[np.isfinite(self.values)])
        self.scale = float(scale) if scale else (float(finite.max()) if finite.size else 1.0)
        self.highlight = {(int(r), int(c)) for r, c in highlight}
        if title is not None:
            self.title = title
        self.row_labels = [str(t) for t in row_labels]
        self.blank = blank
        self.updateGeometry()
        self.update()

    def texts(self) -> list[list[str]]:
        """What each cell says (tests, screen readers): the numbers as written."""
        return [[self.blank if not math.isfinite(v) else num(v, DIGITS) for v in row]
                for row in self.values]

    # --- geometry ----------------------------------------------------------------------------
    def _cell(self, fm: QFontMetrics) -> tuple[int, int]:
        widest = max((fm.horizontalAdvance(t) for row in self.texts() for t in row),
                     default=fm.horizontalAdvance("-0.000"))
        return widest + fm.horizontalAdvance("  "), fm.height() + 8

    def _label_width(self, fm: QFontMetrics) -> int:
        return max((fm.horizontalAdvance(t) for t in self.row_labels), default=0) + (
            8 if self.row_labels else 0)

    def sizeHint(self) -> QSize:  # noqa: N802
        fm = self.fontMetrics()
        rows, cols = self.values.shape
        cw, ch = self._cell(fm)
        title = fm.height() + 4 if self.title else 0
        return QSize(max(self._label_width(fm) + cols * cw, fm.horizontalAdvance(self.title)) + 4,
                     title + rows * ch + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = self.sizeHint()
        return QSize(min(hint.width(), 120), min(hint.height(), 80))

    def _layout(self) -> tuple[QFont, float, float, float, float, bool]:
        """(font, left, top, cell width, cell height, numbers shown) for the widget's size:
        the cells scaled to fill it (their font with them), the grid centred in it."""
        rows, cols = self.values.shape
        font = QFont(self.font())
        fm = QFontMetrics(font)
        title = fm.height() + 4 if self.title else 0
        cw, ch = self._cell(fm)
        label = self._label_width(fm)
        factor = self.fit_factor()
        if self.shared_factor is not None:
            factor = min(factor, self.shared_factor)
        numbers = factor >= 0.6
        if numbers and factor != 1.0:
            font.setPointSizeF(max(1.0, font.pointSizeF() * factor))
            label = self._label_width(QFontMetrics(font))
        cw, ch = cw * factor, ch * factor
        left = max(label + 2.0, (self.width() - cols * cw + label) / 2)
        top = max(title + 2.0, (self.height() - rows * ch + title) / 2)
        return font, left, top, cw, ch, numbers

    def fit_factor(self) -> float:
        """How much the cells may grow (or must shrink) to fill the widget."""
        rows, cols = self.values.shape
        fm = self.fontMetrics()
        title = fm.height() + 4 if self.title else 0
        cw, ch = self._cell(fm)
        avail_h = max(self.height() - title - 4, 1)
        return min(MAX_GROWTH, max(self.width() - 6, 1) / max(cols * cw
                                                              + self._label_width(fm), 1),
                   avail_h / max(rows * ch, 1))

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        _font, left, top, cw, ch, _n = self._layout()
        rows, cols = self.values.shape
        c, r = int((x - left) // cw) if cw else -1, int((y - top) // ch) if ch else -1
        return (r, c) if 0 <= r < rows and 0 <= c < cols else None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None:
            self.cellClicked.emit(*cell)
        super().mousePressEvent(event)

    # --- painting ----------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802
        rows, cols = self.values.shape
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        font, left, top, cw, ch, numbers = self._layout()
        if self.title:
            painter.setPen(text_color)
            painter.setFont(self.font())
            height = self.fontMetrics().height() + 4
            painter.drawText(QRectF(0, top - height - 2, self.width(), height),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                             self.title)
        if not rows or not cols:
            return
        rgb = diverging(self.values, self.scale)
        texts = self.texts()
        painter.setFont(font)
        grid_pen = QPen(QColor(0, 0, 0, 40))
        for r in range(rows):
            if r < len(self.row_labels):
                painter.setPen(text_color)
                painter.drawText(QRectF(0, top + r * ch, left - 6, ch),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 self.row_labels[r])
            for c in range(cols):
                rect = QRectF(left + c * cw, top + r * ch, cw, ch)
                finite = math.isfinite(self.values[r, c])
                padded = self.padding is not None and self.padding[r, c]
                fill = QColor(*rgb[r, c]) if finite and not padded else _PAD
                painter.fillRect(rect, fill)
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if numbers:
                    dark = fill.lightness() < 140
                    painter.setPen(QColor("#FFFFFF") if dark else QColor("#111111"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, texts[r][c])
        if self.highlight:
            pen = QPen(QColor("#111111") if not _is_dark(self) else QColor("#FFFFFF"))
            pen.setWidthF(max(2.0, ch / 10))
            painter.setPen(pen)
            for r, c in self.highlight:
                if 0 <= r < rows and 0 <= c < cols:
                    painter.drawRect(QRectF(left + c * cw + 1, top + r * ch + 1, cw - 2, ch - 2))


def _is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


class MapView(pg.GraphicsLayoutWidget):
    """A map (H, W) or an image (H, W, 3) in 0..1 — with ``pad`` cells of padding drawn
    around it — the window's taps tinted and outlined, and one cell marked. Clicks report the
    map's (row, column)."""

    cellClicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.vb = self.addViewBox(enableMenu=False)
        self.vb.setAspectLocked(True)
        self.vb.invertY(True)
        self.vb.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.taps = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image)
        self.vb.addItem(self.taps)
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pg.mkPen("#F2B705", width=3, cosmetic=True))
        self.vb.addItem(self.outline)
        self.mark = QGraphicsRectItem()
        self.mark.setPen(pg.mkPen("#F2B705", width=3, cosmetic=True))
        self.vb.addItem(self.mark)
        self.pad = 0
        self.shape: tuple[int, int] = (0, 0)
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_map(self, values: np.ndarray | None, pad: int = 0, colors: str = "gray",
                unit: bool = False) -> None:
        """``values`` (H, W) — any range, stretched to its min…max unless ``unit`` (already
        0..1) — or an (H, W, 3) image in 0..1."""
        from .image_grid import lut
        if values is None:
            self.image.clear()
            self.taps.clear()
            self.outline.hide()
            self.mark.hide()
            self.shape = (0, 0)
            return
        a = np.asarray(values, dtype=np.float32)
        h, w = a.shape[:2]
        self.pad, self.shape = int(max(0, pad)), (h, w)
        if a.ndim == 2:
            if not unit:
                low, high = float(np.nanmin(a)), float(np.nanmax(a))
                a = (a - low) / (high - low) if high > low else np.zeros_like(a)
            rgb = lut(colors)[(np.clip(a, 0, 1) * 255).astype(np.uint8)]
        else:
            rgb = (np.clip(a, 0, 1) * 255).astype(np.uint8)
        p = self.pad
        full = np.empty((h + 2 * p, w + 2 * p, 3), dtype=np.uint8)
        full[:] = (_PAD.red(), _PAD.green(), _PAD.blue())
        full[p:p + h, p:p + w] = rgb
        self.image.setImage(full, autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(-p, -p, w + 2 * p, h + 2 * p))
        self.vb.setRange(xRange=(-p, w + p), yRange=(-p, h + p), padding=0.02)

    def set_window(self, rows=None, cols=None) -> None:
        """Tint the window's taps (input rows × columns; outside the map = padding)."""
        if rows is None or cols is None or not self.shape[0]:
            self.taps.clear()
            self.outline.hide()
            return
        rows, cols = np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)
        p = self.pad
        h, w = self.shape
        tint = np.zeros((h + 2 * p, w + 2 * p, 4), dtype=np.uint8)
        for r in rows:
            for c in cols:
                if -p <= r < h + p and -p <= c < w + p:
                    tint[r + p, c + p] = (242, 183, 5, 110)
        self.taps.setImage(tint, autoLevels=False, levels=(0, 255))
        self.taps.setRect(QRectF(-p, -p, w + 2 * p, h + 2 * p))
        top, left = int(rows.min()), int(cols.min())
        self.outline.setRect(QRectF(left, top, int(cols.max()) - left + 1,
                                    int(rows.max()) - top + 1))
        self.outline.show()

    def set_mark(self, row: int | None, col: int | None = None) -> None:
        if row is None or not self.shape[0]:
            self.mark.hide()
            return
        self.mark.setRect(QRectF(col, row, 1, 1))
        self.mark.show()

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.shape[0]:
            return
        p = self.image.mapFromScene(event.scenePos())
        # The image item spans the padded map; its pixels count from the padding's corner.
        col, row = int(np.floor(p.x())) - self.pad, int(np.floor(p.y())) - self.pad
        if 0 <= row < self.shape[0] and 0 <= col < self.shape[1]:
            self.cellClicked.emit(row, col)
