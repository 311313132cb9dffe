"""Linear: one output = Σ wᵢ·xᵢ over every input, plus the bias; and Flatten, which only
moves values (output i is one input value, found by unravelling i)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Explanation, arrays_json, index_text
from .nodes import cached_weights
from .numbers import num

__all__ = ["LinearExplanation", "FlattenExplanation", "explain_linear", "explain_flatten"]

#: Contributions listed by ``lines()`` and kept in ``top``, the largest |w·x| first.
TOP = 10


@dataclass(frozen=True, eq=False, kw_only=True)
class LinearExplanation(Explanation):
    source: str
    source_shape: tuple[int, ...]   # the shape before a Flatten feeding it, else (n_in,)
    inputs: np.ndarray              # (n_in,) x
    weights: np.ndarray             # (n_in,) this output's row of the weight matrix
    products: np.ndarray            # w·x
    top: np.ndarray                 # indices of the largest |w·x|, largest first
    sum: float
    bias: float | None
    pre_activation: float
    input_names: tuple[str, ...] | None = None   # the dataset's feature names, when the
                                                 # inputs are the network's own input

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "source_shape": list(self.source_shape),
                "input_names": list(self.input_names) if self.input_names else None,
                **arrays_json(inputs=self.inputs, weights=self.weights,
                              products=self.products),
                "top": self.top.tolist(), "sum": self.sum, "bias": self.bias,
                "pre_activation": self.pre_activation}

    def _lines(self) -> list[str]:
        n = len(self.inputs)
        lines = [f"output {self.index[0]} = Σ w·x over all {n} inputs from {self.source}"
                 + (" + bias" if self.bias is not None else "")]
        shown = self.top[:TOP]
        if len(shown) < n:
            lines.append(f"the {len(shown)} largest contributions w·x (of {n}):")
        for k in shown:
            where = self._where(int(k))
            lines.append(f"   input {k}{where}: {num(self.weights[k])} · "
                         f"{num(self.inputs[k])} = {num(self.products[k])}")
        if len(shown) < n:
            rest = np.delete(self.products, shown)
            lines.append(f"   the other {len(rest)} add up to {num(rest.sum())}")
        positive = self.products[self.products > 0].sum()
        lines.append(f"sum = {num(self.sum)} (positive contributions {num(positive)}, "
                     f"negative {num(self.sum - positive)})")
        if self.bias is None:
            lines.append(f"no bias: result = {num(self.pre_activation)}")
        else:
            lines.append(f"+ bias {num(self.bias)} = {num(self.pre_activation)}")
        return lines

    def _where(self, k: int) -> str:
        if self.input_names and k < len(self.input_names):
            return f" ({self.input_names[k]})"
        if len(self.source_shape) <= 1:
            return ""
        return " " + index_text(tuple(int(v) for v in np.unravel_index(k, self.source_shape)))


def _flat_source_shape(view, explainer) -> tuple[int, ...]:
    source = view.sources[0]
    if explainer.type_of(source) == "Flatten":
        return tuple(explainer.view(source).inputs[0].shape)
    return tuple(view.inputs[0].shape)


def explain_linear(view, index, explainer) -> LinearExplanation:
    weight, biases = cached_weights(view)
    (o,) = index
    x = view.inputs[0].astype(np.float64)
    w = weight[o]
    products = w * x
    total = float(products.sum())
    bias = None if biases is None else float(biases[o])
    top = np.argsort(-np.abs(products), kind="stable")[:max(TOP, 0)]
    return LinearExplanation(
        node=view.id, type=view.type, index=index, shape=view.output.shape,
        value=float(view.output[index]), source=view.sources[0],
        source_shape=_flat_source_shape(view, explainer), inputs=x, weights=w,
        products=products, top=top, sum=total, bias=bias,
        pre_activation=total + (bias or 0.0),
        input_names=explainer.feature_names if view.sources[0] == explainer.model.input_id
        else None)


@dataclass(frozen=True, eq=False, kw_only=True)
class FlattenExplanation(Explanation):
    source: str
    source_shape: tuple[int, ...]
    source_index: tuple[int, ...]

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "source_shape": list(self.source_shape),
                "source_index": list(self.source_index)}

    def _lines(self) -> list[str]:
        shape = "×".join(str(d) for d in self.source_shape)
        return [f"Flatten only moves values: feature {self.index[0]} is {self.source}"
                f"{index_text(self.source_index)} (row-major order over its {shape} output)"]


def explain_flatten(view, index) -> FlattenExplanation:
    shape = view.inputs[0].shape
    source_index = tuple(int(v) for v in np.unravel_index(index[0], shape))
    return FlattenExplanation(node=view.id, type=view.type, index=index,
                              shape=view.output.shape, value=float(view.output[index]),
                              source=view.sources[0], source_shape=tuple(shape),
                              source_index=source_index)
