"""Left-to-right layout by topological depth (the editor's auto-layout and the templates')."""
from __future__ import annotations

from .graph import Graph
from .inference import topological_order

COLUMN_WIDTH = 220.0
ROW_HEIGHT = 130.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """Column = longest path from a source; rows keep insertion order inside a column, and a
    column is centred on row 0 so branches spread above and below the main line."""
    order, _ = topological_order(graph)
    depth: dict[str, int] = {}
    for node_id in order:
        preds = [e.source for e in graph.incoming(node_id) if e.source in depth]
        depth[node_id] = 1 + max((depth[p] for p in preds), default=-1)
    next_col = max(depth.values(), default=-1) + 1
    for node_id in graph.nodes:  # nodes on cycles: park them in a column of their own
        if node_id not in depth:
            depth[node_id] = next_col
    columns: dict[int, list[str]] = {}
    for node_id in graph.nodes:
        columns.setdefault(depth[node_id], []).append(node_id)
    positions = {}
    for col, ids in columns.items():
        offset = (len(ids) - 1) / 2
        for row, node_id in enumerate(ids):
            positions[node_id] = (col * COLUMN_WIDTH, (row - offset) * ROW_HEIGHT)
    return positions


def apply_layout(graph: Graph) -> None:
    for node_id, pos in layered_positions(graph).items():
        graph.nodes[node_id].position = pos
