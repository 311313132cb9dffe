"""The layer graph: nodes (a layer type and its parameters), edges, and the project around them.

Plain data with small, checked edit methods. Validation of meaning (shapes, cycles, ends) is
inference's job; the graph only refuses what can never make sense (unknown ids, duplicates).
"""
from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, SupportsIndex

__all__ = ["Node", "Edge", "EdgeList", "Graph", "Project", "ID_PATTERN", "RESERVED_IDS", "id_problem",
           "GraphEditError"]

#: Node ids double as module attribute names in the built model and the exported code.
#: No leading underscore: torch containers have private attributes (_apply, _modules…) too.
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


#: Attribute names of torch's nn.ModuleDict (and so of the built model's layer container): a
#: node with such an id could not be built. tests/test_graph.py checks this list against torch.
RESERVED_IDS = frozenset("""
T_destination add_module apply bfloat16 buffers call_super_init children clear compile cpu cuda
double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
get_submodule half ipu items keys load_state_dict modules mtia named_buffers named_children
named_modules named_parameters parameters pop register_backward_hook register_buffer
register_forward_hook register_forward_pre_hook register_full_backward_hook
register_full_backward_pre_hook register_load_state_dict_post_hook
register_load_state_dict_pre_hook register_module register_parameter
register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
set_submodule share_memory state_dict to to_empty train training type update values xpu
zero_grad
""".split())


def id_problem(node_id: object) -> str | None:
    """Why ``node_id`` cannot name a node, or None when it can."""
    if not isinstance(node_id, str) or not ID_PATTERN.match(node_id):
        return (f"{_quote(node_id)} is not a valid node id: use letters, digits and _, starting "
                f"with a letter (at most 64 characters)")
    if node_id in RESERVED_IDS:
        return f"'{node_id}' is a PyTorch method name and cannot name a node — choose another id"
    return None


def _quote(value: object) -> str:
    text = f"'{value}'" if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class GraphEditError(ValueError):
    """An edit that cannot be applied; the message says why in plain words."""


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    #: Orders the inputs of a multi-input node (Concat); single-input nodes use 0.
    target_port: int = 0


class EdgeList(list):
    """A list of edges that counts its (source, target) pairs as it changes, so the duplicate
    check of ``Graph.add_edge`` costs O(1) instead of a scan of every edge (which made loading
    a 20k-node project take 16 s). Every way a list can change keeps the count, because the
    app edits ``graph.edges`` in place (undo re-inserts an edge at its old index)."""

    def __init__(self, edges: Iterable[Edge] = ()) -> None:
        super().__init__(edges)
        self._pairs = Counter((e.source, e.target) for e in self)

    def has(self, source: str, target: str) -> bool:
        return self._pairs.get((source, target), 0) > 0

    def _add(self, edges: Iterable[Edge]) -> None:
        self._pairs.update((e.source, e.target) for e in edges)

    def _drop(self, edges: Iterable[Edge]) -> None:
        self._pairs.subtract((e.source, e.target) for e in edges)

    def append(self, edge: Edge) -> None:
        super().append(edge)
        self._pairs[(edge.source, edge.target)] += 1

    def insert(self, index: SupportsIndex, edge: Edge) -> None:
        super().insert(index, edge)
        self._pairs[(edge.source, edge.target)] += 1

    def extend(self, edges: Iterable[Edge]) -> None:
        edges = list(edges)
        super().extend(edges)
        self._add(edges)

    def __iadd__(self, edges: Iterable[Edge]) -> "EdgeList":
        self.extend(edges)
        return self

    def pop(self, index: SupportsIndex = -1) -> Edge:
        edge = super().pop(index)
        self._pairs[(edge.source, edge.target)] -= 1
        return edge

    def remove(self, edge: Edge) -> None:
        super().remove(edge)
        self._pairs[(edge.source, edge.target)] -= 1

    def clear(self) -> None:
        super().clear()
        self._pairs.clear()

    def __delitem__(self, index) -> None:
        gone = self[index] if isinstance(index, slice) else [self[index]]
        super().__delitem__(index)
        self._drop(gone)

    def __setitem__(self, index, value) -> None:
        gone = self[index] if isinstance(index, slice) else [self[index]]
        new = list(value) if isinstance(index, slice) else [value]
        super().__setitem__(index, new if isinstance(index, slice) else value)
        self._drop(gone)
        self._add(new)

    def __imul__(self, times: SupportsIndex) -> "EdgeList":
        super().__imul__(times)
        self._pairs = Counter((e.source, e.target) for e in self)
        return self

    def __reduce__(self):
        # copy, deepcopy and pickle rebuild the count from the edges (the default protocol
        # would restore the count and then append every edge again).
        return (EdgeList, (list(self),))


