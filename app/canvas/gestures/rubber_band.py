"""Dragging on empty canvas draws a rectangle; the layers it touches become selected
(Shift/Ctrl adds to the current selection)."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSceneMouseEvent

from ..node_item import NodeItem
from .base import Gesture

__all__ = ["RubberBand"]

ADD_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier


class RubberBand(Gesture):
    def __init__(self, scene, event: QGraphicsSceneMouseEvent) -> None:
        super().__init__(scene)
        self.origin = event.scenePos()
        self.adding = bool(event.modifiers() & ADD_MODIFIERS)
        self.before = set(scene.selectedItems()) if self.adding else set()
        if not self.adding:
            scene.clearSelection()
        color = QColor(scene.theme.selection)
        self.rect = QGraphicsRectItem()
        self.rect.setPen(QPen(color, 0))
        color.setAlpha(40)
        self.rect.setBrush(color)
        self.rect.setZValue(20)
        self.rect.setVisible(False)
        scene.addItem(self.rect)

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        area = QRectF(self.origin, event.scenePos()).normalized()
        self.rect.setRect(area)
        self.rect.setVisible(True)
        inside = {i for i in self.scene.items(area) if isinstance(i, NodeItem)}
        with self.scene.batched_selection():
            for item in self.scene.node_items.values():
                item.setSelected(item in inside or item in self.before)

    def release(self, event: QGraphicsSceneMouseEvent) -> bool:
        self.cancel()
        return True

    def cancel(self) -> None:
        if self.rect.scene() is not None:
            self.scene.removeItem(self.rect)
