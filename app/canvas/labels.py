"""What a node and a wire say on the canvas, as plain text (Qt-free, easy to test)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from layerlab.engine import Graph, Node, NodeInfo, find_layer, format_shape

__all__ = ["NodeLabel", "node_label", "concealed", "edge_label", "input_ranks", "param_text",
           "count_text"]

#: Short names for key parameters on a node face (the inspector shows the full names).
SHORT_NAMES = {"out_channels": "out", "kernel_size": "k", "stride": "s",
               "padding": "p", "dilation": "d", "out_features": "out",
               "negative_slope": "slope", "alpha": "α", "approximate": "approx", "shape": ""}


@dataclass(frozen=True)
class NodeLabel:
    node_id: str
    type: str
    group: str
    params: str          # key parameters, e.g. "out 6 · k 5×5 · stride 1 · pad 0"
    shape: str           # output shape, "?", "error" or "not connected"
    count: str           # "156 params"
    status: str          # ok / error / unknown / unconnected
    error: str | None
    multi_input: bool
    takes_input: bool


def param_text(name: str, value: Any) -> str:
    if value is None:
        return "= kernel" if name == "stride" else "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    if name == "kernel_size" and isinstance(value, int):
        return f"{value}×{value}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def count_text(n: int) -> str:
    if n >= 10_000_000:
        return f"{n / 1e6:.1f} M params"
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M params"
    return f"{n:,} param{'s' if n != 1 else ''}"


def node_label(node: Node, info: NodeInfo | None) -> NodeLabel:
    spec = find_layer(node.type)
    values = (info.resolved if info and info.resolved else
              {**(spec.defaults() if spec else {}), **node.params})
    parts = []
    for name in (spec.key_params if spec else ()):
        if name == "stride" and values.get(name) is None:
            continue
        short = SHORT_NAMES.get(name, name)
        text = param_text(name, values.get(name))
        parts.append(f"{short} {text}".strip())
    status = info.status if info else "unknown"
    if status == "ok":
        shape = format_shape(info.output_shape)
    else:
        shape = {"error": "error", "unconnected": "not connected"}.get(status, "?")
    return NodeLabel(
        node_id=node.id, type=node.type, group=spec.group if spec else "",
        params=" · ".join(parts) or _gist(spec.summary if spec else ""),
        shape=shape, count=count_text(info.params) if info and status == "ok" else "",
        status=status, error=info.error if info else None,
        multi_input=bool(spec and spec.max_inputs is None),
        takes_input=bool(spec is None or spec.takes_inputs))


def concealed(label: NodeLabel) -> NodeLabel:
    """The card while a quiz waits for the learner's prediction: its output shape and
    parameter count are "?" (an error still shows: it is not the answer)."""
    if label.status != "ok":
        return label
    return replace(label, shape="?", count="? params")


def edge_label(source_info: NodeInfo | None, rank: int | None = None) -> str:
    """The tensor shape a wire carries; ``rank`` (1, 2, …) is the input order of a wire into
    a multi-input layer (Concat, Add), shown first."""
    shape = format_shape(source_info.output_shape) if source_info and \
        source_info.status == "ok" else "?"
    return f"{rank}: {shape}" if rank is not None else shape


def input_ranks(graph: Graph) -> dict:
    """{edge: 1-based input order} for the wires into multi-input layers."""
    by_target: dict[str, list] = {}
    for e in graph.edges:
        by_target.setdefault(e.target, []).append(e)
    ranks = {}
    for target, edges in by_target.items():
        spec = find_layer(graph.nodes[target].type) if target in graph.nodes else None
        if spec is not None and spec.max_inputs is None:
            for i, e in enumerate(sorted(edges, key=lambda e: e.target_port), 1):
                ranks[e] = i
    return ranks


def _gist(summary: str) -> str:
    """A parameterless layer's face text: its summary up to the first ':' or '.'."""
    for stop in (":", "."):
        summary = summary.split(stop)[0]
    return summary.strip()
