"""Epochs' weights kept so their histograms can be measured once the run ends.

A histogram pass at an epoch's end (training/histograms.py) costs a forward pass of the probe
batch and a dozen small operations per layer, and it leaves the training thread's caches cold
for the batches after it; its budget (``snapshots.histogram_budget``) spaces the passes of
short epochs, so those get no strip. Given a backlog, the Trainer keeps a copy of the weights
of the epochs it does not measure (tens of microseconds for a small model), and
``Trainer.measure_backlog()`` measures them after the run: every epoch gets its strip. With
``Trainer.histograms_live`` off (the window's Histograms view is off screen), no pass runs
during the run at all. Copies stop at ``limit`` bytes; weights beyond it are measured live,
within the budget, as before — nothing is lost, and a large model never holds many copies.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["BACKLOG_BYTES", "HistogramBacklog"]

#: Bytes of weights (parameters and buffers, on the CPU) kept at most.
BACKLOG_BYTES = 64 * 2**20


class HistogramBacklog:
    """(epoch, step, state_dict) copies, oldest first."""

    def __init__(self, limit: int = BACKLOG_BYTES) -> None:
        self.limit = limit
        self._kept: dict[int, tuple[int, dict[str, torch.Tensor]]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._kept)

    def keep(self, epoch: int, step: int, model: nn.Module) -> bool:
        """Keep ``model``'s weights as epoch ``epoch``'s; False (nothing kept) when they
        would not fit."""
        state = model.state_dict()
        size = sum(t.numel() * t.element_size() for t in state.values())
        self.discard(epoch)
        if self._bytes + size > self.limit:
            return False
        self._kept[epoch] = (step, {k: t.detach().to("cpu", copy=True)
                                    for k, t in state.items()})
        self._bytes += size
        return True

    def discard(self, epoch: int) -> None:
        """Forget epoch ``epoch``'s copy (a live pass measured that epoch)."""
        kept = self._kept.pop(epoch, None)
        if kept is not None:
            self._bytes -= sum(t.numel() * t.element_size() for t in kept[1].values())

    def take(self) -> list[tuple[int, int, dict[str, torch.Tensor]]]:
        """Every copy, oldest epoch first, and the backlog emptied."""
        kept = [(epoch, step, state) for epoch, (step, state) in sorted(self._kept.items())]
        self._kept.clear()
        self._bytes = 0
        return kept
