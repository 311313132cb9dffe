"""Undoable edits: one small QUndoCommand per user edit, each applied through the Document.

A command captures everything it needs when it is built (the editor has already checked the
edit is allowed), so ``redo``/``undo`` only replay recorded data and cannot fail halfway.
``structural`` marks the commands a locked document refuses to replay.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

from PySide6.QtGui import QUndoCommand

from layerlab.engine import Edge, Node
from layerlab.engine import edits as E

from .document import Document

__all__ = ["DocumentCommand", "AddNode", "DeleteItems", "RemoveNodes", "AddEdge", "RemoveEdge",
           "InsertNodeOnEdge", "MoveNodes", "AutoLayout", "SetParam", "RenameNode", "Paste",
           "Composite", "SetProjectSection", "ApplyFix"]

_MISSING = object()
_SET_PARAM_ID = 4101


class DocumentCommand(QUndoCommand):
    #: False for edits that cannot change what the model computes (positions, parameters).
    structural = True

    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self.doc = doc

    def refusal(self) -> str | None:
        """Why this edit may not be done, undone or redone now, beyond the structure lock
        (the Editor asks); None: it may."""
        return None


class AddNode(DocumentCommand):
    def __init__(self, doc: Document, node: Node) -> None:
        super().__init__(doc, f"Add {node.type} '{node.id}'")
        self.node = copy.deepcopy(node)

    def redo(self) -> None:
        self.doc.insert_node(copy.deepcopy(self.node))

    def undo(self) -> None:
        self.doc.take_node(self.node.id)


class DeleteItems(DocumentCommand):
    """Delete nodes (with every wire touching them) and loose wires, restoring order on undo."""

    def __init__(self, doc: Document, node_ids: Iterable[str], edges: Iterable[Edge] = ()) -> None:
        graph = doc.graph
        ids = [n for n in graph.nodes if n in set(node_ids)]
        gone = set(edges) | {e for e in graph.edges if e.source in ids or e.target in ids}
        what = (f"'{ids[0]}'" if len(ids) == 1 else f"{len(ids)} layers" if ids
                else f"{len(gone)} wire{'s' if len(gone) != 1 else ''}")
        super().__init__(doc, f"Delete {what}")
        order = list(graph.nodes)
        self.nodes = [(order.index(n), copy.deepcopy(graph.nodes[n])) for n in ids]
        self.edges = sorted((graph.edges.index(e), e) for e in gone)

    def redo(self) -> None:
        with self.doc.edit():
            for _, edge in reversed(self.edges):
                self.doc.take_edge(edge)
            for _, node in reversed(self.nodes):
                self.doc.take_node(node.id)

    def undo(self) -> None:
        with self.doc.edit():
            for index, node in self.nodes:
                self.doc.insert_node(copy.deepcopy(node), index)
            for index, edge in self.edges:
                self.doc.insert_edge(edge, index)


class RemoveNodes(DeleteItems):
    def __init__(self, doc: Document, node_ids: Iterable[str]) -> None:
        super().__init__(doc, node_ids)


class AddEdge(DocumentCommand):
    def __init__(self, doc: Document, edge: Edge) -> None:
        super().__init__(doc, f"Wire {edge.source} → {edge.target}")
        self.edge = edge

    def redo(self) -> None:
        self.doc.insert_edge(self.edge)

    def undo(self) -> None:
        self.doc.take_edge(self.edge)


class RemoveEdge(DeleteItems):
    def __init__(self, doc: Document, edge: Edge) -> None:
        super().__init__(doc, (), [edge])
        self.setText(f"Delete wire {edge.source} → {edge.target}")


class InsertNodeOnEdge(DocumentCommand):
    """A → B becomes A → N → B. N is a new node, or an existing unwired one moved there."""

    def __init__(self, doc: Document, edge: Edge, node: Node | None = None,
                 existing_id: str | None = None,
                 position: tuple[float, float] | None = None) -> None:
        node_id = node.id if node is not None else existing_id
        super().__init__(doc, f"Insert '{node_id}' between {edge.source} and {edge.target}")
        self.edge = edge
        self.index = doc.graph.edges.index(edge)
        self.node = copy.deepcopy(node)
        self.node_id = node_id
        self.old_pos = doc.node(existing_id).position if existing_id else None
        self.new_pos = position
        self.new_edges = (Edge(edge.source, node_id, 0), Edge(node_id, edge.target,
                                                             edge.target_port))

    def redo(self) -> None:
        with self.doc.edit():
            self.doc.take_edge(self.edge)
            if self.node is not None:
                self.doc.insert_node(copy.deepcopy(self.node))
            elif self.new_pos is not None:
                self.doc.set_positions({self.node_id: self.new_pos})
            for edge in self.new_edges:
                self.doc.insert_edge(edge)

    def undo(self) -> None:
        with self.doc.edit():
            for edge in reversed(self.new_edges):
                self.doc.take_edge(edge)
            if self.node is not None:
                self.doc.take_node(self.node_id)
            elif self.old_pos is not None:
                self.doc.set_positions({self.node_id: self.old_pos})
            self.doc.insert_edge(self.edge, self.index)


class MoveNodes(DocumentCommand):
    structural = False

    def __init__(self, doc: Document, old: dict[str, tuple[float, float]],
                 new: dict[str, tuple[float, float]], text: str | None = None) -> None:
        count = len(new)
        super().__init__(doc, text or (f"Move '{next(iter(new))}'" if count == 1
                                       else f"Move {count} layers"))
        self.old, self.new = dict(old), dict(new)

    def redo(self) -> None:
        self.doc.set_positions(self.new)

    def undo(self) -> None:
        self.doc.set_positions(self.old)


class AutoLayout(MoveNodes):
    def __init__(self, doc: Document, new: dict[str, tuple[float, float]]) -> None:
        old = {n: doc.node(n).position for n in new}
        super().__init__(doc, old, new, "Auto-layout")


class SetParam(DocumentCommand):
    """One parameter of one node. Consecutive edits of the same field in the same editing
    ``session`` (typing, spin arrows) merge into one undo step."""
    structural = False

    def __init__(self, doc: Document, node_id: str, name: str, value: Any,
                 session: int | None = None) -> None:
        super().__init__(doc, f"Reset {node_id}.{name}" if value is _MISSING
                         else f"Set {node_id}.{name} = {_short(value)}")
        self.node_id, self.name, self.session = node_id, name, session
        old = doc.node(node_id).params.get(name, _MISSING)
        self.old = old if old is _MISSING else copy.deepcopy(old)
        self.new = value if value is _MISSING else copy.deepcopy(value)   # _MISSING: remove

    def id(self) -> int:  # noqa: A003  (Qt's name)
        return _SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if (not isinstance(other, SetParam) or self.session is None
                or (other.node_id, other.name, other.session)
                != (self.node_id, self.name, self.session)):
            return False
        self.new = other.new
        self.setText(f"Set {self.node_id}.{self.name} = {_short(self.new)}")
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def refusal(self) -> str | None:
        # Locked (training): undoing a parameter edit changes the network the run trains.
        if self.doc.can_edit_param(self.node_id, self.name):
            return None
        return f"Editing is locked: {self.doc.lock_reason}"

    def _apply(self, value: Any) -> None:
        params = dict(self.doc.node(self.node_id).params)
        if value is _MISSING:
            params.pop(self.name, None)
        else:
            params[self.name] = copy.deepcopy(value)
        self.doc.set_params(self.node_id, params)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class RenameNode(DocumentCommand):
    def __init__(self, doc: Document, old: str, new: str) -> None:
        super().__init__(doc, f"Rename '{old}' to '{new}'")
        self.old, self.new = old, new

    def redo(self) -> None:
        self.doc.rename_node(self.old, self.new)

    def undo(self) -> None:
        self.doc.rename_node(self.new, self.old)


class Paste(DocumentCommand):
    """Nodes and the wires among them, added as one step (paste, duplicate)."""

    def __init__(self, doc: Document, nodes: list[Node], edges: list[Edge],
                 text: str = "Paste") -> None:
        super().__init__(doc, f"{text} {len(nodes)} layer{'s' if len(nodes) != 1 else ''}")
        self.nodes = copy.deepcopy(nodes)
        self.edges = list(edges)

    def redo(self) -> None:
        with self.doc.edit():
            for node in self.nodes:
                self.doc.insert_node(copy.deepcopy(node))
            for edge in self.edges:
                self.doc.insert_edge(edge)

    def undo(self) -> None:
        with self.doc.edit():
            for edge in reversed(self.edges):
                self.doc.take_edge(edge)
            for node in reversed(self.nodes):
                self.doc.take_node(node.id)


class Composite(DocumentCommand):
    """Several commands as one undo step (e.g. add a layer and wire it after the selection)."""

    def __init__(self, doc: Document, text: str, parts: list[DocumentCommand]) -> None:
        super().__init__(doc, text)
        self.parts = parts
        self.structural = any(p.structural for p in parts)

    def refusal(self) -> str | None:
        return next((r for p in self.parts if (r := p.refusal())), None)

    def redo(self) -> None:
        with self.doc.edit():
            for part in self.parts:
                part.redo()

    def undo(self) -> None:
        with self.doc.edit():
            for part in reversed(self.parts):
                part.undo()


class SetProjectSection(DocumentCommand):
    """Replace the project's "dataset" or "training" section (a fix may change them);
    ``notify(section)`` tells the views that show it."""
    structural = False

    def __init__(self, doc: Document, section: str, new: dict, text: str,
                 notify: Callable[[str], None] | None = None) -> None:
        super().__init__(doc, text)
        self.section, self.notify = section, notify
        self.old = copy.deepcopy(getattr(doc.project, section) or {})
        self.new = copy.deepcopy(new)

    def _apply(self, value: dict) -> None:
        setattr(self.doc.project, self.section, copy.deepcopy(value))
        if self.notify is not None:
            self.notify(self.section)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


#: Where an inserted layer goes: (edge, suggested position) → (position, commands that
#: make room first). The editor's rule; a plain midpoint when none is given.
Placer = Callable[[Edge, tuple[float, float]], tuple[tuple[float, float],
                                                     list[DocumentCommand]]]


class ApplyFix(DocumentCommand):
    """A quick fix (engine.edits.Fix) as ONE undo step, made of the commands above.

    Each edit becomes the command a person would have made by hand (AddNode,
    InsertNodeOnEdge, SetParam…), built against the state the edits before it left — so
    the commands are created on the first redo, in order, and replayed afterwards; undo
    runs them backwards and restores the project exactly. The editor checks the fix with
    engine.edits.apply_edits on a copy before pushing, so building cannot fail halfway.
    """

    def __init__(self, doc: Document, fix: E.Fix, place: Placer | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        super().__init__(doc, fix.label)
        self.fix, self.place, self.notify = fix, place, notify
        self.parts: list[DocumentCommand] | None = None
        self.structural = any(not isinstance(e, (E.SetParams, E.SetSection))
                              for e in fix.edits)

    def redo(self) -> None:
        with self.doc.edit():
            if self.parts is not None:
                for part in self.parts:
                    part.redo()
                return
            self.parts = []
            for edit in self.fix.edits:
                for part in self._commands_for(edit):
                    part.redo()
                    self.parts.append(part)

    def undo(self) -> None:
        with self.doc.edit():
            for part in reversed(self.parts or []):
                part.undo()

    def _commands_for(self, edit) -> list[DocumentCommand]:
        doc, graph = self.doc, self.doc.graph
        if isinstance(edit, E.AddNode):
            position = edit.position or _right_of(graph)
            return [AddNode(doc, Node(edit.id, edit.type, dict(edit.params), position))]
        if isinstance(edit, E.RemoveNode):
            return [DeleteItems(doc, [edit.id])]
        if isinstance(edit, E.Connect):
            port = graph.next_port(edit.target) if edit.port is None else int(edit.port)
            return [AddEdge(doc, Edge(edit.source, edit.target, port))]
        if isinstance(edit, E.Disconnect):
            return [RemoveEdge(doc, _wire(graph, edit.source, edit.target))]
        if isinstance(edit, E.InsertBetween):
            wire = _wire(graph, edit.source, edit.target)
            (ax, ay), (bx, by) = graph.nodes[edit.source].position, \
                graph.nodes[edit.target].position
            position, room = (((ax + bx) / 2, (ay + by) / 2), []) if self.place is None \
                else self.place(wire, ((ax + bx) / 2, (ay + by) / 2))
            node = Node(edit.id, edit.type, dict(edit.params), position)
            return room + [InsertNodeOnEdge(doc, wire, node=node)]
        if isinstance(edit, E.SetParams):
            return [SetParam(doc, edit.node, name, _MISSING if value is None else value)
                    for name, value in edit.params.items()]
        if isinstance(edit, E.Rename):
            return [RenameNode(doc, edit.old, edit.new)]
        if isinstance(edit, E.SetSection):
            values = {} if edit.replace else dict(getattr(doc.project, edit.section) or {})
            for key, value in edit.values.items():
                if value is None:
                    values.pop(key, None)
                else:
                    values[key] = copy.deepcopy(value)
            return [SetProjectSection(doc, edit.section, values, self.fix.label, self.notify)]
        raise E.EditError(f"not an edit: {edit!r}")


def _wire(graph, source: str, target: str) -> Edge:
    return next(e for e in graph.edges if e.source == source and e.target == target)


def _right_of(graph) -> tuple[float, float]:
    if not graph.nodes:
        return (0.0, 0.0)
    x, y = max((n.position for n in graph.nodes.values()), key=lambda p: p[0])
    return (x + 240.0, y)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 24 else text[:21] + "…"
