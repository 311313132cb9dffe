"""Dragging selected layers: the items move freely while the mouse is down; on release the
whole drag becomes one MoveNodes edit. A lone unwired layer released on a wire is inserted
into it (one edit too)."""
from __future__ import annotations

from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from .base import Gesture
from .edge_target import EdgeDropTarget

__all__ = ["MoveNodes"]


class MoveNodes(Gesture):
    default_handling = True   # QGraphicsScene moves the selected items itself

    def __init__(self, scene) -> None:
        super().__init__(scene)
        self.start = {nid: (item.pos().x(), item.pos().y())
                      for nid, item in scene.node_items.items() if item.isSelected()}
        self.target = EdgeDropTarget(scene)
        self.lone = None
        if len(self.start) == 1:
            node_id = next(iter(self.start))
            graph = self.editor.graph
            if not graph.incoming(node_id) and not graph.outgoing(node_id):
                self.lone = node_id

    def _positions(self) -> dict[str, tuple[float, float]]:
        items = self.scene.node_items
        return {nid: (items[nid].pos().x(), items[nid].pos().y())
                for nid in self.start if nid in items}

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.lone is not None:
            self.target.update(event.scenePos())

    def release(self, event: QGraphicsSceneMouseEvent) -> bool:
        new = self._positions()
        edge_item = self.target.update(event.scenePos()) if self.lone is not None else None
        self.target.clear()
        if new == {k: v for k, v in self.start.items() if k in new}:
            return False
        if edge_item is not None:
            if self.editor.splice_node(self.lone, edge_item.edge, new[self.lone]):
                return True
        moved = self.editor.move_nodes(self.start, new)
        if not moved:  # refused: put the items back where the document has them
            self.scene.sync_positions(list(new))
        return moved

    def cancel(self) -> None:
        self.target.clear()
        self.scene.sync_positions(list(self.start))
