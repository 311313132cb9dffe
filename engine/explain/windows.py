"""Where a sliding window sits on its input: the rows and columns of its taps (negative or
past the edge where it hangs over the padding) — shared by Conv2d and the poolings."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import pair

__all__ = ["Window", "window_at", "conv_padding", "gather"]


@dataclass(frozen=True)
class Window:
    rows: np.ndarray     # (kh,) input row of each tap
    cols: np.ndarray     # (kw,) input column of each tap
    inside: np.ndarray   # (kh, kw) bool: the tap reads a real input value (not padding)


def window_at(i: int, j: int, kernel, stride, top_left, dilation, size) -> Window:
    """The taps of output position (i, j): row = i·stride − pad + a·dilation."""
    kh, kw = pair(kernel)
    sh, sw = pair(stride)
    ph, pw = top_left
    dh, dw = pair(dilation)
    h, w = size
    rows = i * sh - ph + np.arange(kh) * dh
    cols = j * sw - pw + np.arange(kw) * dw
    inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
    return Window(rows, cols, inside)


def conv_padding(module) -> tuple[int, int]:
    """The padding on the top and left that the module really applies. For "same", PyTorch
    pads dilation·(kernel − 1) in all, the odd one on the bottom/right."""
    padding = module.padding
    if padding == "valid":
        return 0, 0
    if padding == "same":
        kh, kw = pair(module.kernel_size)
        dh, dw = pair(module.dilation)
        return (dh * (kh - 1)) // 2, (dw * (kw - 1)) // 2
    return pair(padding)


def gather(x: np.ndarray, window: Window, fill: float) -> np.ndarray:
    """``x[..., rows, cols]`` for a (C, H, W) or (H, W) array, ``fill`` where a tap is
    outside the input. Returns float64."""
    h, w = x.shape[-2:]
    r = np.clip(window.rows, 0, h - 1)
    c = np.clip(window.cols, 0, w - 1)
    taken = x[..., r[:, None], c[None, :]].astype(np.float64)
    return np.where(window.inside, taken, fill)
