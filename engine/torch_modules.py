"""The few torch modules LayerLab needs that torch.nn lacks: merges with several inputs."""
from __future__ import annotations

import torch
from torch import nn


class Identity(nn.Identity):
    """The Input node: passes the batch through, so it has an output like every other node."""


class Add(nn.Module):
    """Element-wise sum of all inputs (residual connections)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Concatenation along the channel (or feature) dimension, in input-port order."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)


CUSTOM = {"Identity": Identity, "Add": Add, "Concat": Concat}
