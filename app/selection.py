"""Which nodes (and wires) are selected: one object the canvas, the panels and later the
training dashboard share, so none of them has to know the others."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from layerlab.engine import Edge

__all__ = ["Selection"]


class Selection(QObject):
    #: Selected node ids, in graph order.
    changed = Signal(list)
    #: The one selected node's id, or None when zero or several nodes are selected.
    currentChanged = Signal(object)
    #: Asked to bring these nodes into view (e.g. a click in the problems list).
    revealRequested = Signal(list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._nodes: list[str] = []
        self._edges: list[Edge] = []
        self._current: str | None = None

    @property
    def nodes(self) -> list[str]:
        return list(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    @property
    def current(self) -> str | None:
        return self._current

    def set(self, nodes: list[str], edges: list[Edge] | None = None) -> None:
        nodes = list(dict.fromkeys(nodes))
        edges = list(edges or [])
        if nodes == self._nodes and edges == self._edges:
            return
        self._nodes, self._edges = nodes, edges
        self.changed.emit(list(nodes))
        current = nodes[0] if len(nodes) == 1 else None
        if current != self._current:
            self._current = current
            self.currentChanged.emit(current)

    def select(self, nodes: list[str], reveal: bool = False) -> None:
        """Select ``nodes`` (replacing the selection); ``reveal`` scrolls them into view."""
        self.set(nodes)
        if reveal and nodes:
            self.revealRequested.emit(list(nodes))

    def clear(self) -> None:
        self.set([])

    def rename(self, old: str, new: str) -> None:
        if old in self._nodes:
            self._nodes = [new if n == old else n for n in self._nodes]
            self._edges = [Edge(new if e.source == old else e.source,
                                new if e.target == old else e.target, e.target_port)
                           for e in self._edges]
            self.changed.emit(list(self._nodes))
            if self._current == old:
                self._current = new
                self.currentChanged.emit(new)

    def forget(self, node_id: str) -> None:
        if node_id in self._nodes:
            self.set([n for n in self._nodes if n != node_id],
                     [e for e in self._edges if node_id not in (e.source, e.target)])
