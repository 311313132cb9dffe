"""Optimizers and the learning-rate schedule.

The schedule is a closed-form factor of the epoch (lr = base_lr · factor(epoch)) rather than a
torch LR scheduler object: nothing to checkpoint, it extends naturally when the number of
epochs changes on resume, and ``set_lr`` simply re-bases it.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import nn

from .config import ScheduleConfig, TrainingConfig

__all__ = ["make_optimizer", "implementation_flags", "lr_factor", "set_optimizer_lr",
           "l1_parameters", "l1_penalty"]


def make_optimizer(params: Iterable[nn.Parameter], config: TrainingConfig) -> torch.optim.Optimizer:
    """weight_decay is the optimizer's own: L2 added to the gradient (coupled), except AdamW,
    which decays the weights directly (decoupled) — that difference is AdamW's reason to exist.

    The fastest implementation the parameters' device has: fused (one kernel for all
    parameters: a third of the per-parameter loop's time for Adam on the CPU), else foreach,
    else the loop — the same arithmetic, so the choice changes speed, not what is learned."""
    params = list(params)
    name, lr, wd = config.optimizer, config.lr, config.weight_decay
    if name == "sgd":
        cls, kwargs = torch.optim.SGD, dict(lr=lr, momentum=config.momentum,
                                            nesterov=config.nesterov, weight_decay=wd)
    elif name == "adam":
        cls, kwargs = torch.optim.Adam, dict(lr=lr, betas=config.betas, weight_decay=wd)
    elif name == "adamw":
        cls, kwargs = torch.optim.AdamW, dict(lr=lr, betas=config.betas, weight_decay=wd)
    elif name == "rmsprop":
        cls, kwargs = torch.optim.RMSprop, dict(lr=lr, momentum=config.momentum,
                                                weight_decay=wd)
    elif name == "adagrad":
        cls, kwargs = torch.optim.Adagrad, dict(lr=lr, weight_decay=wd)
    else:
        raise ValueError(f"unknown optimizer {name!r}")
    for speed in ({"fused": True}, {"foreach": True}, {}):
        try:
            return cls(params, **kwargs, **speed)
        except (RuntimeError, TypeError, ValueError):  # not for this optimizer or device
            continue
    return cls(params, **kwargs)


def implementation_flags(optimizer: torch.optim.Optimizer) -> list[dict]:
    """Each parameter group's fused/foreach choice: a loaded state dict brings the saving
    run's, which this device may not support, so the trainer puts these back."""
    return [{k: g[k] for k in ("fused", "foreach") if k in g} for g in optimizer.param_groups]


def lr_factor(schedule: ScheduleConfig, epoch: int, epochs: int) -> float:
    """Multiplier of the base lr during ``epoch`` (0-based) of ``epochs``."""
    if schedule.kind == "step":
        return schedule.gamma ** (epoch // schedule.step_size)
    if schedule.kind == "cosine":
        # Half a cosine from 1 at the first epoch towards 0 after the last (never exactly 0
        # while training: the last epoch gets 0.5·(1 + cos(π·(E−1)/E)) > 0).
        return 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / max(epochs, 1)))
    return 1.0


def set_optimizer_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def l1_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Weight matrices and kernels (ndim ≥ 2): the L1 penalty leaves biases and BatchNorm's
    scale/shift alone, as L1 regularization usually does."""
    return [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]


def l1_penalty(params: list[nn.Parameter]) -> torch.Tensor:
    return torch.stack([p.abs().sum() for p in params]).sum()
