"""The Explainer: one forward pass for one sample, then any element of any node explained
from the cached inputs and outputs — cheap enough to call for every position of a map while
a view slides the window across it.

    explainer = Explainer(model, graph, x)          # x: one sample, as the model takes it
    e = explainer.explain("conv1", (3, 2, 5))       # a ConvExplanation
    e.value, e.window, e.kernel, e.products, e.sum, e.bias, e.activation
    frames = explainer.sweep("conv1", channel=3)    # every position, in reading order

The network runs in evaluation mode (BatchNorm uses its running statistics, Dropout does
nothing), as it does when it is used after training.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..builder import GraphModule
from ..graph import Graph
from ..registry import format_shape
from .base import Explanation, Unsupported
from .conv import explain_conv
from .dense import explain_flatten, explain_linear
from .elementwise import ELEMENTWISE, activation_step, explain_activation
from .errors import ExplainError
from .merge import explain_add, explain_concat, explain_input
from .nodes import NodeView, input_shape
from .normalization import explain_batch_norm, explain_dropout
from .pooling import (explain_adaptive_avg_pool, explain_avg_pool, explain_lp_pool,
                      explain_max_pool)
from .softmax import explain_softmax

__all__ = ["Explainer", "NodeView", "EXPLAINED_TYPES", "as_sample"]


_Explain = Callable[[NodeView, tuple], Explanation]

_BY_TYPE: dict[str, _Explain] = {
    "Input": explain_input,
    "Conv2d": explain_conv,
    "MaxPool2d": explain_max_pool,
    "AvgPool2d": explain_avg_pool,
    "LPPool2d": explain_lp_pool,
    "AdaptiveAvgPool2d": explain_adaptive_avg_pool,
    "Softmax": explain_softmax,
    "BatchNorm1d": explain_batch_norm,
    "BatchNorm2d": explain_batch_norm,
    "Dropout": explain_dropout,
    "Flatten": explain_flatten,
    "Add": explain_add,
    "Concat": explain_concat,
    **{t: explain_activation for t in ELEMENTWISE},
}
#: Needs the explainer itself (to look past a Flatten for the input's original shape).
_WITH_EXPLAINER = {"Linear": explain_linear}

#: Every layer type with an explanation; any other gets an ``Unsupported`` result.
EXPLAINED_TYPES = frozenset(_BY_TYPE) | frozenset(_WITH_EXPLAINER)


def as_sample(x: Any, shape: Sequence[int]) -> torch.Tensor:
    """One sample (or a batch of one) as a float32 tensor of ``shape``; ExplainError else."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    shape = tuple(int(d) for d in shape)
    if tuple(t.shape) == (1, *shape):
        t = t[0]
    if tuple(t.shape) != shape:
        raise ExplainError(f"a sample for this network must have shape {format_shape(shape)} "
                           f"(its Input node's); this one is {format_shape(tuple(t.shape))}")
    return t


