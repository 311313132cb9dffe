"""Write graphs in code, Keras-functional style — for scripts, tests and the templates::

    g = Composer()
    x = g.input([1, 28, 28])
    x = g.layer("Conv2d", x, out_channels=32, kernel_size=3, id="conv1")
    x = g.layer("ReLU", x)
    project = g.project("My net")
"""
from __future__ import annotations

from typing import Any

from . import registry
from .graph import Edge, Graph, Node, Project
from .layout import apply_layout


class Composer:
    def __init__(self) -> None:
        self.graph = Graph()

    def input(self, shape: list[int], id: str = "input") -> str:
        return self.layer("Input", [], id=id, shape=list(shape))

    def layer(self, type_name: str, inputs: str | list[str], id: str | None = None,
              **params: Any) -> str:
        spec = registry.get(type_name)
        node_id = id or self.graph.unique_id(spec.id_prefix)
        self.graph.add_node(Node(node_id, type_name, params))
        sources = [inputs] if isinstance(inputs, str) else list(inputs)
        for port, source in enumerate(sources):
            self.graph.add_edge(Edge(source, node_id, port))
        return node_id

    def project(self, name: str, description: str = "", dataset: dict | None = None,
                training: dict | None = None) -> Project:
        apply_layout(self.graph)
        return Project(self.graph, name, description, dataset or {}, training or {})
