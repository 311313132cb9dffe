"""A small canvas to draw a digit or a shape with the mouse, and the conversion of the drawing
into a model input the way the datasets were made: light ink on black, the strokes' bounding
box centred with a margin, then area-averaged down to the input size (8×8 for the digits)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["DrawCanvas", "image_to_input", "qimage_to_gray"]

SIZE = 160


def qimage_to_gray(image: QImage) -> np.ndarray:
    """A QImage → (H, W) float32 0..1 (copied, so the QImage may go away)."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = gray.height(), gray.width(), gray.bytesPerLine()
    buf = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, :w].astype(np.float32) / 255.0


def _resize_area(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Area-average (box filter) resize of a 2-D array: what makes 8×8 digits from strokes."""
    ah, aw = a.shape
    rows = (np.arange(h + 1) * ah / h).astype(int)
    cols = (np.arange(w + 1) * aw / w).astype(int)
    out = np.empty((h, w), dtype=np.float32)
    for i in range(h):
        band = a[rows[i]:max(rows[i + 1], rows[i] + 1)]
        for j in range(w):
            out[i, j] = band[:, cols[j]:max(cols[j + 1], cols[j] + 1)].mean()
    return out


def image_to_input(gray: np.ndarray, shape: tuple[int, ...], center: bool = True,
                   invert: bool = False) -> np.ndarray:
    """(H, W) 0..1 ink image → a raw sample of ``shape`` (C, h, w), 0..1. With ``center``, the
    ink's bounding box is centred in a square with a margin, as digits datasets are."""
    a = 1.0 - gray if invert else gray
    c, h, w = shape
    if center:
        ys, xs = np.nonzero(a > 0.1)
        if len(ys):
            top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            side = max(bottom - top, right - left)
            margin = 0.08 if max(h, w) <= 12 else 0.18   # 8×8 digits fill their box
            side_m = int(side * (1 + 2 * margin)) + 1
            square = np.zeros((side_m, side_m), dtype=np.float32)
            oy = (side_m - (bottom - top)) // 2
            ox = (side_m - (right - left)) // 2
            square[oy:oy + bottom - top, ox:ox + right - left] = a[top:bottom, left:right]
            a = square
    small = np.clip(_resize_area(a, h, w), 0.0, 1.0)
    return np.repeat(small[None], c, axis=0)


class DrawCanvas(QWidget):
    """Draw with the left button; ``changed`` after every stroke segment."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawCanvas")
        self.setFixedSize(SIZE, SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the mouse (light on dark, like the training images)")
        self.image = QImage(SIZE, SIZE, QImage.Format.Format_Grayscale8)
        self.pen_width = 18.0
        self._last: QPointF | None = None
        self.clear()

    def clear(self) -> None:
        self.image.fill(QColor(0, 0, 0))
        self.update()
        self.changed.emit()

    def set_image(self, image: QImage) -> None:
        """Show an opened picture (scaled to fit, kept in proportion)."""
        self.image.fill(QColor(0, 0, 0))
        scaled = image.scaled(SIZE, SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                              Qt.TransformationMode.SmoothTransformation)
        painter = QPainter(self.image)
        painter.drawImage((SIZE - scaled.width()) // 2, (SIZE - scaled.height()) // 2, scaled)
        painter.end()
        self.update()
        self.changed.emit()

    def is_blank(self) -> bool:
        return float(qimage_to_gray(self.image).max()) < 0.05

    def gray(self) -> np.ndarray:
        return qimage_to_gray(self.image)

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Draw a polyline (also what tests use instead of a mouse)."""
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255), self.pen_width, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        if len(points) == 1:
            painter.drawPoint(QPointF(*points[0]))
        for a, b in zip(points, points[1:]):
            painter.drawLine(QPointF(*a), QPointF(*b))
        painter.end()
        self.update()
        self.changed.emit()

    # --- mouse ----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.stroke([(self._last.x(), self._last.y())])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._last is not None:
            p = event.position()
            self.stroke([(self._last.x(), self._last.y()), (p.x(), p.y())])
            self._last = p

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._last = None

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawImage(QRect(0, 0, SIZE, SIZE), self.image)
        painter.setPen(QColor("#888888"))
        painter.drawRect(0, 0, SIZE - 1, SIZE - 1)
        painter.end()
