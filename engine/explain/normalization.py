"""BatchNorm (as the trained network uses it: with its running statistics) and Dropout
(which does nothing outside training)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .base import Explanation, Unsupported
from .numbers import num

__all__ = ["BatchNormExplanation", "PassThroughExplanation", "explain_batch_norm",
           "explain_dropout"]


@dataclass(frozen=True, eq=False, kw_only=True)
class BatchNormExplanation(Explanation):
    source: str
    channel: int           # the channel (image) or feature (vector) whose statistics apply
    x: float
    mean: float            # running mean learned in training
    var: float             # running variance
    eps: float
    normalized: float      # (x − mean) / √(var + eps)
    gamma: float | None    # None without affine (γ = 1, β = 0)
    beta: float | None

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "channel": self.channel, "x": self.x,
                "mean": self.mean, "var": self.var, "eps": self.eps,
                "normalized": self.normalized, "gamma": self.gamma, "beta": self.beta}

    def _lines(self) -> list[str]:
        unit = "channel" if len(self.shape) == 3 else "feature"
        lines = [f"x = {num(self.x)} from {self.source}; {unit} {self.channel}'s running "
                 f"mean {num(self.mean)} and variance {num(self.var)} (learned in training)",
                 f"normalized = (x − mean) / √(var + eps) = ({num(self.x)} − {num(self.mean)})"
                 f" / √({num(self.var)} + {num(self.eps)}) = {num(self.normalized)}"]
        if self.gamma is None:
            lines.append(f"affine is off: result = {num(self.normalized)}")
        else:
            lines.append(f"γ · normalized + β = {num(self.gamma)} · {num(self.normalized)} + "
                         f"{num(self.beta)} = {num(self.gamma * self.normalized + self.beta)}")
        return lines


def explain_batch_norm(view, index) -> Explanation:
    m = view.module
    c = index[0]
    if m.running_mean is None:
        return Unsupported(node=view.id, type=view.type, index=index, shape=view.output.shape,
                           value=float(view.output[index]),
                           message=f"{view.id} keeps no running statistics, so its value "
                                   f"depends on the whole batch; no explanation for that yet")
    x = float(view.inputs[0][index])
    mean, var = float(m.running_mean[c]), float(m.running_var[c])
    normalized = (x - mean) / math.sqrt(var + m.eps)
    gamma = float(m.weight[c].detach()) if m.weight is not None else None
    beta = float(m.bias[c].detach()) if m.bias is not None else None
    return BatchNormExplanation(
        node=view.id, type=view.type, index=index, shape=view.output.shape,
        value=float(view.output[index]), source=view.sources[0], channel=c, x=x, mean=mean,
        var=var, eps=float(m.eps), normalized=normalized, gamma=gamma, beta=beta)


@dataclass(frozen=True, eq=False, kw_only=True)
class PassThroughExplanation(Explanation):
    """A node that hands a value on unchanged here (Dropout when not training, Input)."""
    source: str | None
    reason: str

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "reason": self.reason}

    def _lines(self) -> list[str]:
        return [self.reason]


def explain_dropout(view, index) -> PassThroughExplanation:
    return PassThroughExplanation(
        node=view.id, type=view.type, index=index, shape=view.output.shape,
        value=float(view.output[index]), source=view.sources[0],
        reason=f"Dropout only zeroes values while training; a trained network passes "
               f"{view.sources[0]}'s value through unchanged: {num(view.output[index])}")
