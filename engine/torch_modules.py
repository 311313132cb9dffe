"""The few torch modules LayerLab needs that torch.nn lacks: merges with several inputs, a
channel slice, and LayerNorm over the channels of a feature map. The PyTorch-code exporter
copies their source into the file it writes, so each is self-contained."""
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


class Multiply(nn.Module):
    """Element-wise product of all inputs; sizes of 1 broadcast (a C×1×1 gate scales channels)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Narrow(nn.Module):
    """Channels (or features) start … start + length − 1: torch.narrow along dimension 1."""

    def __init__(self, start: int, length: int) -> None:
        super().__init__()
        self.start, self.length = start, length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.narrow(1, self.start, self.length)

    def extra_repr(self) -> str:
        return f"start={self.start}, length={self.length}"


class ChannelLayerNorm(nn.LayerNorm):
    """nn.LayerNorm over the channels of an N×C×H×W map, at every position (ConvNeXt's
    LayerNorm2d); its weight and bias have one value per channel."""

    def __init__(self, num_channels: int, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__(num_channels, eps=eps, elementwise_affine=elementwise_affine, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


CUSTOM = {"Identity": Identity, "Add": Add, "Concat": Concat, "Multiply": Multiply,
          "Narrow": Narrow, "ChannelLayerNorm": ChannelLayerNorm}
