"""Shape inference and counts: a pure function from a graph to what every node produces.

``analyze(graph)`` never raises. Each node gets an output shape, its trainable parameter count
and multiply-accumulates — or an error naming the node and a cause a learner can act on, or
"unknown" when something upstream failed (so one mistake is reported once, where it is), or
"unconnected" when nothing feeds it yet: a layer just dropped on the canvas is work in
progress, not a mistake, so it is not a Problem — but the graph is not ready to build
(``Analysis.ok`` is False and ``messages()`` says which layers are loose).

Where a message names a remedy ("insert a Flatten before it"), its Problem carries it as
one-click fixes (engine.edits.Fix), each checked here to really clear the error.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Literal

from . import registry
from .edits import AddNode, Connect, Disconnect, EditError, Fix, SetParams, apply_edits
from .graph import Graph, Project
from .params import ParamError
from .registry import Shape, ShapeError, format_shape

__all__ = ["NodeInfo", "Problem", "Analysis", "analyze", "topological_order"]

Status = Literal["ok", "error", "unknown", "unconnected"]

#: What a layer that nothing feeds yet says (neutral: it is being built, not wrong).
UNCONNECTED = "not connected yet — wire a layer's output into it"


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
    #: "error": something is wrong; "todo": the network is not finished yet (it ends too
    #: early) — shown with its fixes as guidance, never marked red, like unwired layers.
    severity: str = field(default="error", compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    order: list[str]          # topological where possible; nodes on cycles come last
    problems: list[Problem]
    input_node: str | None
    output_node: str | None
    #: Layers that nothing feeds yet (status "unconnected"): not problems, but not buildable.
    unconnected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unconnected

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
        """Why the graph cannot be built: its problems, then each loose layer."""
        return [p.message for p in self.problems] + [
            f"{n} has no input yet — wire a layer's output into it, or delete it"
            for n in self.unconnected]


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


def analyze(graph: Graph, check_fixes: bool = True) -> Analysis:
    """``check_fixes`` False skips trying each fix on a copy (what the check itself uses)."""
    try:
        return _analyze(graph, check_fixes)
    except Exception as exc:  # a bug here must never take the editor down
        problem = Problem(None, f"internal error while checking the graph: {exc!r}")
        infos = {n.id: NodeInfo(n.id, n.type) for n in graph.nodes.values()}
        return Analysis(infos, list(graph.nodes), [problem], None, None)


def _analyze(graph: Graph, check_fixes: bool) -> Analysis:
    infos = {n.id: NodeInfo(n.id, n.type) for n in graph.nodes.values()}
    problems: list[Problem] = []
    unconnected: list[str] = []

    def fail(node_id: str, message: str, fixes=()) -> None:
        info = infos[node_id]
        info.status, info.error, info.output_shape = "error", message, None
        if check_fixes:
            fixes = tuple(f for f in fixes if _clears(graph, node_id, f))
        problems.append(Problem(node_id, message, tuple(fixes)))

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
        closing = Fix(f"Remove the wire {cycle[-1]} → {cycle[0]}",
                      (Disconnect(cycle[-1], cycle[0]),))
        problems.append(Problem(cycle[0], f"the graph has a cycle through {text}", (closing,)))

    inputs = [n.id for n in graph.nodes.values() if n.type == "Input"]
    if not graph.nodes:
        problems.append(Problem(None, "the graph is empty — drag an Input node onto the canvas",
                                severity="todo"))      # a start, not a mistake
    elif not inputs:
        problems.append(Problem(None, "no Input node — every graph starts with one",
                                _add_input_fixes(graph, incoming)))
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
            fail(node_id, f"{node_id}: {exc}", _reset_fixes(spec, node_id, node.params))
            continue
        info.resolved = params
        sources = incoming[node_id]
        if not sources and spec.min_inputs > 0:
            info.status, info.error = "unconnected", UNCONNECTED
            unconnected.append(node_id)
            continue
        if not spec.accepts_inputs(len(sources)):
            fail(node_id, _arity_message(node_id, spec, sources),
                 _arity_fixes(graph, node_id, spec, sources))
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
                 else f"{node_id}: {reason}",
                 [_fill(graph, f, node_id, sources) for f in exc.fixes])
            continue
        info.status, info.output_shape, info.params, info.macs = "ok", out, n_params, macs

    # A loose layer (and whatever hangs off it) is work in progress: not another "end".
    loose = _downstream(unconnected, graph) if inputs else set()
    ends = [n for n in graph.nodes if n not in has_outgoing and n not in loose]
    output_node = ends[0] if len(ends) == 1 else None
    if len(ends) > 1 and len(graph.nodes) > 1:
        names = ", ".join(ends)
        count = {2: "two", 3: "three"}.get(len(ends), str(len(ends)))
        problems.append(Problem(None, f"the graph has {count} ends ({names}): training needs "
                                      f"exactly one — connect or delete the others"))
    placed = set(order)
    ordered = order + [n for n in graph.nodes if n not in placed]
    input_node = inputs[0] if len(inputs) == 1 else None
    return Analysis(infos, ordered, problems, input_node, output_node, unconnected)


def _downstream(roots: list[str], graph: Graph) -> set[str]:
    """``roots`` and every node reachable only through them (not from an Input)."""
    successors: dict[str, list[str]] = {}
    for e in graph.edges:
        successors.setdefault(e.source, []).append(e.target)
    fed = set()
    stack = [n for n, node in graph.nodes.items() if node.type == "Input"]
    while stack:
        n = stack.pop()
        if n not in fed:
            fed.add(n)
            stack.extend(successors.get(n, ()))
    found, stack = set(), list(roots)
    while stack:
        n = stack.pop()
        if n not in found and n not in fed:
            found.add(n)
            stack.extend(successors.get(n, ()))
    return found


# --- fixes -----------------------------------------------------------------------------------

def _fill(graph: Graph, fix: Fix, node_id: str, sources: list[str]) -> Fix:
    """A shape rule's fix with its placeholders filled in (see registry.ShapeError)."""
    values = {"{node}": node_id, "{input}": sources[0] if sources else node_id}
    values.update({f"{{input{i}}}": s for i, s in enumerate(sources, start=1)})
    new_type = next((getattr(e, "type", None) for e in fix.edits
                     if getattr(e, "id", None) == "{new}"), None)
    if new_type is not None:
        spec = registry.find(new_type)
        values["{new}"] = graph.unique_id(spec.id_prefix if spec else "node")

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text
    edits = tuple(replace(e, **{f.name: fill(getattr(e, f.name)) for f in fields(e)
                                if isinstance(getattr(e, f.name), str)}) for e in fix.edits)
    return Fix(fill(fix.label), edits)


