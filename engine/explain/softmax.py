"""Softmax: logits → eˣ → their sum → probabilities (eˣ / Σ eˣ), over the channels (an
image's) or the features (a vector's) at the chosen position."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Explanation, arrays_json
from .numbers import num

__all__ = ["SoftmaxExplanation", "explain_softmax"]

_EXP_LIMIT = 700.0   # e^700 is near float64's limit: shift larger logits by their maximum


@dataclass(frozen=True, eq=False, kw_only=True)
class SoftmaxExplanation(Explanation):
    source: str
    position: int              # which of the logits this output is
    logits: np.ndarray
    exp: np.ndarray            # e^(logit − shift)
    sum_exp: float
    probabilities: np.ndarray  # exp / sum_exp (all of them; value is probabilities[position])
    shift: float               # 0, or the largest logit when eˣ would overflow

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "position": self.position,
                **arrays_json(logits=self.logits, exp=self.exp,
                              probabilities=self.probabilities),
                "sum_exp": self.sum_exp, "shift": self.shift}

    def _lines(self) -> list[str]:
        k = self.position
        e = "e^(x − " + num(self.shift) + ")" if self.shift else "eˣ"
        lines = [f"softmax over the {len(self.logits)} values of {self.source} here:",
                 "   " + "  ".join(f"x{i} = {num(v)}" for i, v in enumerate(self.logits)),
                 f"   {e}: " + "  ".join(num(v) for v in self.exp),
                 f"sum of {e} = {num(self.sum_exp)}",
                 f"probability {k} = {num(self.exp[k])} / {num(self.sum_exp)} = "
                 f"{num(self.value)}",
                 "all probabilities: " + "  ".join(f"{num(v, 3)}" for v in self.probabilities)]
        if self.shift:
            lines.append(f"(every logit was reduced by the largest, {num(self.shift)}, so eˣ "
                         f"does not overflow; the probabilities do not change)")
        return lines


def explain_softmax(view, index) -> SoftmaxExplanation:
    dim = view.module.dim if view.module.dim is not None else 1
    x = view.inputs[0]
    axis = (dim - 1 if dim > 0 else dim) % x.ndim   # per sample: the batch axis is gone
    position = index[axis]
    where = list(index)
    where[axis] = slice(None)
    logits = x[tuple(where)].astype(np.float64)
    top = float(logits.max())
    shift = top if top > _EXP_LIMIT else 0.0
    exp = np.exp(logits - shift)
    total = float(exp.sum())
    return SoftmaxExplanation(node=view.id, type=view.type, index=index,
                              shape=view.output.shape, value=float(view.output[index]),
                              source=view.sources[0], position=int(position), logits=logits,
                              exp=exp, sum_exp=total, probabilities=exp / total, shift=shift)
