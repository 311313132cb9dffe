"""The minimap: the whole network in the canvas's corner, with the visible part outlined.

Shown only while the network does not fit in the view. Click or drag in it to move the view
there. It paints the cards as small coloured blocks straight from the scene's items, so it
keeps nothing of its own to go stale.
"""
from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
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
        self._picture: QPixmap | None = None   # the network, drawn once per change
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def schedule(self, *_args) -> None:
        """Refresh soon (many changes in a burst refresh once)."""
        self._timer.start()

    def graph_changed(self, *_args) -> None:
        """The network changed: redraw its picture on the next refresh."""
        self._picture = None
        self.schedule()

    def refresh(self) -> None:
        view = self.view
        graph = view.graph_rect() if view.graph_scene.node_items else QRectF()
        if graph != self._graph:
            self._picture = None
        self._graph = graph
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
        """The cached picture of the network, and the view's outline over it: cheap, as the
        minimap repaints with every frame of the canvas it sits on."""
        if self._graph.isEmpty():
            return
        if self._picture is None or self._picture.size() != self.size():
            self._picture = self._draw_network()
        t = self.view.graph_scene.theme
        p = QPainter(self)
        p.drawPixmap(0, 0, self._picture)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(t.selection, 2))
        p.drawRect(self._map_rect(self.view.visible_scene_rect()).intersected(
            QRectF(self.rect()).adjusted(1, 1, -1, -1)))
        p.end()

    def _draw_network(self) -> QPixmap:
        scene = self.view.graph_scene
        t = scene.theme
        picture = QPixmap(self.size())
        picture.fill(Qt.GlobalColor.transparent)
        p = QPainter(picture)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        back = QColor(t.node_fill)
        back.setAlpha(235)
        p.setPen(QPen(t.node_border, 1))
        p.setBrush(back)
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        s = self._scale()
        offset = (QPointF(self.width(), self.height())
                  - QPointF(self._graph.width(), self._graph.height()) * s) / 2
        p.translate(offset)
        p.scale(s, s)
        p.translate(-self._graph.topLeft())
        p.setPen(QPen(t.edge, 0))
        p.drawLines([QLineF(i.source_item.center(), i.target_item.center())
                     for i in scene.edge_items.values()])
        p.setPen(Qt.PenStyle.NoPen)
        for item in scene.node_items.values():
            error = item.label is not None and item.label.status == "error"
            p.setBrush(t.error if error else item.accent)
            p.drawRect(item.sceneBoundingRect())
        p.end()
        return picture

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._go(event.position())
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())
        event.accept()

    def _go(self, at: QPointF) -> None:
        if not self._graph.isEmpty():
            self.view.auto_fit = False
            self.view.centerOn(self.to_scene(at))
            self.update()
