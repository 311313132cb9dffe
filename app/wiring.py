"""Which wires and insertions the editor accepts, with the reason in plain words when not.

Qt-free rules over an engine graph; the editor asks before it pushes a command, and the
status bar shows the reason of a refusal.
"""
from __future__ import annotations

from layerlab.engine import Edge, Graph, find_layer

__all__ = ["wire_problem", "reaches", "insertion_problem", "target_port_for"]


def reaches(graph: Graph, start: str, goal: str) -> bool:
    """True when a path of edges leads from ``start`` to ``goal``."""
    successors: dict[str, list[str]] = {}
    for e in graph.edges:
        successors.setdefault(e.source, []).append(e.target)
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in successors.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def wire_problem(graph: Graph, source: str, target: str) -> str | None:
    """Why a wire from ``source``'s output into ``target``'s input is refused, or None."""
    if source not in graph.nodes or target not in graph.nodes:
        return "that wire refers to a node that no longer exists"
    if source == target:
        return f"{source} cannot feed itself"
    spec = find_layer(graph.nodes[target].type)
    if spec is not None and spec.max_inputs == 0:
        return f"{target} is an Input: data enters there, nothing can feed it"
    if any(e.source == source and e.target == target for e in graph.edges):
        return f"{source} already feeds {target}"
    incoming = graph.incoming(target)
    if spec is not None and spec.max_inputs is not None and len(incoming) >= spec.max_inputs:
        current = ", ".join(e.source for e in incoming)
        return (f"{target} ({spec.type}) takes one input and already receives {current} — "
                f"delete that wire first, or merge both with an Add or Concat")
    if reaches(graph, target, source):
        return f"that wire would make a loop: {target} already leads to {source}"
    return None


def target_port_for(graph: Graph, target: str) -> int:
    """The port a new wire into ``target`` gets: after its existing inputs."""
    return graph.next_port(target)


def insertion_problem(graph: Graph, type_name: str, edge: Edge,
                      node_id: str | None = None) -> str | None:
    """Why a layer of ``type_name`` cannot go into the middle of ``edge``, or None.
    ``node_id``: an existing node being moved onto the edge (it must be unwired)."""
    spec = find_layer(type_name)
    if spec is None:
        return f"unknown layer type {type_name!r}"
    if not spec.takes_inputs:
        return f"an {spec.type} takes no input, so it cannot go between two layers"
    if edge not in graph.edges:
        return "that wire no longer exists"
    if node_id is not None:
        if node_id in (edge.source, edge.target):
            return f"{node_id} is already on that wire"
        if graph.incoming(node_id) or graph.outgoing(node_id):
            return f"{node_id} is already wired; only an unwired layer can be dropped on a wire"
    return None
