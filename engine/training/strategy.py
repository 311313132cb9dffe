"""How the one training loop is spread over processes: a Strategy, as Lightning's.

The Trainer owns the loop — batches, steps, epochs, sums, divergence, snapshots, control —
and asks its strategy only what depends on how many processes train together:

* ``wrap(model)``: the module the training step calls (DDP wraps it; one process uses it as is);
* ``local_batch(batch)`` and ``shard(permutation)``: this process's share of each global batch;
* ``val_range(n)``: this process's slice of the validation set;
* ``sum(values)`` and ``gather(rows, …)``: an epoch's sums and predictions over all processes;
* ``sync_buffers(model)``: BatchNorm statistics made the same everywhere before validating;
* ``is_main``, ``rank``, ``world_size``: who writes files and prints;
* ``checks_each_batch``: whether this process may end the run on its own at a NaN loss (one
  process may; under DDP every process must agree, so the epoch's summed loss decides).

``SingleProcess`` is the default. ``distributed.DDPStrategy`` is the torchrun one.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["Strategy", "SingleProcess"]


class Strategy:
    """The protocol, with one process's answers."""

    rank = 0
    world_size = 1
    checks_each_batch = True

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        return model

    def local_batch(self, batch_size: int) -> int:
        return batch_size

    def shard(self, order: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(this process's indices of the epoch's permutation, how many of them are real
        samples rather than padding)."""
        return order, int(order.shape[0])

    def val_range(self, n: int) -> tuple[int, int]:
        return 0, n

    def sum(self, values: list[float]) -> list[float]:
        return list(values)

    def gather(self, rows: torch.Tensor, total: int) -> torch.Tensor:
        """Every process's rows (its ``val_range`` slice), in order: ``total`` rows in all."""
        return rows

    def sync_buffers(self, model: nn.Module) -> None:
        pass

    def close(self) -> None:
        """Free what holds communication resources (DDP's reducer)."""


class SingleProcess(Strategy):
    """One process, one device: every answer is the identity."""
