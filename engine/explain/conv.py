"""Conv2d: one output value = the window under the kernel × the kernel's weights, summed,
plus the bias — per input channel of the filter's group."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Explanation, arrays_json
from .nodes import cached_weights
from .numbers import grid, num
from .windows import conv_padding, gather, window_at

__all__ = ["ConvExplanation", "explain_conv"]

#: Channels written out in full by ``lines()``; the rest are summed per channel.
SHOWN_CHANNELS = 3


@dataclass(frozen=True, eq=False, kw_only=True)
class ConvExplanation(Explanation):
    source: str                 # the node whose maps the window lies on
    channels: np.ndarray        # (Cg,) the input channels this filter reads (its group's)
    rows: np.ndarray            # (kh,) input row of each kernel tap (outside = padding)
    cols: np.ndarray            # (kw,)
    inside: np.ndarray          # (kh, kw) bool: tap on a real input value
    window: np.ndarray          # (Cg, kh, kw) input values under the kernel, 0 on padding
    kernel: np.ndarray          # (Cg, kh, kw) the filter's weights
    products: np.ndarray        # window · kernel
    sum: float                  # Σ products
    bias: float | None
    pre_activation: float       # sum + bias (= value)
    stride: tuple[int, int]
    padding: tuple[int, int]    # top, left
    dilation: tuple[int, int]
    groups: int

    @property
    def channel_sums(self) -> np.ndarray:
        return self.products.sum(axis=(1, 2))

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "channels": self.channels.tolist(),
                "rows": self.rows.tolist(), "cols": self.cols.tolist(),
                **arrays_json(window=self.window, kernel=self.kernel, products=self.products,
                              inside=self.inside),
                "channel_sums": self.channel_sums.tolist(), "sum": self.sum, "bias": self.bias,
                "pre_activation": self.pre_activation, "stride": list(self.stride),
                "padding": list(self.padding), "dilation": list(self.dilation),
                "groups": self.groups}

    def _lines(self) -> list[str]:
        o = self.index[0]
        cg, kh, kw = self.kernel.shape
        rows = f"rows {self.rows[0]}…{self.rows[-1]}" if kh > 1 else f"row {self.rows[0]}"
        cols = f"columns {self.cols[0]}…{self.cols[-1]}" if kw > 1 else f"column {self.cols[0]}"
        step = f"stride {self.stride[0]}×{self.stride[1]}"
        if self.dilation != (1, 1):
            step += f", dilation {self.dilation[0]}×{self.dilation[1]}"
        lines = [f"filter {o} ({cg}×{kh}×{kw} weights) sits on {rows}, {cols} of {self.source} "
                 f"({step}; output position × stride − padding {self.padding[0]}×"
                 f"{self.padding[1]})"]
        if self.groups > 1:
            lines.append(f"groups = {self.groups}: filter {o} reads only input channels "
                         f"{self.channels[0]}…{self.channels[-1]}")
        if not self.inside.all():
            lines.append(f"{int((~self.inside).sum())} of its {kh * kw} taps are on the zero "
                         f"padding (window shows 0 there)")
        width = 10
        block = kw * (width + 1) - 1
        for k in range(min(cg, SHOWN_CHANNELS)):
            lines.append(f"input channel {self.channels[k]}:")
            lines.append("   " + "window".rjust(block) + "     " + "kernel".rjust(block)
                         + "     " + "products".rjust(block))
            for a, b, c in zip(grid(self.window[k], width), grid(self.kernel[k], width),
                               grid(self.products[k], width)):
                lines.append(f"   {a}  ×  {b}  =  {c}")
            lines.append(f"   channel sum {num(self.channel_sums[k])}")
        if cg > SHOWN_CHANNELS:
            rest = self.channel_sums[SHOWN_CHANNELS:]
            lines.append(f"input channels {self.channels[SHOWN_CHANNELS]}…{self.channels[-1]}: "
                         f"{len(rest)} more channel sums, together {num(rest.sum())}")
        lines.append(f"sum of the {cg * kh * kw} products = {num(self.sum)}")
        if self.bias is None:
            lines.append(f"no bias: result = {num(self.pre_activation)}")
        else:
            lines.append(f"+ bias {num(self.bias)} = {num(self.pre_activation)}")
        return lines


def explain_conv(view, index) -> ConvExplanation:
    m = view.module
    o, i, j = index
    x = view.inputs[0]
    c_in, h, w = x.shape
    weight, bias = cached_weights(view)
    per_group = c_in // m.groups
    group = o // (m.out_channels // m.groups)
    channels = np.arange(group * per_group, (group + 1) * per_group)
    top_left = conv_padding(m)
    win = window_at(i, j, m.kernel_size, m.stride, top_left, m.dilation, (h, w))
    window = gather(x[channels], win, 0.0)
    kernel = weight[o]
    products = window * kernel
    total = float(products.sum())
    b = None if bias is None else float(bias[o])
    return ConvExplanation(
        node=view.id, type=view.type, index=index, shape=view.output.shape,
        value=float(view.output[index]), source=view.sources[0], channels=channels,
        rows=win.rows, cols=win.cols, inside=win.inside, window=window, kernel=kernel,
        products=products, sum=total, bias=b, pre_activation=total + (b or 0.0),
        stride=tuple(m.stride), padding=top_left, dilation=tuple(m.dilation), groups=m.groups)