class Explainer:
    """Explains any output element of any node for one sample of ``model`` (built from
    ``graph`` by ``build_model``). The forward pass runs once, here. ``feature_names``: a
    table's column names, so a Linear on the input names its inputs."""

    def __init__(self, model: GraphModule, graph: Graph, x: Any,
                 feature_names: Sequence[str] | None = None) -> None:
        self.model = model
        self.graph = graph
        #: Names of a vector input's features (a table's columns), shown beside their values.
        self.feature_names = tuple(feature_names) if feature_names else None
        self.input_shape = input_shape(graph, model.input_id)
        sample = as_sample(x, self.input_shape)
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                outputs = model.forward_all(sample[None].to(device))
        finally:
            model.train(was_training)
        self._tensors = {k: v[0] for k, v in outputs.items()}
        self._arrays: dict[str, np.ndarray] = {}
        self._views: dict[str, NodeView] = {}
        self._consumers: dict[str, list[str]] = {n: [] for n in model.order}
        for node_id in model.order:
            for s in model.sources.get(node_id, []):
                self._consumers[s].append(node_id)
        self.sample = sample.numpy().copy()

    # --- what the views draw ------------------------------------------------------------
    @property
    def nodes(self) -> list[str]:
        return list(self.model.order)

    def type_of(self, node_id: str) -> str:
        self._check_node(node_id)
        return self.graph.node(node_id).type

    def output(self, node_id: str) -> np.ndarray:
        """The node's output for the sample (float32, without the batch axis)."""
        self._check_node(node_id)
        if node_id not in self._arrays:
            self._arrays[node_id] = self._tensors[node_id].detach().float().cpu().numpy()
        return self._arrays[node_id]

    def shape(self, node_id: str) -> tuple[int, ...]:
        return tuple(self.output(node_id).shape)

    def explains(self, node_id: str) -> bool:
        return self.type_of(node_id) in EXPLAINED_TYPES

    # --- explanations -------------------------------------------------------------------
    def value(self, node_id: str, index: Sequence[int]) -> float:
        return float(self.output(node_id)[self.check_index(node_id, index)])

    def explain(self, node_id: str, index: Sequence[int]) -> Explanation:
        """How ``node_id``'s output at ``index`` (channel, row, column for maps; feature for
        vectors) came about. Types without an explanation give an ``Unsupported`` result
        whose message says so; nothing here raises for them."""
        index = self.check_index(node_id, index)
        view = self.view(node_id)
        if view.type in _WITH_EXPLAINER:
            result = _WITH_EXPLAINER[view.type](view, index, self)
        elif view.type in _BY_TYPE:
            result = _BY_TYPE[view.type](view, index)
        else:
            result = Unsupported(node=node_id, type=view.type, index=index,
                                 shape=view.output.shape, value=float(view.output[index]),
                                 message=f"no explanation for type {view.type} yet — its value "
                                         f"is shown as the network computed it")
        step = self._activation_after(node_id, index)
        if step is not None:
            result = dataclasses.replace(result, activation=step)
        return result

    def sweep(self, node_id: str, channel: int | None = None) -> list[Explanation]:
        """Every position of one channel's map in reading order (the sliding window's
        frames), or every feature of a vector output."""
        shape = self.shape(node_id)
        if len(shape) == 3:
            if channel is None or not 0 <= channel < shape[0]:
                raise ExplainError(f"{node_id} has {shape[0]} channels: choose one of "
                                   f"0…{shape[0] - 1}")
            return [self.explain(node_id, (channel, i, j))
                    for i in range(shape[1]) for j in range(shape[2])]
        return [self.explain(node_id, idx) for idx in np.ndindex(*shape)]

    def view(self, node_id: str) -> NodeView:
        self._check_node(node_id)
        if node_id not in self._views:
            sources = tuple(self.model.sources.get(node_id, []))
            if node_id == self.model.input_id:
                inputs = (self.sample,)
            else:
                inputs = tuple(self.output(s) for s in sources)
            self._views[node_id] = NodeView(node_id, self.type_of(node_id),
                                            self.model.layers[node_id], sources, inputs,
                                            self.output(node_id))
        return self._views[node_id]

    # --- checks -------------------------------------------------------------------------
    def _check_node(self, node_id: str) -> None:
        if node_id not in self._tensors:
            known = ", ".join(self.model.order)
            raise ExplainError(f"there is no node '{node_id}' in this network (its nodes: "
                               f"{known})")

    def check_index(self, node_id: str, index: Sequence[int]) -> tuple[int, ...]:
        shape = self.shape(node_id)
        try:
            idx = tuple(int(i) for i in index)
        except (TypeError, ValueError):
            idx = None
        if idx is None or len(idx) != len(shape) or any(
                not 0 <= i < n for i, n in zip(idx, shape)):
            raise ExplainError(f"index {list(index) if idx is None else list(idx)} is not in "
                               f"{node_id}'s output of {format_shape(shape)}: "
                               f"{_valid_range(shape)}")
        return idx

    def _activation_after(self, node_id: str, index: tuple[int, ...]):
        for consumer in self._consumers.get(node_id, []):
            if self.type_of(consumer) in ELEMENTWISE:
                return activation_step(self.view(consumer), index)
        return None


def _valid_range(shape: tuple[int, ...]) -> str:
    names = ("channel", "row", "column") if len(shape) == 3 else ("feature",) * len(shape)
    if len(shape) == 1:
        return f"give one index, 0 ≤ feature < {shape[0]}"
    parts = ", ".join(f"0 ≤ {name} < {n}" for name, n in zip(names, shape))
    return f"give {len(shape)} indices I,J,K with {parts}"
