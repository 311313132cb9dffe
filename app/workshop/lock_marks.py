"""The lock a locked field wears: a padlock drawn with QPainter (an emoji padlock renders as an
empty box where no emoji font is installed — seen under Xvfb, common on workshop laptops) and
:func:`lockable`, which puts a field and its (hidden) padlock side by side so a panel can mark
the field locked later with the teacher's reason."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

__all__ = ["lock_pixmap", "LockMark", "lockable", "LOCK_COLOR"]

#: Amber: reads as "not now" on light and dark backgrounds, unlike an error red.
LOCK_COLOR = "#B06000"


@lru_cache(maxsize=16)
def lock_pixmap(size: int = 16, color: str = LOCK_COLOR) -> QPixmap:
    """A closed padlock, ``size`` pixels square."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    ink = QColor(color)
    s = float(size)
    pen = QPen(ink, max(1.4, s / 9), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    shackle = QPainterPath(QPointF(0.3 * s, 0.48 * s))
    shackle.lineTo(0.3 * s, 0.32 * s)
    shackle.arcTo(QRectF(0.3 * s, 0.1 * s, 0.4 * s, 0.44 * s), 180, -180)
    shackle.lineTo(0.7 * s, 0.48 * s)
    p.drawPath(shackle)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ink)
    p.drawRoundedRect(QRectF(0.16 * s, 0.44 * s, 0.68 * s, 0.5 * s), 0.08 * s, 0.08 * s)
    p.setBrush(QColor("white"))
    p.drawEllipse(QPointF(0.5 * s, 0.66 * s), 0.07 * s, 0.07 * s)
    p.end()
    return pixmap


class LockMark(QLabel):
    """A padlock that shows only while its field is locked; hovering it tells why."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockMark")
        self.reason: str | None = None
        self.hide()

    def set_reason(self, reason: str | None) -> None:
        self.reason = reason or None
        if self.reason:
            size = max(14, self.fontMetrics().height())
            self.setPixmap(lock_pixmap(size))
            self.setToolTip(f"Locked by the workshop: {self.reason}")
        self.setVisible(bool(self.reason))


class _Lockable(QWidget):
    def __init__(self, field: QWidget) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.mark = LockMark()
        self.field = field
        row.addWidget(self.mark)
        row.addWidget(field, 1)


def lockable(field: QWidget) -> QWidget:
    """``field`` in a row with a padlock; ``field.lock_mark`` is that padlock."""
    row = _Lockable(field)
    field.lock_mark = row.mark
    return row
