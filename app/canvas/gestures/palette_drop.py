"""Dragging a layer type from the palette: drop on empty canvas → a new node there; drop on a
wire → the new node is inserted into that wire."""
from __future__ import annotations

from PySide6.QtWidgets import QGraphicsSceneDragDropEvent

from layerlab.engine import find_layer

from ...dragdrop import layer_type_from_mime
from ..node_item import NODE_HEIGHT, NODE_WIDTH
from .edge_target import EdgeDropTarget

__all__ = ["PaletteDrop"]


class PaletteDrop:
    """Lives from dragEnter to drop/leave; the scene forwards the drag events."""

    def __init__(self, scene, type_name: str) -> None:
        self.scene = scene
        self.editor = scene.editor
        self.type_name = type_name
        spec = find_layer(type_name)
        self.insertable = bool(spec and spec.takes_inputs)
        self.target = EdgeDropTarget(scene)

    @classmethod
    def start(cls, scene, event: QGraphicsSceneDragDropEvent) -> "PaletteDrop | None":
        type_name = layer_type_from_mime(event.mimeData())
        if type_name is None:
            return None
        event.acceptProposedAction()
        return cls(scene, type_name)

    def move(self, event: QGraphicsSceneDragDropEvent) -> None:
        event.acceptProposedAction()
        if self.insertable:
            self.target.update(event.scenePos())

    def drop(self, event: QGraphicsSceneDragDropEvent) -> str | None:
        event.acceptProposedAction()
        pos = event.scenePos()
        top_left = (pos.x() - NODE_WIDTH / 2, pos.y() - NODE_HEIGHT / 2)
        edge_item = self.target.update(pos) if self.insertable else None
        self.target.clear()
        if edge_item is not None:
            return self.editor.add_node_on_edge(self.type_name, edge_item.edge, top_left)
        return self.editor.add_node(self.type_name, top_left)

    def leave(self) -> None:
        self.target.clear()
