"""The graph scene: a mirror of the Document built from its signals.

It owns one NodeItem per node and one EdgeItem per edge, refreshes their labels from every
new Analysis (only the items whose text changed are repainted), keeps the shared Selection in
step with Qt's item selection, and hands each mouse or drag interaction to a gesture class.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent, QMenu

from layerlab.engine import Analysis, Edge

from ..editor import Editor
from ..theme import Theme, current_theme
from .edge_item import EdgeItem
from .gestures.base import Gesture
from .gestures.move_nodes import MoveNodes
from .gestures.new_wire import NewWire
from .gestures.palette_drop import PaletteDrop
from .gestures.rubber_band import RubberBand
from .labels import concealed, edge_label, input_ranks, node_label
from .node_item import NodeItem
from .port_item import PortItem

__all__ = ["GraphScene"]

SCENE_EXTENT = 100_000.0


class GraphScene(QGraphicsScene):
    #: Transient guidance while a gesture runs ("release to connect", a refusal reason…).
    hintChanged = Signal(str)

    def __init__(self, editor: Editor, theme: Theme | None = None, parent=None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.document = editor.document
        self.theme = theme or current_theme()
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self.gesture: Gesture | None = None
        self.drop: PaletteDrop | None = None
        self._selection_depth = 0
        self._pulling = False
        self._ranks: dict | None = None
        self.last_hint = ""
        self._unrouted: set[EdgeItem] = set()
        self._route_timer = QTimer(self)
        self._route_timer.setSingleShot(True)
        self._route_timer.timeout.connect(self.flush_routes)
        self.setSceneRect(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setBackgroundBrush(self.theme.canvas)
        doc = self.document
        doc.nodeAdded.connect(self._add_node)
        doc.nodeRemoved.connect(self._remove_node)
        doc.nodeMoved.connect(lambda node_id: self.sync_positions([node_id]))
        doc.nodeRenamed.connect(self._rename_node)
        doc.edgeAdded.connect(self._add_edge)
        doc.edgeRemoved.connect(self._remove_edge)
        doc.analysisChanged.connect(self.apply_analysis)
        editor.concealedChanged.connect(lambda: self.apply_analysis(doc.analysis))
        doc.projectReset.connect(self.rebuild)
        for signal in (doc.edgeAdded, doc.edgeRemoved, doc.nodeRenamed, doc.nodeAdded,
                       doc.projectReset):
            signal.connect(self._wiring_changed)
        self.selectionChanged.connect(self._push_selection)
        editor.selection.changed.connect(self._pull_selection)
        editor.problemsChanged.connect(self.apply_problems)
        self.rebuild()

    # --- mirroring the document ------------------------------------------------------------------
    def rebuild(self) -> None:
        self._cancel_gesture()
        with self.batched_selection():
            for item in list(self.edge_items.values()) + list(self.node_items.values()):
                self.removeItem(item)
            self.node_items.clear()
            self.edge_items.clear()
            self._unrouted.clear()
        for node_id in self.document.graph.nodes:
            self._add_node(node_id)
        for edge in self.document.graph.edges:
            self._add_edge(edge)
        self.apply_analysis(self.document.analysis)
        self.apply_problems(self.editor.problems())

    def _add_node(self, node_id: str) -> None:
        node = self.document.node(node_id)
        item = NodeItem(node_id, node.type, self.theme)
        item.setPos(*node.position)
        self.node_items[node_id] = item
        item.set_label(node_label(node, self.document.analysis.nodes.get(node_id)))
        self.addItem(item)

    def _remove_node(self, node_id: str) -> None:
        item = self.node_items.pop(node_id, None)
        if item is not None:
            if self.gesture is not None:
                self._cancel_gesture()
            self.removeItem(item)

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge, self.node_items[edge.source], self.node_items[edge.target],
                        self.theme)
        self.edge_items[edge] = item
        item.source_item.edges.add(item)
        item.target_item.edges.add(item)
        self.addItem(item)
        self.queue_route(item)

    def queue_route(self, item: EdgeItem) -> None:
        """Let ``item`` look around for free room once the current change is over."""
        self._unrouted.add(item)
        self._route_timer.start(0)

    def flush_routes(self) -> None:
        items, self._unrouted = self._unrouted, set()
        for item in items:
            if item.scene() is self:
                item.route_around()

    def _remove_edge(self, edge: Edge) -> None:
        item = self.edge_items.pop(edge, None)
        if item is not None:
            self._unrouted.discard(item)
            item.source_item.edges.discard(item)
            item.target_item.edges.discard(item)
            self.removeItem(item)

    def _rename_node(self, old: str, new: str) -> None:
        item = self.node_items.pop(old)
        item.node_id = new
        self.node_items[new] = item
        for edge, edge_item in list(self.edge_items.items()):
            if old in (edge.source, edge.target):
                del self.edge_items[edge]
                edge_item.edge = Edge(new if edge.source == old else edge.source,
                                      new if edge.target == old else edge.target,
                                      edge.target_port)
                self.edge_items[edge_item.edge] = edge_item

    def sync_positions(self, node_ids: list[str]) -> None:
        """Put items where the document says they are."""
        graph = self.document.graph
        for node_id in node_ids:
            item = self.node_items.get(node_id)
            if item is not None and node_id in graph.nodes:
                x, y = graph.nodes[node_id].position
                if (item.pos().x(), item.pos().y()) != (x, y):
                    item.setPos(x, y)

    def apply_analysis(self, analysis: Analysis) -> None:
        """Relabel what changed: unchanged nodes are skipped, and each source's shape text
        is formatted once however many wires leave it (Concat-heavy graphs)."""
        graph = self.document.graph
        hidden = self.editor.concealed is not None     # a quiz waits: predict, then reveal
        for node_id, item in self.node_items.items():
            node, info = graph.nodes.get(node_id), analysis.nodes.get(node_id)
            if node is None:
                continue
            key = (node.type, repr(node.params), info, hidden)
            if key != item.label_key:
                item.label_key = key
                label = node_label(node, info)
                item.set_label(concealed(label) if hidden and node.type != "Input" else label)
        if self._ranks is None:
            self._ranks = input_ranks(graph)
        texts: dict[str, str] = {}
        for edge, item in self.edge_items.items():
            info = analysis.nodes.get(edge.source)
            text = texts.get(edge.source)
            if text is None:
                text = texts[edge.source] = "?" if hidden and graph.nodes[
                    edge.source].type != "Input" else edge_label(info)
            rank = self._ranks.get(edge)
            item.set_label(text if rank is None else f"{rank}: {text}",
                           bool(info and info.status == "ok"))

    def apply_problems(self, problems: list) -> None:
        """Give each card the problems about it that its own label does not say, and every
        fix offered for it."""
        by_node: dict[str, tuple[list, list]] = {}
        for problem in problems:
            if problem.node in self.node_items and problem.is_error:  # a todo is no red !
                notes, fixes = by_node.setdefault(problem.node, ([], []))
                notes.append(problem.message)
                fixes.extend(problem.fixes)
        for node_id, item in self.node_items.items():
            notes, fixes = by_node.get(node_id, ([], []))
            own = item.label.error if item.label is not None else None
            item.set_problems([m for m in notes if m != own], fixes)

    def fix_menu(self, node_id: str) -> QMenu:
        """The fixes offered for a layer, as a menu (the red ! on its card opens it)."""
        menu = QMenu()
        item = self.node_items.get(node_id)
        for fix in (item.fixes if item is not None else []):
            action = menu.addAction(f"Fix: {fix.label}")
            action.triggered.connect(lambda _c=False, f=fix: self.editor.apply_fix(f))
        return menu

    def _wiring_changed(self, *_args) -> None:
        self._ranks = None   # input order of multi-input layers: recomputed on next analysis

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackgroundBrush(theme.canvas)
        for item in list(self.node_items.values()) + list(self.edge_items.values()):
            item.set_theme(theme)

    def show_hint(self, text: str) -> None:
        """Guidance during a gesture; "" when it is over (the status bar then drops the
        last hint, if it still shows it, instead of keeping it after the fact)."""
        if text:
            self.last_hint = text
        self.hintChanged.emit(text)

    # --- selection <-> the shared Selection ------------------------------------------------------
    @contextlib.contextmanager
    def batched_selection(self) -> Iterator[None]:
        """Change many items' selection with one Selection update at the end."""
        self._selection_depth += 1
        try:
            yield
        finally:
            self._selection_depth -= 1
            if self._selection_depth == 0:
                self._push_selection()

    def _push_selection(self) -> None:
        if self._selection_depth or self._pulling:
            return
        nodes = [n for n, item in self.node_items.items() if item.isSelected()]
        edges = [e for e, item in self.edge_items.items() if item.isSelected()]
        self.editor.selection.set(nodes, edges)

    def _pull_selection(self, nodes: list[str]) -> None:
        wanted = set(nodes)
        self._pulling = True
        try:
            for node_id, item in self.node_items.items():
                if item.isSelected() != (node_id in wanted):
                    item.setSelected(node_id in wanted)
            edges = set(self.editor.selection.edges)
            for edge, item in self.edge_items.items():
                if item.isSelected() != (edge in edges):
                    item.setSelected(edge in edges)
        finally:
            self._pulling = False

    # --- mouse: hand each interaction to a gesture ------------------------------------------------
    def _transform(self, event: QGraphicsSceneMouseEvent) -> QTransform:
        widget = event.widget()
        view = widget.parentWidget() if widget is not None else None
        return view.transform() if hasattr(view, "transform") else QTransform()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.gesture is not None:
            event.accept()
            return
        left = event.button() == Qt.MouseButton.LeftButton
        item = self.itemAt(event.scenePos(), self._transform(event)) if left else None
        if (isinstance(item, NodeItem) and item.fixes
                and item.badge_rect().contains(item.mapFromScene(event.scenePos()))):
            event.accept()
            self.editor.selection.select([item.node_id])
            self.fix_menu(item.node_id).exec(event.screenPos())
            return
        if left and isinstance(item, PortItem):
            event.accept()
            if self.document.is_locked:
                self.editor.message.emit(f"Editing is locked: {self.document.lock_reason}")
                return
            self.gesture = NewWire(self, item)
            return
        if left and item is None:
            event.accept()
            self.gesture = RubberBand(self, event)
            return
        super().mousePressEvent(event)
        if left and isinstance(item, NodeItem):
            self.gesture = MoveNodes(self)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.gesture is None or self.gesture.default_handling:
            super().mouseMoveEvent(event)
        if self.gesture is not None:
            self.gesture.move(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        gesture = self.gesture
        if gesture is None or gesture.default_handling:
            super().mouseReleaseEvent(event)
        if gesture is not None and event.button() == Qt.MouseButton.LeftButton:
            self.gesture = None
            self.show_hint("")          # the hint ends here; what the release says stays
            gesture.release(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self.gesture is not None:
            self._cancel_gesture()
            event.accept()
            return
        super().keyPressEvent(event)

    def _cancel_gesture(self) -> None:
        gesture, self.gesture = self.gesture, None
        if gesture is not None:
            gesture.cancel()
            self.show_hint("")

    # --- drag and drop from the palette -----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        self.drop = PaletteDrop.start(self, event)
        if self.drop is None:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self.drop is None:
            self.drop = PaletteDrop.start(self, event)
        if self.drop is None:
            event.ignore()
            return
        self.drop.move(event)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        if self.drop is not None:
            self.drop.leave()
            self.drop = None

    def dropEvent(self, event) -> None:  # noqa: N802
        drop, self.drop = self.drop, None
        if drop is None:
            drop = PaletteDrop.start(self, event)
        if drop is None:
            event.ignore()
            return
        drop.drop(event)
