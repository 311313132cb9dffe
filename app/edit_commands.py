"""engine.edits → ONE undoable command: how a Fix (a dataset fix, a quick fix) is applied.

Each plain-data edit becomes the app command that already exists for it (SetParam, AddNode,
AddEdge, …), and the parts run as one :class:`~layerlab.app.commands.Composite`. Parts are
built one after the other against the document as the previous parts leave it (an edit may
set a parameter of a node an earlier edit added), then rolled back, so that pushing the
composite is what applies them: the undo stack sees one step.
"""
from __future__ import annotations

from layerlab.engine import Edge, Node
from layerlab.engine.edits import (AddNode, Connect, Disconnect, EditError, InsertBetween,
                                   RemoveNode, Rename, SetParams, SetSection, right_of)

from . import commands
from .document import Document

__all__ = ["edits_command"]



def _part(doc: Document, edit, notifier) -> list[commands.DocumentCommand]:
    graph = doc.graph
    if isinstance(edit, SetParams):
        if edit.node not in graph.nodes:
            raise EditError(f"there is no node called '{edit.node}'")
        return [commands.SetParam(doc, edit.node, name, value) if value is not None
                else _ResetParam(doc, edit.node, name) for name, value in edit.params.items()]
    if isinstance(edit, AddNode):
        position = edit.position or right_of(doc.project)
        return [commands.AddNode(doc, Node(edit.id, edit.type, dict(edit.params),
                                           (float(position[0]), float(position[1]))))]
    if isinstance(edit, Connect):
        port = graph.next_port(edit.target) if edit.port is None else int(edit.port)
        return [commands.AddEdge(doc, Edge(edit.source, edit.target, port))]
    if isinstance(edit, Disconnect):
        wire = next((e for e in graph.edges
                     if e.source == edit.source and e.target == edit.target), None)
        if wire is None:
            raise EditError(f"'{edit.source}' does not feed '{edit.target}'")
        return [commands.RemoveEdge(doc, wire)]
    if isinstance(edit, RemoveNode):
        return [commands.RemoveNodes(doc, [edit.id])]
    if isinstance(edit, Rename):
        return [commands.RenameNode(doc, edit.old, edit.new)]
    if isinstance(edit, InsertBetween):
        wire = next((e for e in graph.edges
                     if e.source == edit.source and e.target == edit.target), None)
        if wire is None:
            raise EditError(f"'{edit.source}' does not feed '{edit.target}'")
        (ax, ay), (bx, by) = graph.nodes[edit.source].position, graph.nodes[edit.target].position
        node = Node(edit.id, edit.type, dict(edit.params), ((ax + bx) / 2, (ay + by) / 2))
        return [commands.InsertNodeOnEdge(doc, wire, node=node)]
    if isinstance(edit, SetSection):
        from .dashboard.state.settings_commands import SetSection as SectionCommand
        if notifier is None:
            raise EditError("a section edit needs the settings notifier")
        values = {} if edit.replace else dict(getattr(doc.project, edit.section) or {})
        for key, value in edit.values.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return [SectionCommand(doc, notifier, edit.section, values,
                               f"Set the {edit.section} settings")]
    raise EditError(f"not an edit: {edit!r}")


class _ResetParam(commands.SetParam):
    """SetParams with None: the key goes, so the layer's default applies."""

    def __init__(self, doc: Document, node_id: str, name: str) -> None:
        super().__init__(doc, node_id, name, None)
        self.setText(f"Reset {node_id}.{name}")
        self.new = commands._MISSING


def edits_command(doc: Document, edits, text: str, notifier=None) -> commands.Composite:
    """One undoable command applying ``edits`` in order. Raises EditError (nothing changed)
    when an edit does not fit the document. ``notifier``: the SettingsNotifier, needed for
    SetSection edits."""
    parts: list[commands.DocumentCommand] = []
    with doc.edit():
        try:
            for i, edit in enumerate(edits):
                try:
                    made = _part(doc, edit, notifier)
                    for part in made:
                        part.redo()
                        parts.append(part)
                except (EditError, KeyError, ValueError) as exc:
                    text_ = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
                    raise EditError(f"edit {i + 1}: {text_}") from None
        finally:
            for part in reversed(parts):
                part.undo()
    return commands.Composite(doc, text, parts)
