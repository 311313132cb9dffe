"""Graph → torch ``nn.Module``: runs the nodes in topological order, any branching allowed."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from . import registry
from .graph import Graph
from .inference import Analysis, analyze
from .torch_modules import CUSTOM

__all__ = ["GraphError", "GraphModule", "build_model", "make_layer"]


class GraphError(ValueError):
    """The graph cannot be built; ``problems`` holds the same messages inference reports."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def make_layer(class_name: str, kwargs: dict[str, Any]) -> nn.Module:
    cls = CUSTOM.get(class_name) or getattr(nn, class_name)
    return cls(**kwargs)


class GraphModule(nn.Module):
    """The built model. ``layers`` is keyed by node id; ``forward_all`` returns every node's
    output by id (the dashboard's feature maps)."""

    def __init__(self, layers: dict[str, nn.Module], order: list[str],
                 sources: dict[str, list[str]], input_id: str, output_id: str) -> None:
        super().__init__()
        self.layers = nn.ModuleDict(layers)
        self.order = list(order)
        self.sources = {k: list(v) for k, v in sources.items()}
        self.input_id = input_id
        self.output_id = output_id

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x, keep=False)[self.output_id]

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._run(x, keep=True)

    def _run(self, x: torch.Tensor, keep: bool) -> dict[str, torch.Tensor]:
        outputs: dict[str, torch.Tensor] = {}
        remaining_uses = {} if keep else self._uses()
        for node_id in self.order:
            if node_id == self.input_id:
                outputs[node_id] = self.layers[node_id](x)
                continue
            args = [outputs[s] for s in self.sources[node_id]]
            outputs[node_id] = self.layers[node_id](*args)
            if not keep:  # free intermediate tensors as soon as nothing else reads them
                for s in self.sources[node_id]:
                    remaining_uses[s] -= 1
                    if remaining_uses[s] == 0 and s != self.output_id:
                        del outputs[s]
        return outputs

    def _uses(self) -> dict[str, int]:
        uses = {n: 0 for n in self.order}
        for srcs in self.sources.values():
            for s in srcs:
                uses[s] += 1
        return uses


def build_model(graph: Graph, analysis: Analysis | None = None) -> GraphModule:
    """Build the module, or raise GraphError with inference's messages."""
    analysis = analysis or analyze(graph)
    if not analysis.ok:
        raise GraphError(analysis.messages())
    layers: dict[str, nn.Module] = {}
    # Every node's inputs in port order, from one pass over the edges (graph.incoming scans
    # them all, once per node: quadratic on deep graphs).
    sources: dict[str, list[str]] = {n: [] for n in analysis.order}
    for e in sorted(graph.edges, key=lambda e: e.target_port):
        if e.target in sources:
            sources[e.target].append(e.source)
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        spec = registry.get(info.type)
        class_name, kwargs = spec.torch_call(info.resolved, info.input_shapes)
        layers[node_id] = make_layer(class_name, kwargs)
    return GraphModule(layers, analysis.order, sources, analysis.input_node,
                       analysis.output_node)