class Graph:
    """Nodes in insertion order plus a list of edges."""

    def __init__(self, nodes: Iterable[Node] = (), edges: Iterable[Edge] = ()) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges = EdgeList()
        for node in nodes:
            self.add_node(node)
        for edge in edges:
            self.add_edge(edge)

    @property
    def edges(self) -> EdgeList:
        return self._edges

    @edges.setter
    def edges(self, edges: Iterable[Edge]) -> None:
        self._edges = edges if isinstance(edges, EdgeList) else EdgeList(edges)

    # --- queries -----------------------------------------------------------------------
    def __contains__(self, node_id: str) -> bool:
        return node_id in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def incoming(self, node_id: str) -> list[Edge]:
        """Edges into a node, ordered by port (then by insertion)."""
        edges = [e for e in self.edges if e.target == node_id]
        return sorted(edges, key=lambda e: e.target_port)

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.source == node_id]

    def unique_id(self, prefix: str) -> str:
        """``prefix`` + the smallest number not in use: conv1, conv2, …"""
        prefix = re.sub(r"[^A-Za-z0-9_]", "_", prefix) or "node"
        if not re.match(r"[A-Za-z_]", prefix):
            prefix = "n" + prefix
        n = 1
        while f"{prefix}{n}" in self.nodes:
            n += 1
        return f"{prefix}{n}"

    def next_port(self, node_id: str) -> int:
        ports = [e.target_port for e in self.edges if e.target == node_id]
        return max(ports) + 1 if ports else 0

    # --- edits -------------------------------------------------------------------------
    def add_node(self, node: Node) -> Node:
        problem = id_problem(node.id)
        if problem:
            raise GraphEditError(problem)
        if node.id in self.nodes:
            raise GraphEditError(f"there is already a node called '{node.id}'")
        self.nodes[node.id] = node
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so an undo can restore them."""
        node = self.nodes.pop(node_id)
        removed = [e for e in self.edges if node_id in (e.source, e.target)]
        self.edges = [e for e in self.edges if node_id not in (e.source, e.target)]
        return node, removed

    def add_edge(self, edge: Edge) -> Edge:
        for end in (edge.source, edge.target):
            if end not in self.nodes:
                raise GraphEditError(f"an edge refers to '{end}', which is not a node")
        if edge.source == edge.target:
            raise GraphEditError(f"'{edge.source}' cannot feed itself")
        if self.edges.has(edge.source, edge.target):
            raise GraphEditError(f"'{edge.source}' already feeds '{edge.target}'")
        self.edges.append(edge)
        return edge

    def remove_edge(self, edge: Edge) -> None:
        self.edges.remove(edge)

    def rename_node(self, old: str, new: str) -> None:
        if new == old:
            return
        problem = id_problem(new)
        if problem:
            raise GraphEditError(problem)
        if new in self.nodes:
            raise GraphEditError(f"there is already a node called '{new}'")
        self.nodes = {(new if k == old else k): v for k, v in self.nodes.items()}
        self.nodes[new].id = new
        self.edges = [Edge(new if e.source == old else e.source,
                           new if e.target == old else e.target, e.target_port)
                      for e in self.edges]

    def copy(self) -> "Graph":
        """A deep copy of the nodes; edges are immutable and shared. Checked when made, the
        nodes and edges need no second check."""
        other = Graph()
        other.nodes = {k: Node(n.id, n.type, copy.deepcopy(n.params), n.position)
                       for k, n in self.nodes.items()}
        other.edges = EdgeList(self.edges)
        return other

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        return (list(self.nodes.values()) == list(other.nodes.values())
                and sorted(self.edges, key=_edge_key) == sorted(other.edges, key=_edge_key))

    def __repr__(self) -> str:
        return f"Graph({len(self.nodes)} nodes, {len(self.edges)} edges)"


def _edge_key(e: Edge) -> tuple:
    return (e.source, e.target, e.target_port)


@dataclass
class Project:
    """What a project file holds: the graph plus its dataset and training settings."""
    graph: Graph = field(default_factory=Graph)
    name: str = "Untitled"
    description: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> "Project":
        return Project(self.graph.copy(), self.name, self.description,
                       copy.deepcopy(self.dataset), copy.deepcopy(self.training))
