"""The minimap: the whole network in the canvas's corner, with the visible part outlined.

Shown only while the network does not fit in the view. Click or drag in it to move the view
there. It paints the cards as small coloured blocks straight from the scene's items, so it
keeps nothing of its own to go stale.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

__all__ = ["Minimap"]

SIZE = QSize(220, 150)
MARGIN = 12
INSET = 8.0


class Minimap(QWidget):
    def __init__(self, view) -> None:
        super().__init__(view)
        self.setObjectName("minimap")
        self.view = view
        self.setFixedSize(SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole network: click or drag to move the view there")
        self._graph = QRectF()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def schedule(self, *_args) -> None:
        """Refresh soon (many changes in a burst refresh once)."""
        self._timer.start()

    def refresh(self) -> None:
        view = self.view
        self._graph = view.graph_rect() if view.graph_scene.node_items else QRectF()
        fits = self._graph.isEmpty() or view.visible_scene_rect().contains(self._graph)
        self.setVisible(not fits)
        if not fits:
            self.place()
            self.raise_()
            self.update()

    def place(self) -> None:
        viewport = self.view.viewport()
        self.move(viewport.width() - self.width() - MARGIN,
                  viewport.height() - self.height() - MARGIN)

    # --- mapping ------------------------------------------------------------------------
    def _scale(self) -> float:
        area = QRectF(self.rect()).adjusted(INSET, INSET, -INSET, -INSET)
        return min(area.width() / max(self._graph.width(), 1.0),
                   area.height() / max(self._graph.height(), 1.0))

    def to_map(self, point: QPointF) -> QPointF:
        s = self._scale()
        offset = (QPointF(self.width(), self.height())
                  - QPointF(self._graph.width(), self._graph.height()) * s) / 2
        return (point - self._graph.topLeft()) * s + offset

    def to_scene(self, point: QPointF) -> QPointF:
        s = self._scale()
        offset = (QPointF(self.width(), self.height())
                  - QPointF(self._graph.width(), self._graph.height()) * s) / 2
        return (point - offset) / s + self._graph.topLeft()

    def _map_rect(self, rect: QRectF) -> QRectF:
        return QRectF(self.to_map(rect.topLeft()), self.to_map(rect.bottomRight()))

    # --- painting and mouse -------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        if self._graph.isEmpty():
            return
        scene = self.view.graph_scene
        t = scene.theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        back = QColor(t.node_fill)
        back.setAlpha(235)
        p.setPen(QPen(t.node_border, 1))
        p.setBrush(back)
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        p.setPen(QPen(t.edge, 1))
        for item in scene.edge_items.values():
            a, b = item.source_item.center(), item.target_item.center()
            p.drawLine(self.to_map(a), self.to_map(b))
        p.setPen(Qt.PenStyle.NoPen)
        for item in scene.node_items.values():
            error = item.label is not None and item.label.status == "error"
            p.setBrush(t.error if error else item.accent)
            p.drawRect(self._map_rect(item.sceneBoundingRect()))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(t.selection, 2))
        p.drawRect(self._map_rect(self.view.visible_scene_rect()).intersected(
            QRectF(self.rect()).adjusted(1, 1, -1, -1)))
        p.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._go(event.position())
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())
        event.accept()

    def _go(self, at: QPointF) -> None:
        if not self._graph.isEmpty():
            self.view.centerOn(self.to_scene(at))
            self.update()
