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
    """The built model. ``layers`` is keyed by node id, in run order; ``forward_all`` returns
    every node's output by id (the dashboard's feature maps).

    The run order is compiled once into a plan of (input slots, slots to free) per node, so a
    forward pass costs one layer call per node and a few list operations: a 1,000-node chain
    runs close to an ``nn.Sequential`` of the same layers (bench/bench_trainer.py). Layers are
    read from ``layers`` at every pass, so one may be swapped (the ONNX exporter does)."""

    def __init__(self, layers: dict[str, nn.Module], order: list[str],
                 sources: dict[str, list[str]], input_id: str, output_id: str) -> None:
        super().__init__()
        ordered = {n: layers[n] for n in order}
        ordered.update({n: m for n, m in layers.items() if n not in ordered})
        self.layers = nn.ModuleDict(ordered)
        self.order = list(order)
        self.sources = {k: list(v) for k, v in sources.items()}
        self.input_id = input_id
        self.output_id = output_id
        self._plan = self._compile()
        self._out = self.order.index(output_id)
        self._modes: tuple[tuple[int, ...], list[nn.Module], list[nn.Module]] | None = None

    def _compile(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per node in order: the slots of its inputs, and the slots no later node reads
        (freed at once, so intermediate tensors do not pile up)."""
        slot = {n: i for i, n in enumerate(self.order)}
        last_use: dict[str, int] = {}
        for i, node_id in enumerate(self.order):
            for s in self.sources.get(node_id, []):
                last_use[s] = i
        plan = []
        for i, node_id in enumerate(self.order):
            srcs = [] if node_id == self.input_id else self.sources.get(node_id, [])
            frees = tuple(sorted({slot[s] for s in srcs
                                  if last_use[s] == i and s != self.output_id}))
            plan.append((tuple(slot[s] for s in srcs), frees))
        return plan

    def train(self, mode: bool = True) -> "GraphModule":
        """Every layer's mode in one loop over a flat list of the modules. ``nn.Module.train``
        walks the tree, a generator per module; a visual snapshot and an evaluation switch to
        eval and back, and on a small model the walk was a fifth of a snapshot's time. A module
        with a ``train`` of its own (one that keeps a part in eval, say) is switched by it. The
        list is made again when a layer is swapped."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        key = tuple(map(id, self.layers.values()))
        if self._modes is None or self._modes[0] != key:
            plain: list[nn.Module] = []
            own: list[nn.Module] = []
            _split_modes(self, plain, own)
            self._modes = (key, plain, own)
        self.training = mode
        for module in self._modes[1]:
            # (what nn.Module.__setattr__ ends up doing for a bool, minus its checks)
            module.__dict__["training"] = mode
        for module in self._modes[2]:
            module.train(mode)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: list[Any] = [None] * len(self._plan)
        for i, (layer, (args, frees)) in enumerate(zip(self.layers.values(), self._plan)):
            if len(args) == 1:
                values[i] = layer(values[args[0]])
            elif args:
                values[i] = layer(*[values[j] for j in args])
            else:  # the Input node
                values[i] = layer(x)
            for j in frees:
                values[j] = None
        return values[self._out]

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values: list[Any] = [None] * len(self._plan)
        for i, (layer, (args, _frees)) in enumerate(zip(self.layers.values(), self._plan)):
            values[i] = layer(*[values[j] for j in args]) if args else layer(x)
        return dict(zip(self.order, values))


def _split_modes(module: nn.Module, plain: list[nn.Module], own: list[nn.Module]) -> None:
    """``module``'s descendants: those nn.Module.train would just flag (``plain``), and those
    with a ``train`` of their own, whose subtree is theirs to switch (``own``)."""
    for child in module.children():
        if type(child).train is nn.Module.train:
            plain.append(child)
            _split_modes(child, plain, own)
        else:
            own.append(child)


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
