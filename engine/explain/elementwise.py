"""Element-wise activations: each output is f(its own input). One entry per type gives the
function in numpy (tests compare it with torch) and the worked formula with the numbers.

Only the types listed here are treated as element-wise: a new activation type gets a clear
"no explanation yet" until it is added, never a wrong one (Softmax, for one, is not
element-wise and has its own explanation)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from torch import nn

from .base import ActivationStep, Explanation
from .numbers import num

__all__ = ["ELEMENTWISE", "Elementwise", "ActivationExplanation", "explain_activation",
           "activation_step"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(frozen=True)
class Elementwise:
    """f(x, module) in numpy, and the formula written with x and y = f(x)."""
    f: Callable[[np.ndarray, nn.Module], np.ndarray]
    formula: Callable[[float, float, nn.Module], str]
    name: str                                     # the function, in words


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _phi(x):
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(x, dtype=np.float64) / math.sqrt(2)))


def _gelu(x, m):
    if getattr(m, "approximate", "none") == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * _phi(x)


def _gelu_formula(x, y, m):
    if getattr(m, "approximate", "none") == "tanh":
        return (f"0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) with x = {num(x)}: {num(y)}")
    return f"x·Φ(x) = {num(x)} · {num(float(_phi(x)))} = {num(y)}"


def _neg(x: float, positive: str, negative: str) -> str:
    return positive if x > 0 else negative


ELEMENTWISE: dict[str, Elementwise] = {
    "ReLU": Elementwise(
        lambda x, m: np.maximum(x, 0.0),
        lambda x, y, m: f"max(0, {num(x)}) = {num(y)}", "max(0, x)"),
    "ReLU6": Elementwise(
        lambda x, m: np.minimum(np.maximum(x, 0.0), 6.0),
        lambda x, y, m: f"min(max(0, {num(x)}), 6) = {num(y)}", "min(max(0, x), 6)"),
    "LeakyReLU": Elementwise(
        lambda x, m: np.where(x > 0, x, m.negative_slope * x),
        lambda x, y, m: _neg(x, f"{num(x)} > 0, so it passes: {num(y)}",
                             f"{num(x)} ≤ 0, so {num(m.negative_slope)} · {num(x)} = {num(y)}"),
        "x, or negative_slope·x below 0"),
    "ELU": Elementwise(
        lambda x, m: np.where(x > 0, x, m.alpha * np.expm1(np.minimum(x, 0.0))),
        lambda x, y, m: _neg(x, f"{num(x)} > 0, so it passes: {num(y)}",
                             f"α(eˣ − 1) = {num(m.alpha)} · (e^{num(x)} − 1) = {num(y)}"),
        "x, or α(eˣ − 1) below 0"),
    "SELU": Elementwise(
        lambda x, m: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
        lambda x, y, m: _neg(x, f"1.0507 · {num(x)} = {num(y)}",
                             f"1.0507 · 1.6733 · (e^{num(x)} − 1) = {num(y)}"),
        "1.0507·x, or 1.0507·1.6733·(eˣ − 1) below 0"),
    "GELU": Elementwise(_gelu, _gelu_formula, "x·Φ(x)"),
    "Sigmoid": Elementwise(
        lambda x, m: _sigmoid(x),
        lambda x, y, m: f"1 / (1 + e^−({num(x)})) = {num(y)}", "1 / (1 + e⁻ˣ)"),
    "Tanh": Elementwise(
        lambda x, m: np.tanh(x),
        lambda x, y, m: f"tanh({num(x)}) = {num(y)}", "tanh(x)"),
    "SiLU": Elementwise(
        lambda x, m: x * _sigmoid(x),
        lambda x, y, m: f"x·σ(x) = {num(x)} · {num(float(_sigmoid(x)))} = {num(y)}",
        "x·σ(x)"),
}


@dataclass(frozen=True, eq=False, kw_only=True)
class ActivationExplanation(Explanation):
    """An element-wise activation node: its input at the same index, and f."""
    source: str
    input: float
    formula: str
    function: str

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "x": self.input, "function": self.function,
                "formula": self.formula}

    def _lines(self) -> list[str]:
        return [f"its input x = {num(self.input)} is {self.source}'s value at the same place",
                f"{self.type}(x) = {self.function}: {self.formula}"]


def _formula(type_: str, module: nn.Module, x: float, y: float) -> str:
    return ELEMENTWISE[type_].formula(x, y, module)


def explain_activation(view, index) -> ActivationExplanation:
    x = float(view.inputs[0][index])
    y = float(view.output[index])
    return ActivationExplanation(
        node=view.id, type=view.type, index=index, shape=view.output.shape, value=y,
        source=view.sources[0], input=x, formula=_formula(view.type, view.module, x, y),
        function=ELEMENTWISE[view.type].name)


def activation_step(view, index) -> ActivationStep:
    """The step an element-wise activation node adds after a value of its source."""
    x = float(view.inputs[0][index])
    y = float(view.output[index])
    return ActivationStep(node=view.id, type=view.type, input=x, output=y,
                          formula=_formula(view.type, view.module, x, y))
