"""The last good weights: copies of the model and optimizer state taken right after a batch
gave a finite loss, restored when a later loss is NaN or infinite.

Copies go into buffers allocated once and refreshed with ``copy_`` (no Python deep copy, no
allocation per save), so a copy of a small model costs microseconds; the trainer still paces
them by wall clock and by a share of the time for large models.
"""
from __future__ import annotations

from typing import Any

import torch

__all__ = ["LastGood"]


def _refresh(src: Any, dst: Any) -> Any:
    """A copy of ``src`` (nested dicts/lists of tensors and plain values), reusing ``dst``'s
    tensors where shapes match."""
    if isinstance(src, torch.Tensor):
        if (isinstance(dst, torch.Tensor) and dst.shape == src.shape and dst.dtype == src.dtype
                and dst.device == src.device):
            return dst.copy_(src)
        return src.detach().clone()
    if isinstance(src, dict):
        old = dst if isinstance(dst, dict) else {}
        return {k: _refresh(v, old.get(k)) for k, v in src.items()}
    if isinstance(src, (list, tuple)):
        old = dst if isinstance(dst, (list, tuple)) and len(dst) == len(src) else [None] * len(src)
        return type(src)(_refresh(v, o) for v, o in zip(src, old))
    return src  # numbers, strings, None: immutable


class LastGood:
    """One copy of the weights and optimizer state, with the position they belong to (any
    object the caller gives: the trainer's epoch, batch, step and running sums)."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.step: int | None = None
        self.position: Any = None
        self._weights: dict | None = None
        self._optim: dict | None = None

    def save(self, step: int, position: Any = None) -> None:
        with torch.no_grad():
            self._weights = _refresh(self.model.state_dict(), self._weights)
            self._optim = _refresh(self.optimizer.state_dict(), self._optim)
        self.step, self.position = step, position

    def restore(self) -> tuple[int, Any] | None:
        """Put the copy back; returns (its step, its position), or None when there is none."""
        if self.step is None:
            return None
        with torch.no_grad():
            for key, value in self.model.state_dict().items():
                value.copy_(self._weights[key])
        # load_state_dict may keep our tensors as its state: never reuse them as buffers.
        self.optimizer.load_state_dict(self._optim)
        saved = (self.step, self.position)
        self.clear()
        return saved

    def clear(self) -> None:
        self.step, self.position, self._weights, self._optim = None, None, None, None
