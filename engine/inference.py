"""Shape inference and counts: a pure function from a graph to what every node produces.

``analyze(graph)`` never raises. Each node gets an output shape, its trainable parameter count
and multiply-accumulates — or an error naming the node and a cause a learner can act on, or
"unknown" when something upstream failed (so one mistake is reported once, where it is).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from . import registry
from .graph import Graph
from .params import ParamError
from .registry import Shape, ShapeError, format_shape

__all__ = ["NodeInfo", "Problem", "Analysis", "analyze", "topological_order"]

Status = Literal["ok", "error", "unknown"]


@dataclass
class NodeInfo:
    id: str
    type: str
    status: Status = "unknown"
    input_shapes: list[Shape] = field(default_factory=list)
    output_shape: Shape | None = None
    params: int = 0
    macs: int = 0
    error: str | None = None
    #: Parameters with defaults filled in (only when they validated).
    resolved: dict | None = None

    @property
    def output_elements(self) -> int:
        n = 1
        for d in self.output_shape or (0,):
            n *= d
        return n


@dataclass(frozen=True)
class Problem:
    node: str | None  # None: the graph as a whole
    message: str
    #: Remedies a person can apply in one click (engine.edits.Fix), best first.
    fixes: tuple = field(default=(), compare=False)


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    order: list[str]          # topological where possible; nodes on cycles come last
    problems: list[Problem]
    input_node: str | None
    output_node: str | None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_params(self) -> int:
        return sum(info.params for info in self.nodes.values())

    @property
    def total_macs(self) -> int:
        return sum(info.macs for info in self.nodes.values())

    @property
    def output_shape(self) -> Shape | None:
        return self.nodes[self.output_node].output_shape if self.output_node else None

    def activation_elements(self) -> int:
        """Values stored per sample for all node outputs (what a forward pass keeps)."""
        return sum(i.output_elements for i in self.nodes.values() if i.output_shape)

    def messages(self) -> list[str]:
        return [p.message for p in self.problems]


def topological_order(graph: Graph) -> tuple[list[str], list[list[str]]]:
    """Kahn's algorithm in insertion order (stable for the user); returns the order of nodes
    not on or after a cycle, and the cycles found among the rest."""
    indegree = {n: 0 for n in graph.nodes}
    successors: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        if e.source in indegree and e.target in indegree:
            indegree[e.target] += 1
            successors[e.source].append(e.target)
    ready = [n for n in graph.nodes if indegree[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in successors[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    placed = set(order)
    remaining = [n for n in graph.nodes if n not in placed]
    return order, _find_cycles(remaining, successors)


def _find_cycles(remaining: list[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """One representative cycle per strongly-tangled region, each as a → b → … list."""
    left = set(remaining)
    cycles = []
    for start in remaining:
        if start not in left:
            continue
        # Walk successors inside the remaining set until a node repeats: that loop is a cycle.
        path, seen, node = [], {}, start
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = next((m for m in successors[node] if m in left), None)
            if node is None:
                break
        if node is not None:
            cycle = path[seen[node]:]
            cycles.append(cycle)
            left -= set(cycle)
    return cycles


def analyze(graph: Graph) -> Analysis:
    try:
        return _analyze(graph)
    except Exception as exc:  # a bug here must never take the editor down
        problem = Problem(None, f"internal error while checking the graph: {exc!r}")
        infos = {n.id: NodeInfo(n.id, n.type) for n in graph.nodes.values()}
        return Analysis(infos, list(graph.nodes), [problem], None, None)


def _analyze(graph: Graph) -> Analysis:
    infos = {n.id: NodeInfo(n.id, n.type) for n in graph.nodes.values()}
    problems: list[Problem] = []

    def fail(node_id: str, message: str) -> None:
        info = infos[node_id]
        info.status, info.error, info.output_shape = "error", message, None
        problems.append(Problem(node_id, message))

    order, cycles = topological_order(graph)
    # Adjacency once, in port order: graph.incoming() scans every edge, which made large
    # graphs (300 nodes) quadratic.
    incoming: dict[str, list[str]] = {n: [] for n in graph.nodes}
    has_outgoing: set[str] = set()
    for e in sorted(graph.edges, key=lambda e: e.target_port):
        if e.source in incoming and e.target in incoming:
            incoming[e.target].append(e.source)
            has_outgoing.add(e.source)
    for cycle in cycles:
        text = " → ".join(cycle + [cycle[0]])
        for node_id in cycle:
            infos[node_id].status = "error"
            infos[node_id].error = f"the graph has a cycle through {text}"
        problems.append(Problem(cycle[0], f"the graph has a cycle through {text}"))

    inputs = [n.id for n in graph.nodes.values() if n.type == "Input"]
    if not graph.nodes:
        problems.append(Problem(None, "the graph is empty — drag an Input node onto the canvas"))
    elif not inputs:
        problems.append(Problem(None, "no Input node — every graph starts with one"))
    elif len(inputs) > 1:
        problems.append(Problem(None, f"the graph has {len(inputs)} Input nodes "
                                      f"({', '.join(inputs)}): a model takes exactly one"))

    for node_id in order:
        node = graph.nodes[node_id]
        info = infos[node_id]
        spec = registry.find(node.type)
        if spec is None:
            fail(node_id, f"{node_id}: unknown layer type '{node.type}'")
            continue
        try:
            params = spec.resolve(node.params)
        except ParamError as exc:
            fail(node_id, f"{node_id}: {exc}")
            continue
        info.resolved = params
        sources = incoming[node_id]
        if not spec.accepts_inputs(len(sources)):
            fail(node_id, _arity_message(node_id, spec, sources))
            continue
        upstream = [infos[s] for s in sources]
        if any(u.status != "ok" for u in upstream):
            continue  # stays "unknown": the cause is reported where it happened
        shapes = [u.output_shape for u in upstream]
        info.input_shapes = shapes
        try:
            out = tuple(int(d) for d in spec.infer(params, shapes))
            n_params, macs = spec.count(params, shapes, out)
        except ShapeError as exc:
            reason = str(exc)
            fail(node_id, reason.replace("{node}", node_id) if "{node}" in reason
                 else f"{node_id}: {reason}")
            continue
        info.status, info.output_shape, info.params, info.macs = "ok", out, n_params, macs

    ends = [n for n in graph.nodes if n not in has_outgoing]
    output_node = ends[0] if len(ends) == 1 else None
    if len(ends) > 1 and len(graph.nodes) > 1:
        names = ", ".join(ends)
        count = {2: "two", 3: "three"}.get(len(ends), str(len(ends)))
        problems.append(Problem(None, f"the graph has {count} ends ({names}): training needs "
                                      f"exactly one — connect or delete the others"))
    placed = set(order)
    ordered = order + [n for n in graph.nodes if n not in placed]
    input_node = inputs[0] if len(inputs) == 1 else None
    return Analysis(infos, ordered, problems, input_node, output_node)


def _arity_message(node_id: str, spec: registry.LayerSpec, sources: list[str]) -> str:
    if spec.max_inputs == 0:
        return f"{node_id}: an Input node takes no inputs, but {', '.join(sources)} feed it"
    if not sources:
        return f"{node_id} has no input — wire a layer's output into it"
    if spec.max_inputs is not None and len(sources) > spec.max_inputs:
        return (f"{node_id}: a {spec.type} takes one input but receives {len(sources)} "
                f"({', '.join(sources)}) — merge them with an Add or Concat first")
    return (f"{node_id}: a {spec.type} needs at least {spec.min_inputs} inputs "
            f"(it has {len(sources)})")


def shape_text(shape: Shape | None) -> str:
    return format_shape(shape)
