"""Pooling: one output value summarises one window of one channel — the largest value
(max), the mean (average, adaptive average) or the p-norm (LP)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import pair
from .base import Explanation, arrays_json
from .numbers import grid, num
from .windows import Window, gather, window_at

__all__ = ["PoolExplanation", "explain_max_pool", "explain_avg_pool", "explain_lp_pool",
           "explain_adaptive_avg_pool"]


@dataclass(frozen=True, eq=False, kw_only=True)
class PoolExplanation(Explanation):
    source: str
    channel: int               # pooling works on each channel alone
    op: str                    # "max" | "average" | "p-norm"
    rows: np.ndarray           # (kh,) input row of each tap
    cols: np.ndarray           # (kw,)
    window: np.ndarray         # (kh, kw) the values; NaN where the tap reads nothing
    counted: np.ndarray        # (kh, kw) bool: the tap takes part (padding zeros may, for avg)
    winner: tuple[int, int] | None = None   # max: (row, col) inside the window that won
    sum: float | None = None                # average: Σ window; p-norm: Σ xᵖ
    divisor: int | None = None              # average: what the sum is divided by
    p: float | None = None                  # p-norm: the power
    scale: float | None = None              # p-norm: kh·kw / taps inside (ceil_mode edges)
    note: str = ""

    def _json_fields(self) -> dict[str, Any]:
        return {"source": self.source, "channel": self.channel, "op": self.op,
                "rows": self.rows.tolist(), "cols": self.cols.tolist(),
                **arrays_json(window=self.window, counted=self.counted),
                "winner": list(self.winner) if self.winner else None, "sum": self.sum,
                "divisor": self.divisor, "p": self.p, "scale": self.scale, "note": self.note}

    def _lines(self) -> list[str]:
        kh, kw = self.window.shape
        lines = [f"the {kh}×{kw} window on channel {self.channel} of {self.source}, rows "
                 f"{self.rows[0]}…{self.rows[-1]}, columns {self.cols[0]}…{self.cols[-1]}:"]
        lines += ["   " + row for row in grid(self.window, blank="—")]
        if self.op == "max":
            r, c = self.winner
            ties = int(np.sum(self.window[self.counted] == self.window[r, c]))
            lines.append(f"the largest is {num(self.value)}, at window row {r}, column {c} "
                         f"(input row {self.rows[r]}, column {self.cols[c]})"
                         + (f"; {ties} taps share it, the first in reading order wins"
                            if ties > 1 else ""))
        elif self.op == "average":
            lines.append(f"average = {num(self.sum)} / {self.divisor} = {num(self.value)}")
        else:
            p = num(self.p)
            scaled = f" · {num(self.scale)}" if self.scale not in (None, 1.0) else ""
            lines.append(f"p-norm (p = {p}) = (Σ xᵖ{scaled})^(1/{p}) = "
                         f"({num(self.sum)}{scaled})^(1/{p}) = {num(self.value)}")
        if self.note:
            lines.append(self.note)
        return lines


def _geometry(view, index, kernel, stride, pad, dilation) -> tuple[int, int, int, Window]:
    c, i, j = index
    h, w = view.inputs[0].shape[-2:]
    return c, h, w, window_at(i, j, kernel, stride, pad, dilation, (h, w))


def _result(view, index, win: Window, window, counted, op: str, **extra) -> PoolExplanation:
    return PoolExplanation(node=view.id, type=view.type, index=index, shape=view.output.shape,
                           value=float(view.output[index]), source=view.sources[0],
                           channel=index[0], op=op, rows=win.rows, cols=win.cols,
                           window=window, counted=counted, **extra)


def explain_max_pool(view, index) -> PoolExplanation:
    m = view.module
    stride = m.stride if m.stride is not None else m.kernel_size
    c, h, w, win = _geometry(view, index, m.kernel_size, stride, pair(m.padding), m.dilation)
    window = gather(view.inputs[0][c], win, np.nan)
    # The first largest value in reading order wins, as in PyTorch (ties: the earlier one).
    flat = np.where(win.inside, window, -np.inf).ravel()
    r, col = divmod(int(np.argmax(flat)), window.shape[1])
    note = ("the padding counts as −∞ for max pooling, so it never wins"
            if not win.inside.all() else "")
    return _result(view, index, win, window, win.inside.copy(), "max", winner=(r, col),
                   note=note)


def _avg_counted(win: Window, i: int, j: int, kernel, stride, pad, size) -> tuple[np.ndarray, int]:
    """ATen's avg_pool2d window: it may reach into the padding but is cut at the padded edge
    (ceil_mode's last windows); the divisor counts padding taps unless told not to."""
    kh, kw = pair(kernel)
    sh, sw = pair(stride)
    ph, pw = pad
    h, w = size
    h0, w0 = i * sh - ph, j * sw - pw
    h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
    in_pad = (((win.rows >= h0) & (win.rows < h1))[:, None]
              & ((win.cols >= w0) & (win.cols < w1))[None, :])
    return in_pad, (h1 - h0) * (w1 - w0)


def explain_avg_pool(view, index) -> PoolExplanation:
    m = view.module
    stride = m.stride if m.stride is not None else m.kernel_size
    pad = pair(m.padding)
    c, h, w, win = _geometry(view, index, m.kernel_size, stride, pad, 1)
    in_pad, padded_size = _avg_counted(win, index[1], index[2], m.kernel_size, stride, pad,
                                       (h, w))
    window = gather(view.inputs[0][c], win, 0.0)
    window = np.where(in_pad, window, np.nan)     # past the padded edge: not part of it
    override = getattr(m, "divisor_override", None)
    if override:
        divisor, note = int(override), f"divisor_override = {override}"
    elif m.count_include_pad:
        divisor = padded_size
        note = ("the padding zeros count in the average (count_include_pad)"
                if not win.inside[in_pad].all() else "")
    else:
        divisor = int(win.inside.sum())
        note = ("the padding is left out of the average (count_include_pad off)"
                if not win.inside[in_pad].all() else "")
    counted = in_pad if m.count_include_pad else win.inside & in_pad
    total = float(window[win.inside].sum())
    if not in_pad.all():
        note = (note + "; " if note else "") + ("ceil_mode: the last window hangs over the "
                                                "edge, only its taps inside count")
    return _result(view, index, win, window, counted, "average", sum=total, divisor=divisor,
                   note=note)


def explain_lp_pool(view, index) -> PoolExplanation:
    m = view.module
    stride = m.stride if m.stride is not None else m.kernel_size
    c, h, w, win = _geometry(view, index, m.kernel_size, stride, (0, 0), 1)
    window = gather(view.inputs[0][c], win, np.nan)
    kh, kw = pair(m.kernel_size)
    p = float(m.norm_type)
    n = int(win.inside.sum())
    with np.errstate(invalid="ignore"):
        powers = float(np.sum(np.power(window[win.inside], p)))
    # torch: avg_pool2d(xᵖ) · kh·kw, and avg_pool2d divides a window cut by ceil_mode by the
    # taps inside — so such a window's Σ xᵖ is scaled by kh·kw / inside.
    scale = kh * kw / n
    note = (f"ceil_mode: only {n} of the {kh * kw} taps are inside; PyTorch scales their "
            f"Σ xᵖ by {kh * kw}/{n}" if n < kh * kw else "")
    if p == 2:
        note = (note + "; " if note else "") + "p = 2: the L2 norm √(Σ x²) of the window"
    return _result(view, index, win, window, win.inside.copy(), "p-norm", sum=powers, p=p,
                   scale=scale, note=note)


def explain_adaptive_avg_pool(view, index) -> PoolExplanation:
    c, i, j = index
    x = view.inputs[0][c]
    h, w = x.shape
    oh, ow = view.output.shape[1:]
    # PyTorch's adaptive windows: start = ⌊i·H/oh⌋, end = ⌈(i+1)·H/oh⌉ (they may overlap).
    r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
    c0, c1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
    rows, cols = np.arange(r0, r1), np.arange(c0, c1)
    win = Window(rows, cols, np.ones((len(rows), len(cols)), dtype=bool))
    window = x[r0:r1, c0:c1].astype(np.float64)
    note = f"adaptive: the windows are chosen so that any {h}×{w} map becomes {oh}×{ow}"
    return _result(view, index, win, window, win.inside.copy(), "average",
                   sum=float(window.sum()), divisor=window.size, note=note)
