"""What the per-type explanations read about a node, and two small facts about the model
that several parts need (its input shape, a layer's weights as float64 numpy)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from .. import registry
from ..graph import Graph

__all__ = ["NodeView", "input_shape", "cached_weights"]


@dataclass(eq=False)
class NodeView:
    """One node for one sample: its module, its inputs' and its own output (numpy, without
    the batch axis), and a memo for per-node precomputations."""
    id: str
    type: str
    module: nn.Module
    sources: tuple[str, ...]
    inputs: tuple[np.ndarray, ...]
    output: np.ndarray
    memo: dict[str, Any] = field(default_factory=dict)


def input_shape(graph: Graph, input_id: str) -> tuple[int, ...]:
    """One sample's shape, as the Input node declares it (defaults resolved)."""
    node = graph.node(input_id)
    return tuple(int(d) for d in registry.get(node.type).resolve(node.params)["shape"])


def cached_weights(view: NodeView) -> tuple[np.ndarray, np.ndarray | None]:
    """The module's weight and bias (None without) as float64 numpy, read once per node."""
    memo = view.memo
    if "weight" not in memo:
        m = view.module
        memo["weight"] = m.weight.detach().cpu().double().numpy()
        memo["bias"] = None if m.bias is None else m.bias.detach().cpu().double().numpy()
    return memo["weight"], memo["bias"]
