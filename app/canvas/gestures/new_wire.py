"""Dragging from a port draws a wire; releasing it on another layer asks the editor to
connect them. Works from an output (to an input) or from an input (to an output)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsSceneMouseEvent

from ..edge_item import wire_path
from ..node_item import NodeItem
from ..port_item import PortItem
from .base import Gesture

__all__ = ["NewWire"]


class NewWire(Gesture):
    def __init__(self, scene, port: PortItem) -> None:
        super().__init__(scene)
        self.port = port
        self.from_output = port.kind == "out"
        self.hovered: PortItem | None = None
        self.preview = QGraphicsPathItem()
        self.preview.setZValue(10)
        self._pen(scene.theme.selection, Qt.PenStyle.DashLine)
        scene.addItem(self.preview)
        self._draw(port.scenePos())

    def _pen(self, color: QColor, style=Qt.PenStyle.SolidLine) -> None:
        pen = QPen(color, 2.2, style)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.preview.setPen(pen)

    def _draw(self, end: QPointF) -> None:
        start = self.port.scenePos()
        self.preview.setPath(wire_path(start, end) if self.from_output else wire_path(end, start))

    def ends_for(self, node_id: str) -> tuple[str, str]:
        """(source, target) if the wire ended on ``node_id``."""
        mine = self.port.node_id
        return (mine, node_id) if self.from_output else (node_id, mine)

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.scene.items(pos):
            if isinstance(item, PortItem) and item.node_item is not self.port.node_item:
                return item.node_item
            if isinstance(item, NodeItem) and item is not self.port.node_item:
                return item
        return None

    def _target_port(self, node: NodeItem | None) -> PortItem | None:
        if node is None:
            return None
        return node.input_port if self.from_output else node.output_port

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        node = self.node_at(event.scenePos())
        port = self._target_port(node)
        if port is not self.hovered and self.hovered is not None:
            self.hovered.set_flash(None)
        self.hovered = port
        theme = self.scene.theme
        if node is None:
            self._pen(theme.selection, Qt.PenStyle.DashLine)
            self._draw(event.scenePos())
            return
        refusal = self.editor.wire_refusal(*self.ends_for(node.node_id))
        color = theme.error if refusal else theme.ok
        self._pen(color)
        if port is not None:
            port.set_flash(color)
            self._draw(port.scenePos())
        else:
            self._draw(event.scenePos())
        self.scene.show_hint(refusal or "release to connect")

    def release(self, event: QGraphicsSceneMouseEvent) -> bool:
        node = self.node_at(event.scenePos())
        self.cancel()
        if node is None:
            self.scene.show_hint("")
            return False
        return self.editor.connect(*self.ends_for(node.node_id))

    def cancel(self) -> None:
        if self.hovered is not None:
            self.hovered.set_flash(None)
        if self.preview.scene() is not None:
            self.scene.removeItem(self.preview)
