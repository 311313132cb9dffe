"""The open project as a QObject: the only truth the editor's views read.

A :class:`Document` wraps an engine :class:`~layerlab.engine.Project` and announces every
change with a fine-grained signal, then re-runs :func:`~layerlab.engine.analyze` and emits
``analysisChanged``. Its mutating methods are the vocabulary of :mod:`layerlab.app.commands`;
nothing else calls them (views and gestures go through :class:`~layerlab.app.editor.Editor`,
which pushes commands onto the undo stack).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator

from PySide6.QtCore import QObject, Signal

from layerlab.engine import Analysis, Edge, Graph, Node, Project, analyze

__all__ = ["Document", "ParamFilter"]

#: Decides, while the document is locked, whether ``(node_id, param_name)`` may still change.
ParamFilter = Callable[[str, str], bool]


class Document(QObject):
    # --- structure ------------------------------------------------------------------------
    nodeAdded = Signal(str)             # node id
    nodeRemoved = Signal(str)           # node id
    nodeChanged = Signal(str)           # node id: its parameters changed
    nodeMoved = Signal(str)             # node id: its position changed
    nodeRenamed = Signal(str, str)      # old id, new id
    edgeAdded = Signal(object)          # Edge
    edgeRemoved = Signal(object)        # Edge
    # --- derived / whole-document -----------------------------------------------------------
    analysisChanged = Signal(object)    # Analysis, after every change (one per edit)
    projectReset = Signal()             # a different project was loaded: rebuild every view
    pathChanged = Signal(object)        # Path | None
    lockChanged = Signal(object)        # reason (str) or None

    def __init__(self, project: Project | None = None, path: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project = project or Project()
        self._path = Path(path) if path else None
        self._analysis: Analysis = analyze(self._project.graph)
        self._batch_depth = 0
        self._batch_dirty = False
        self._lock_reason: str | None = None
        self._param_filter: ParamFilter | None = None

    # --- reading ------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def graph(self) -> Graph:
        return self._project.graph

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    @property
    def path(self) -> Path | None:
        return self._path

    def node(self, node_id: str) -> Node:
        return self._project.graph.nodes[node_id]

    # --- whole project (not undoable: New / Open / Recover) ------------------------------------
    def set_project(self, project: Project, path: Path | None = None) -> None:
        self._project = project
        self._analysis = analyze(project.graph)
        self.projectReset.emit()
        self.set_path(path)
        self.analysisChanged.emit(self._analysis)

    def set_path(self, path: Path | None) -> None:
        path = Path(path) if path else None
        if path != self._path:
            self._path = path
            self.pathChanged.emit(path)

    # --- locking (training in progress) ----------------------------------------------------------
    def set_locked(self, reason: str | None, editable_params: ParamFilter | None = None) -> None:
        """Forbid structural edits while ``reason`` is set (None unlocks). While locked, a
        parameter may change only when ``editable_params(node_id, name)`` says so."""
        self._lock_reason = reason or None
        self._param_filter = editable_params if reason else None
        self.lockChanged.emit(self._lock_reason)

    @property
    def lock_reason(self) -> str | None:
        return self._lock_reason

    @property
    def is_locked(self) -> bool:
        return self._lock_reason is not None

    def can_edit_param(self, node_id: str, name: str) -> bool:
        if self._lock_reason is None:
            return True
        return bool(self._param_filter and self._param_filter(node_id, name))

    # --- mutations: for app.commands only ------------------------------------------------------
    @contextlib.contextmanager
    def edit(self) -> Iterator[None]:
        """Group mutations so the graph is analyzed once, at the end."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._batch_dirty:
                self._batch_dirty = False
                self._reanalyze()

    def insert_node(self, node: Node, index: int | None = None) -> None:
        graph = self.graph
        graph.add_node(node)
        if index is not None and index < len(graph.nodes) - 1:
            items = list(graph.nodes.items())
            items.insert(index, items.pop())
            graph.nodes = dict(items)
        self.nodeAdded.emit(node.id)
        self._changed()

    def take_node(self, node_id: str) -> tuple[Node, int]:
        """Remove a node (its edges must be gone already; any left are removed and announced)."""
        index = list(self.graph.nodes).index(node_id)
        for edge in [e for e in self.graph.edges if node_id in (e.source, e.target)]:
            self.take_edge(edge)
        node, _ = self.graph.remove_node(node_id)
        self.nodeRemoved.emit(node_id)
        self._changed()
        return node, index

    def insert_edge(self, edge: Edge, index: int | None = None) -> None:
        graph = self.graph
        graph.add_edge(edge)
        if index is not None and index < len(graph.edges) - 1:
            graph.edges.insert(index, graph.edges.pop())
        self.edgeAdded.emit(edge)
        self._changed()

    def take_edge(self, edge: Edge) -> int:
        index = self.graph.edges.index(edge)
        del self.graph.edges[index]
        self.edgeRemoved.emit(edge)
        self._changed()
        return index

    def set_params(self, node_id: str, params: dict) -> None:
        self.graph.nodes[node_id].params = dict(params)
        self.nodeChanged.emit(node_id)
        self._changed()

    def set_positions(self, positions: dict[str, tuple[float, float]]) -> None:
        for node_id, pos in positions.items():
            self.graph.nodes[node_id].position = (float(pos[0]), float(pos[1]))
            self.nodeMoved.emit(node_id)
        # positions do not change shapes: no re-analysis

    def rename_node(self, old: str, new: str) -> None:
        self.graph.rename_node(old, new)
        self.nodeRenamed.emit(old, new)
        self._changed()

    # --- analysis ------------------------------------------------------------------------------
    def _changed(self) -> None:
        if self._batch_depth:
            self._batch_dirty = True
        else:
            self._reanalyze()

    def _reanalyze(self) -> None:
        self._analysis = analyze(self.graph)   # pure and never raises
        self.analysisChanged.emit(self._analysis)
