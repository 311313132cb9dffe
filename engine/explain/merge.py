"""Input (the sample itself), Add (a sum of the inputs' values at the same place) and Concat
(which input, and where in it, this channel comes from)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Explanation, index_text
from .normalization import PassThroughExplanation
from .numbers import num

__all__ = ["AddExplanation", "ConcatExplanation", "explain_input", "explain_add",
           "explain_concat"]


def explain_input(view, index) -> PassThroughExplanation:
    return PassThroughExplanation(
        node=view.id, type=view.type, index=index, shape=view.output.shape,
        value=float(view.output[index]), source=None,
        reason="the sample's own value, as the network receives it (after the dataset's "
               "normalization)")


@dataclass(frozen=True, eq=False, kw_only=True)
class AddExplanation(Explanation):
    sources: tuple[str, ...]
    terms: np.ndarray          # each input's value at this index
    sum: float

    def _json_fields(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "terms": self.terms.tolist(), "sum": self.sum}

    def _lines(self) -> list[str]:
        parts = " + ".join(f"{num(t)} ({s})" for s, t in zip(self.sources, self.terms))
        return [f"the inputs' values at {index_text(self.index)} added: {parts} = "
                f"{num(self.sum)}"]


def explain_add(view, index) -> AddExplanation:
    terms = np.array([float(x[index]) for x in view.inputs])
    return AddExplanation(node=view.id, type=view.type, index=index, shape=view.output.shape,
                          value=float(view.output[index]), sources=tuple(view.sources),
                          terms=terms, sum=float(terms.sum()))


@dataclass(frozen=True, eq=False, kw_only=True)
class ConcatExplanation(Explanation):
    source: str
    source_index: tuple[int, ...]

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "source_index": list(self.source_index)}

    def _lines(self) -> list[str]:
        return [f"Concat stacks its inputs in port order: this is {self.source}"
                f"{index_text(self.source_index)}, unchanged"]


def explain_concat(view, index) -> ConcatExplanation:
    first = index[0]
    for source, x in zip(view.sources, view.inputs):
        if first < x.shape[0]:
            return ConcatExplanation(node=view.id, type=view.type, index=index,
                                     shape=view.output.shape, value=float(view.output[index]),
                                     source=source, source_index=(first, *index[1:]))
        first -= x.shape[0]
    raise AssertionError("the index was checked against the output shape")
