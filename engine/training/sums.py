"""An epoch's running sums: loss × samples, correct predictions, samples."""
from __future__ import annotations

import torch

__all__ = ["EpochSums"]


class EpochSums:
    """Running sums of an epoch. On accelerators they stay on the device (adding costs no host
    sync); on the CPU the loss was read anyway, so plain Python numbers are cheapest.

    ``add`` takes the number of real samples in the batch: under DDP the last batches of a
    process may end in padding (repeated samples), which the sums leave out."""

    def __init__(self, device: torch.device, classify: bool, host: bool) -> None:
        self.device, self.classify, self.host = device, classify, host
        if host:
            self._loss, self._correct = 0.0, 0
        else:
            dtype = torch.float32 if device.type == "mps" else torch.float64  # no f64 on MPS
            self._loss = torch.zeros((), dtype=dtype, device=device)
            self._correct = torch.zeros((), dtype=torch.int64, device=device)
        self.count = 0

    def add(self, loss: torch.Tensor, value: float | None, pred: torch.Tensor | None,
            y: torch.Tensor, n: int) -> None:
        """One batch: its mean ``loss`` (``value`` = the same as a float, when read), the
        predictions, targets, and how many of its first samples count."""
        if n <= 0:
            return
        if n < y.shape[0]:
            y = y[:n]
            pred = pred[:n] if pred is not None else None
        if self.host:
            self._loss += value * n
            if pred is not None:
                self._correct += int((pred == y).sum())
        else:
            self._loss.add_(loss, alpha=n)
            if pred is not None:
                self._correct.add_((pred == y).sum())
        self.count += n

    @property
    def loss(self) -> float:
        return float(self._loss)

    @property
    def correct(self) -> int:
        return int(self._correct)

    def set(self, loss: float, correct: int, count: int) -> None:
        """Restore sums saved in a checkpoint."""
        if self.host:
            self._loss, self._correct = float(loss), int(correct)
        else:
            self._loss.fill_(float(loss))
            self._correct.fill_(int(correct))
        self.count = int(count)

    def copy(self) -> "EpochSums":
        other = EpochSums(self.device, self.classify, self.host)
        if self.host:
            other._loss, other._correct = self._loss, self._correct
        else:
            other._loss.copy_(self._loss)
            other._correct.copy_(self._correct)
        other.count = self.count
        return other
