"""The plot in an activation layer's inspector: f and its derivative f′ over the range the
layer's inputs actually take on real samples (so a learner sees whether they sit on the flat,
saturated parts of a tanh, or below 0 where a ReLU passes nothing)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..builder import GraphModule
from ..graph import Graph
from .elementwise import ELEMENTWISE
from .errors import ExplainError

__all__ = ["ActivationCurve", "activation_curve"]


@dataclass(frozen=True, eq=False, kw_only=True)
class ActivationCurve:
    node: str
    type: str
    samples: int                # how many samples the inputs were collected from
    low: float                  # the smallest input seen
    high: float                 # the largest input seen
    x: np.ndarray               # (points,) evenly from low to high
    y: np.ndarray               # f(x), by the layer's own torch module
    dy: np.ndarray              # f′(x) by autograd
    counts: np.ndarray          # histogram of the inputs seen, over ``edges``
    edges: np.ndarray           # (bins + 1,)
    share_negative: float       # the fraction of inputs below 0

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "type": self.type, "samples": self.samples,
                "low": self.low, "high": self.high, "x": self.x.tolist(),
                "y": self.y.tolist(), "dy": self.dy.tolist(), "counts": self.counts.tolist(),
                "edges": self.edges.tolist(), "share_negative": self.share_negative}


def activation_curve(model: GraphModule, graph: Graph, node: str, xs: Any,
                     points: int = 201, bins: int = 40) -> ActivationCurve:
    """``xs``: a batch of model inputs (N, *input shape), e.g. validation samples."""
    if node not in model.layers:
        raise ExplainError(f"there is no node '{node}' in this network")
    type_ = graph.node(node).type
    if type_ not in ELEMENTWISE:
        raise ExplainError(f"{node} is a {type_}, not an element-wise activation: it has no "
                           f"single curve f(x) to plot")
    sources = model.sources.get(node, [])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    xs = torch.as_tensor(np.asarray(xs, dtype=np.float32)).to(device)
    if xs.shape[0] == 0:
        raise ExplainError("no samples to measure the activation's inputs on")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            seen = model.forward_all(xs)[sources[0]].detach().float().cpu().numpy().ravel()
    finally:
        model.train(was_training)
    low, high = float(seen.min()), float(seen.max())
    lo, hi = (low, high) if high > low else (low - 1.0, high + 1.0)
    grid = torch.linspace(lo, hi, max(2, points), dtype=torch.float32, device=device)
    grid.requires_grad_(True)
    module = model.layers[node]
    with torch.enable_grad():
        y = module(grid)
        (dy,) = torch.autograd.grad(y.sum(), grid)   # element-wise: Σ's gradient is f′(xᵢ)
    counts, edges = np.histogram(seen, bins=bins, range=(lo, hi))
    return ActivationCurve(node=node, type=type_, samples=int(xs.shape[0]), low=low, high=high,
                           x=grid.detach().cpu().numpy().astype(np.float64),
                           y=y.detach().cpu().numpy().astype(np.float64),
                           dy=dy.cpu().numpy().astype(np.float64), counts=counts,
                           edges=edges, share_negative=float((seen < 0).mean()))