def _clears(graph: Graph, node_id: str, fix: Fix) -> bool:
    """Whether ``fix`` applies, clears ``node_id``'s error, and breaks nothing that worked:
    no layer that was fine, and no layer the fix adds, ends in an error. (Layers downstream
    were "unknown" and may show their own problem next: that is the next step, not a
    failure of this fix.)"""
    try:
        fixed = apply_edits(Project(graph), fix.edits).graph
    except EditError:
        return False
    before = analyze(graph, check_fixes=False).nodes
    after = analyze(fixed, check_fixes=False).nodes
    if node_id in after and after[node_id].status == "error":
        return False
    return not any(info.status == "error" and (n not in before or before[n].status == "ok")
                   for n, info in after.items())


def _reset_fixes(spec: registry.LayerSpec, node_id: str, raw: dict) -> list[Fix]:
    """One fix putting back every parameter the layer does not accept: its default, or
    away when the layer has no such parameter."""
    bad = []
    for name, value in raw.items():
        param = spec.param(name)
        try:
            if param is not None:
                param.check(value)
                continue
        except ParamError:
            pass
        bad.append((name, param))
    if not bad:
        return []
    if len(bad) == 1:
        name, param = bad[0]
        label = (f"Remove the unknown parameter {name}" if param is None
                 else f"Reset {name} to its default ({_text(param.default)})")
    else:
        label = f"Reset {', '.join(n for n, _ in bad)} to their defaults"
    return [Fix(label, (SetParams(node_id, {name: None for name, _ in bad}),))]


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    return "none" if value is None else str(value)


def _arity_fixes(graph: Graph, node_id: str, spec: registry.LayerSpec,
                 sources: list[str]) -> list[Fix]:
    if spec.max_inputs == 0:
        return [Fix(f"Remove the wires into {node_id}",
                    tuple(Disconnect(s, node_id) for s in sources))]
    if spec.max_inputs is None or len(sources) <= spec.max_inputs:
        return []
    x, y = graph.nodes[node_id].position
    fixes = []
    for merge in ("Add", "Concat"):
        new = graph.unique_id(registry.get(merge).id_prefix)
        edits = ([Disconnect(s, node_id) for s in sources]
                 + [AddNode(new, merge, {}, (x, y))]
                 + [Connect(s, new, i) for i, s in enumerate(sources)]
                 + [Connect(new, node_id, 0)])
        fixes.append(Fix(f"Merge {', '.join(sources)} with {'an' if merge == 'Add' else 'a'} "
                         f"{merge} before {node_id}", tuple(edits)))
    return fixes


def _add_input_fixes(graph: Graph, incoming: dict[str, list[str]]) -> tuple[Fix, ...]:
    """With no Input: add one feeding the single layer that has no input, if there is one."""
    roots = [n for n, node in graph.nodes.items() if not incoming[n]
             and (spec := registry.find(node.type)) is not None and spec.takes_inputs]
    if len(roots) != 1:
        return ()
    x, y = graph.nodes[roots[0]].position
    new = graph.unique_id("input")
    return (Fix(f"Add an Input feeding {roots[0]}",
                (AddNode(new, "Input", {}, (x - 240.0, y)), Connect(new, roots[0], 0))),)


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
