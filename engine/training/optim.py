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

__all__ = ["make_optimizer", "lr_factor", "set_optimizer_lr", "l1_parameters", "l1_penalty"]


def make_optimizer(params: Iterable[nn.Parameter], config: TrainingConfig) -> torch.optim.Optimizer:
    """weight_decay is the optimizer's own: L2 added to the gradient (coupled), except AdamW,
    which decays the weights directly (decoupled) — that difference is AdamW's reason to exist."""
    params = list(params)
    name, lr, wd = config.optimizer, config.lr, config.weight_decay
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum,
                               nesterov=config.nesterov, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=config.betas, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=config.betas, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name!r}")


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
