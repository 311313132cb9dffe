"""Copy / paste of graph fragments: nodes plus the wires among them, as project-format JSON.

The pasted text is validated by the engine's project loader, so anything on the clipboard —
even text from another program — can at worst be refused, never break the document.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

from layerlab.engine import Edge, Graph, Node, ProjectLoadError, find_layer, project_from_dict

__all__ = ["MIME_TYPE", "fragment_to_mime", "fragment_from_mime", "fragment_json",
           "fragment_from_json", "place_fragment"]

MIME_TYPE = "application/x-layerlab-fragment"


def fragment_json(graph: Graph, node_ids: list[str]) -> str:
    ids = [n for n in graph.nodes if n in set(node_ids)]
    data = {
        "format": "layerlab", "version": 1, "name": "fragment",
        "nodes": [{"id": n, "type": graph.nodes[n].type, "params": graph.nodes[n].params,
                   "position": list(graph.nodes[n].position)} for n in ids],
        "edges": [{"source": e.source, "target": e.target, "target_port": e.target_port}
                  for e in graph.edges if e.source in ids and e.target in ids],
    }
    return json.dumps(data, ensure_ascii=False)


def fragment_from_json(text: str) -> Graph | None:
    try:
        data = json.loads(text)
        return project_from_dict(data, "clipboard").graph
    except (ValueError, ProjectLoadError, RecursionError):
        return None


def fragment_to_mime(graph: Graph, node_ids: list[str]) -> QMimeData:
    mime = QMimeData()
    text = fragment_json(graph, node_ids)
    mime.setData(MIME_TYPE, text.encode("utf-8"))
    mime.setText(text)
    return mime


def fragment_from_mime(mime: QMimeData | None) -> Graph | None:
    if mime is None:
        return None
    if mime.hasFormat(MIME_TYPE):
        return fragment_from_json(bytes(mime.data(MIME_TYPE).data()).decode("utf-8", "replace"))
    if mime.hasText() and mime.text().lstrip().startswith("{"):
        return fragment_from_json(mime.text())
    return None


def place_fragment(fragment: Graph, into: Graph, offset: tuple[float, float]
                   ) -> tuple[list[Node], list[Edge]]:
    """Fresh ids (kept where free) and shifted positions for pasting ``fragment``."""
    taken = set(into.nodes)
    renamed: dict[str, str] = {}
    nodes = []
    for node in fragment.nodes.values():
        new_id = node.id
        if new_id in taken:
            spec = find_layer(node.type)
            prefix = spec.id_prefix if spec else "node"
            n = 1
            while f"{prefix}{n}" in taken:
                n += 1
            new_id = f"{prefix}{n}"
        taken.add(new_id)
        renamed[node.id] = new_id
        x, y = node.position
        nodes.append(Node(new_id, node.type, dict(node.params), (x + offset[0], y + offset[1])))
    edges = [Edge(renamed[e.source], renamed[e.target], e.target_port) for e in fragment.edges]
    return nodes, edges
