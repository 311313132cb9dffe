"""Per-layer gradient norms (log scale: vanishing and exploding gradients are orders of
magnitude) and the share of dead ReLU units — the two health checks of a deep network.

Horizontal bars, one row per layer in run order, so long layer names read on the left axis.
Each chart is one BarGraphItem updated with ``setOpts``.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget
from PySide6.QtCore import Qt

from .deferred_draw import DeferredDraw
from .layout_helpers import caption, expanding, still_plot
from ..threads import gui_only

__all__ = ["GradientsView", "LogAxis"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class LogAxis(pg.AxisItem):
    """Values are log10 of the data: label the ticks 10ⁿ."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [("10" + f"{int(round(v))}".translate(_SUPERSCRIPT)) if abs(v - round(v)) < 1e-6
                else "" for v in values]


def _bars_plot(title: str, bottom: pg.AxisItem | None = None) -> pg.PlotWidget:
    plot = still_plot(bottom=title, axis_items={"bottom": bottom} if bottom else None)
    plot.getPlotItem().invertY(True)   # no grid: grid lines make every bar update repaint
    return plot                        # the axes too


class GradientsView(DeferredDraw, QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientsView")
        self.caption = caption("Gradient size per layer (tiny = the layer barely learns; huge = "
                              "unstable) and ReLU units that output 0 for every sample "
                              "(dead: they no longer learn).")
        self.grad_plot = _bars_plot("gradient norm (log)", LogAxis("bottom"))
        self.dead_plot = _bars_plot("dead ReLU units %")
        self.dead_plot.getPlotItem().setXRange(0, 100, padding=0.02)
        for plot in (self.grad_plot, self.dead_plot):
            plot.getPlotItem().disableAutoRange()
        self.dead_plot.getPlotItem().getAxis("bottom").setTicks([[(0, "0"), (50, "50"), (100, "100")]])
        self.grad_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[],
                                         brush=pg.mkBrush("#3A7BD5"))
        self.dead_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[],
                                         brush=pg.mkBrush("#D93025"))
        self.grad_plot.addItem(self.grad_bars)
        self.dead_plot.addItem(self.dead_bars)
        split = expanding(QSplitter(Qt.Orientation.Horizontal))
        split.addWidget(self.grad_plot)
        split.addWidget(self.dead_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(split, 1)
        self.grad_norms: dict[str, float] = {}
        self.dead: dict[str, float] = {}
        self.order: list[str] = []
        self._dirty = False
        self._labels: tuple = ()
        self._x_range: tuple[float, float] | None = None

    def set_order(self, node_ids) -> None:
        self.order = list(node_ids)
        self._labels, self._x_range = (), None

    def set_visuals(self, snap) -> None:
        if snap.grad_norms or snap.dead_relu:
            self.grad_norms, self.dead = dict(snap.grad_norms), dict(snap.dead_relu)
            self._dirty = True

    def _ordered(self, values: dict[str, float]) -> list[str]:
        rank = {n: i for i, n in enumerate(self.order)}
        return sorted(values, key=lambda n: rank.get(n, len(rank)))

    @gui_only
    def flush(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        names = self._ordered(self.grad_norms)
        logs = [math.log10(v) if v > 0 else math.nan for v in
                (self.grad_norms[n] for n in names)]
        finite = [v for v in logs if math.isfinite(v)]
        base = self._x_range[0] if self._x_range and finite and min(finite) >= \
            self._x_range[0] + 0.5 else (math.floor(min(finite)) - 1 if finite else -8)
        widths = [v - base if math.isfinite(v) else 0.0 for v in logs]
        y = np.arange(len(names))
        self.grad_bars.setOpts(x0=[base] * len(names), y=y, width=widths, height=0.7)
        if finite:   # whole decades, moved only when a bar leaves them: axes cost to redraw
            hi = math.ceil(max(finite) + 0.05)
            old = self._x_range
            if old is None or base != old[0] or hi > old[1] or hi < old[1] - 1:
                self._x_range = (base, hi)
                self.grad_plot.getPlotItem().setXRange(base, hi, padding=0)
        dead_names = self._ordered(self.dead)
        self.dead_bars.setOpts(x0=[0] * len(dead_names), y=np.arange(len(dead_names)),
                               width=[100 * self.dead[n] for n in dead_names], height=0.7)
        labels = (tuple(names), tuple(dead_names))
        if labels != self._labels:       # the layers, set once per model
            self._labels = labels
            for plot, ids in ((self.grad_plot, names), (self.dead_plot, dead_names)):
                plot.getPlotItem().getAxis("left").setTicks([[(i, n) for i, n in enumerate(ids)]])
                plot.getPlotItem().setYRange(-0.6, max(len(ids), 1) - 0.4, padding=0)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty = True
        self.flush()
