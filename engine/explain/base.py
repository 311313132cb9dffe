"""What every explanation has in common, and the activation step that may follow a value.

Results are frozen dataclasses of numpy arrays, Python numbers and strings: they pickle
cheaply, so a worker process can compute them and send them to the window as they are.
``to_json()`` gives the documented ``layerlab explain --json`` object; ``lines()`` the worked
explanation in words and numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .numbers import num, to_list

__all__ = ["ActivationStep", "Explanation", "Unsupported", "index_text"]


def index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


@dataclass(frozen=True, eq=False, kw_only=True)
class ActivationStep:
    """The element-wise activation node that reads this value next (ReLU, Tanh, …)."""
    node: str
    type: str
    input: float
    output: float
    formula: str            # with the numbers: "max(0, 1.284) = 1.284"

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "type": self.type, "input": self.input,
                "output": self.output, "formula": self.formula}


@dataclass(frozen=True, eq=False, kw_only=True)
class Explanation:
    """One output element of one node for one sample.

    ``value`` is the built torch module's own output at ``index`` (so it is exactly what the
    network computed); the fields of each subclass show how it came about."""
    node: str
    type: str
    index: tuple[int, ...]
    shape: tuple[int, ...]              # the node's output shape for one sample
    value: float
    activation: ActivationStep | None = None

    explained: ClassVar[bool] = True

    def to_json(self) -> dict[str, Any]:
        data = {"node": self.node, "type": self.type, "index": list(self.index),
                "shape": list(self.shape), "value": self.value, "explained": self.explained}
        data.update(self._json_fields())
        data["activation"] = self.activation.to_json() if self.activation else None
        return data

    def lines(self) -> list[str]:
        head = f"{self.node} ({self.type}) output {index_text(self.index)} = {num(self.value)}"
        body = self._lines()
        if self.activation is not None:
            a = self.activation
            body.append(f"then {a.node} ({a.type}): {a.formula}")
        return [head, *body]

    # --- per type ---------------------------------------------------------------------
    def _json_fields(self) -> dict[str, Any]:
        return {}

    def _lines(self) -> list[str]:
        return []


@dataclass(frozen=True, eq=False, kw_only=True)
class Unsupported(Explanation):
    """A node type without an explanation yet: still its value, and a message saying so."""
    message: str

    explained: ClassVar[bool] = False

    def _json_fields(self) -> dict[str, Any]:
        return {"message": self.message}

    def _lines(self) -> list[str]:
        return [self.message]


def arrays_json(**arrays: np.ndarray | None) -> dict[str, Any]:
    """Keyword arrays → JSON-ready nested lists (None stays None)."""
    return {k: to_list(v) for k, v in arrays.items()}
