"""Finds and highlights the wire under a point, for dropping a layer into the middle of it."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from ..edge_item import EdgeItem

__all__ = ["EdgeDropTarget"]

TOLERANCE = 8.0


class EdgeDropTarget:
    def __init__(self, scene) -> None:
        self.scene = scene
        self.item: EdgeItem | None = None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        area = QRectF(pos.x() - TOLERANCE, pos.y() - TOLERANCE, 2 * TOLERANCE, 2 * TOLERANCE)
        edges = [i for i in self.scene.items(area) if isinstance(i, EdgeItem)]
        return edges[0] if edges else None

    def update(self, pos: QPointF | None) -> EdgeItem | None:
        """Highlight the wire under ``pos`` (None: none) and return it."""
        item = self.edge_at(pos) if pos is not None else None
        if item is not self.item:
            if self.item is not None and self.item.scene() is self.scene:
                self.item.set_highlight(False)
            self.item = item
            if item is not None:
                item.set_highlight(True)
        return item

    def clear(self) -> None:
        self.update(None)
