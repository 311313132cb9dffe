"""Edits to a project as plain data: the one vocabulary for every change a program proposes.

A quick fix on a problem ("insert a Flatten before fc1"), a dataset fix ("set the Input shape
to 1×8×8") and a lesson's "Show me" step are all a :class:`Fix`: a label and a tuple of edits.
The engine applies them to a project copy (:func:`apply_edits`, for the command line, lessons
checked headless and tests); the app turns the same tuple into one undoable command. Edits
are frozen dataclasses with a JSON form (``{"op": "set_params", ...}``), so lesson files can
hold them — data, never code.

Every edit names what it touches; :func:`apply_edits` raises :class:`EditError` saying which
edit failed and why, and leaves the project it was given unchanged.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Union

from . import registry
from .graph import Edge, GraphEditError, Node, Project

__all__ = ["AddNode", "RemoveNode", "Connect", "Disconnect", "InsertBetween", "SetParams",
           "ChangeType", "Rename", "SetSection", "Edit", "Fix", "EditError", "apply_edits", "edit_to_json",
           "edit_from_json", "fix_to_json", "fix_from_json", "EDIT_TYPES"]


class EditError(ValueError):
    """An edit that does not fit the project it is applied to."""


@dataclass(frozen=True)
class AddNode:
    """A new node; ``position`` None puts it to the right of the rightmost node."""
    op: ClassVar[str] = "add_node"
    id: str
    type: str
    params: dict = field(default_factory=dict)
    position: tuple[float, float] | None = None


@dataclass(frozen=True)
class RemoveNode:
    """A node and every wire touching it."""
    op: ClassVar[str] = "remove_node"
    id: str


@dataclass(frozen=True)
class Connect:
    """A wire; ``port`` None takes the target's next free input port."""
    op: ClassVar[str] = "connect"
    source: str
    target: str
    port: int | None = None


@dataclass(frozen=True)
class Disconnect:
    op: ClassVar[str] = "disconnect"
    source: str
    target: str


@dataclass(frozen=True)
class InsertBetween:
    """A new node spliced into the wire ``source`` → ``target`` (which must exist)."""
    op: ClassVar[str] = "insert_between"
    source: str
    target: str
    id: str
    type: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SetParams:
    """Merge ``params`` into a node's parameters (None as a value removes that key, so the
    layer's default applies)."""
    op: ClassVar[str] = "set_params"
    node: str
    params: dict


@dataclass(frozen=True)
class ChangeType:
    """Make a node another layer type in place: its id and wires stay, and so do the
    parameters the new type also has ("use a BatchNorm1d here instead")."""
    op: ClassVar[str] = "change_type"
    node: str
    type: str


@dataclass(frozen=True)
class Rename:
    op: ClassVar[str] = "rename"
    old: str
    new: str


@dataclass(frozen=True)
class SetSection:
    """Merge ``values`` into the project's ``dataset`` or ``training`` section (None removes
    a key); ``replace`` swaps the whole section instead."""
    op: ClassVar[str] = "set_section"
    section: str
    values: dict
    replace: bool = False


Edit = Union[AddNode, RemoveNode, Connect, Disconnect, InsertBetween, SetParams, ChangeType,
             Rename, SetSection]
EDIT_TYPES: dict[str, type] = {cls.op: cls for cls in (AddNode, RemoveNode, Connect,
                                                        Disconnect, InsertBetween, SetParams,
                                                        ChangeType, Rename, SetSection)}
SECTIONS = ("dataset", "training")


@dataclass(frozen=True)
class Fix:
    """A remedy a person can apply in one step: what the button says, and the edits."""
    label: str
    edits: tuple = ()


# --- applying ------------------------------------------------------------------------------

def apply_edits(project: Project, edits) -> Project:
    """A copy of ``project`` with ``edits`` applied in order (the original is not touched)."""
    result = project.copy()
    for i, edit in enumerate(edits):
        try:
            _apply(result, edit)
        except (GraphEditError, EditError, KeyError, ValueError) as exc:
            text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise EditError(f"edit {i + 1} ({_describe(edit)}): {text}") from None
    return result


def _apply(project: Project, edit) -> None:
    graph = project.graph
    if isinstance(edit, AddNode):
        graph.add_node(Node(edit.id, edit.type, dict(edit.params),
                            edit.position or right_of(project)))
    elif isinstance(edit, RemoveNode):
        _need(project, edit.id)
        graph.remove_node(edit.id)
    elif isinstance(edit, Connect):
        _need(project, edit.source, edit.target)
        port = graph.next_port(edit.target) if edit.port is None else int(edit.port)
        graph.add_edge(Edge(edit.source, edit.target, port))
    elif isinstance(edit, Disconnect):
        graph.remove_edge(_wire(project, edit.source, edit.target))
    elif isinstance(edit, InsertBetween):
        wire = _wire(project, edit.source, edit.target)
        a, b = graph.nodes[edit.source].position, graph.nodes[edit.target].position
        graph.add_node(Node(edit.id, edit.type, dict(edit.params),
                            ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)))
        graph.remove_edge(wire)
        graph.add_edge(Edge(edit.source, edit.id, 0))
        graph.add_edge(Edge(edit.id, edit.target, wire.target_port))
    elif isinstance(edit, SetParams):
        _need(project, edit.node)
        node = graph.nodes[edit.node]
        params = dict(node.params)
        for key, value in edit.params.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = copy.deepcopy(value)
        node.params = params
    elif isinstance(edit, ChangeType):
        _need(project, edit.node)
        node = graph.nodes[edit.node]
        node.params = kept_params(node.params, edit.type)
        node.type = edit.type
    elif isinstance(edit, Rename):
        _need(project, edit.old)
        graph.rename_node(edit.old, edit.new)
    elif isinstance(edit, SetSection):
        if edit.section not in SECTIONS:
            raise EditError(f"unknown section '{edit.section}' (use {' or '.join(SECTIONS)})")
        values = {} if edit.replace else dict(getattr(project, edit.section) or {})
        for key, value in edit.values.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = copy.deepcopy(value)
        setattr(project, edit.section, values)
    else:
        raise EditError(f"not an edit: {edit!r}")


