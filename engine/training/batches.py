"""Feeding batches without a DataLoader: datasets that fit stay as tensors on the device and
each batch is one index_select by a seeded permutation (no per-sample Python, no workers);
larger ones stay in CPU memory and each batch is gathered there and copied over."""
from __future__ import annotations

import torch

__all__ = ["BatchSource", "preload_limit_bytes", "num_batches", "batch_slice", "has_batchnorm"]

#: Datasets up to this size go to an accelerator once, unless free memory says otherwise.
PRELOAD_BYTES = 2 * 1024**3


def preload_limit_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        try:
            free, _total = torch.cuda.mem_get_info(device)
        except RuntimeError:
            free = PRELOAD_BYTES
        return min(PRELOAD_BYTES, free // 4)  # leave most memory to activations
    return PRELOAD_BYTES


#: torch's layers that normalize with batch statistics (its common base class is private).
BATCH_NORMS = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d,
               torch.nn.SyncBatchNorm)


def has_batchnorm(model: torch.nn.Module) -> bool:
    """Whether any layer normalizes with batch statistics (which a batch of one cannot give)."""
    return any(isinstance(m, BATCH_NORMS) for m in model.modules())


def num_batches(n: int, batch_size: int, drop_single: bool) -> int:
    """Batches per epoch. ``drop_single`` drops a last batch of one sample (BatchNorm cannot
    compute training statistics from a single value)."""
    full, rest = divmod(n, batch_size)
    if rest == 1 and drop_single and full > 0:
        return full
    return full + (1 if rest else 0)


def batch_slice(order: torch.Tensor, index: int, batch_size: int) -> torch.Tensor:
    return order[index * batch_size:(index + 1) * batch_size]


class BatchSource:
    """x/y of one split, resident on ``device`` when they fit, else kept on the CPU."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, device: torch.device,
                 limit_bytes: int | None = None,
                 layout: torch.memory_format | None = None) -> None:
        self.device = device
        self.n = int(x.shape[0])
        #: channels_last: image batches in NHWC order (stored so when resident, since
        #: index_select keeps the layout; converted after the copy otherwise).
        self.layout = layout if x.dim() == 4 else None
        nbytes = x.element_size() * x.nelement() + y.element_size() * y.nelement()
        limit = preload_limit_bytes(device) if limit_bytes is None else limit_bytes
        self.resident = device.type == "cpu" or nbytes <= limit
        if self.resident:
            self.x, self.y = x.to(device), y.to(device)
            if self.layout is not None:
                self.x = self.x.contiguous(memory_format=self.layout)
        else:
            self.x, self.y = x, y
        # Pinned staging makes the host→GPU copy asynchronous; only worth it for CUDA.
        self._pin = not self.resident and device.type == "cuda"

    def order_for(self, perm: torch.Tensor) -> torch.Tensor:
        """A CPU permutation, moved once per epoch to where the data lives."""
        return perm.to(self.device) if self.resident else perm

    def take(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.x.index_select(0, idx), self.y.index_select(0, idx)
        if self.resident:
            return x, y
        if self._pin:
            x, y = x.pin_memory(), y.pin_memory()
        return (self._arrange(x.to(self.device, non_blocking=self._pin)),
                y.to(self.device, non_blocking=self._pin))

    def range(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples start..stop in order (validation)."""
        x, y = self.x[start:stop], self.y[start:stop]
        if self.resident:
            return x, y
        return self._arrange(x.to(self.device)), y.to(self.device)

    def _arrange(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.layout is None else x.contiguous(memory_format=self.layout)