def kept_params(params: dict, type_name: str) -> dict:
    """The parameters of ``params`` that a ``type_name`` layer also has (ChangeType)."""
    spec = registry.find(type_name)
    if spec is None:
        raise EditError(f"there is no layer type '{type_name}'")
    names = {p.name for p in spec.params}
    return {k: copy.deepcopy(v) for k, v in params.items() if k in names}


def _need(project: Project, *ids: str) -> None:
    for node_id in ids:
        if node_id not in project.graph.nodes:
            raise EditError(f"there is no node called '{node_id}'")


def _wire(project: Project, source: str, target: str) -> Edge:
    _need(project, source, target)
    for edge in project.graph.edges:
        if edge.source == source and edge.target == target:
            return edge
    raise EditError(f"'{source}' does not feed '{target}'")


def right_of(project: Project) -> tuple[float, float]:
    """Where a new node without a position goes: right of the rightmost node."""
    nodes = list(project.graph.nodes.values())
    if not nodes:
        return (0.0, 0.0)
    right = max(nodes, key=lambda n: n.position[0])
    return (right.position[0] + 220.0, right.position[1])


def _describe(edit) -> str:
    op = getattr(edit, "op", type(edit).__name__)
    names = [str(getattr(edit, f.name)) for f in fields(edit)
             if f.name in ("id", "node", "source", "target", "old", "section")]
    return f"{op} {' → '.join(names)}".strip()


# --- JSON ----------------------------------------------------------------------------------

def edit_to_json(edit) -> dict[str, Any]:
    data = {"op": edit.op, **asdict(edit)}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()
            if v is not None or k == "op"}


def edit_from_json(data: Any, where: str = "edit") -> Any:
    """An edit from its JSON form; EditError names ``where`` and what is wrong."""
    if not isinstance(data, dict):
        raise EditError(f"{where}: an edit is an object with an 'op', "
                        f"not {type(data).__name__}")
    op = data.get("op")
    cls = EDIT_TYPES.get(op) if isinstance(op, str) else None
    if cls is None:
        raise EditError(f"{where}: unknown op {op!r} (one of: {', '.join(EDIT_TYPES)})")
    names = {f.name: f for f in fields(cls)}
    extra = set(data) - set(names) - {"op"}
    if extra:
        raise EditError(f"{where}: {op} has no field {', '.join(sorted(extra))}")
    kwargs = {}
    for name, f in names.items():
        if name in data:
            kwargs[name] = _field_value(cls, name, data[name], where)
    try:
        return cls(**kwargs)
    except TypeError:
        missing = [n for n, f in names.items() if n not in kwargs and _required(f)]
        raise EditError(f"{where}: {op} needs {', '.join(missing)}") from None


def _field_value(cls, name: str, value: Any, where: str) -> Any:
    if name in ("params", "values"):
        if not isinstance(value, dict):
            raise EditError(f"{where}.{name}: expected an object")
        return value
    if name == "position":
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, (int, float)) for v in value)):
            raise EditError(f"{where}.position: expected [x, y]")
        return (float(value[0]), float(value[1]))
    if name == "port":
        if not isinstance(value, int) or value < 0:
            raise EditError(f"{where}.port: expected a whole number ≥ 0")
        return value
    if name == "replace":
        if not isinstance(value, bool):
            raise EditError(f"{where}.replace: expected true or false")
        return value
    if not isinstance(value, str) or not value:
        raise EditError(f"{where}.{name}: expected a non-empty string")
    return value


def _required(f) -> bool:
    from dataclasses import MISSING
    return f.default is MISSING and f.default_factory is MISSING


def fix_to_json(fix: Fix) -> dict[str, Any]:
    return {"label": fix.label, "edits": [edit_to_json(e) for e in fix.edits]}


def fix_from_json(data: Any, where: str = "fix") -> Fix:
    if not isinstance(data, dict) or not isinstance(data.get("label"), str):
        raise EditError(f"{where}: a fix is an object with a 'label' and 'edits'")
    edits = data.get("edits", [])
    if not isinstance(edits, list):
        raise EditError(f"{where}.edits: expected a list")
    return Fix(data["label"], tuple(edit_from_json(e, f"{where}.edits[{i}]")
                                    for i, e in enumerate(edits)))
