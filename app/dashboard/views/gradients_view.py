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
from .empty_state import EmptyState
from .layout_helpers import caption, expanding, still_plot

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
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientsView")
        self.state = ctx.state
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
        self.body = EmptyState(split, "gradientsEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.body, 1)
        self._shown = None                 # the VisualSnapshot drawn now
        self._labels: tuple = ()
        self._x_range: tuple[float, float] | None = None
        self.render()

    @property
    def grad_norms(self) -> dict[str, float]:
        v = self.state.results.visuals
        return dict(v.grad_norms) if v is not None else {}

    @property
    def dead(self) -> dict[str, float]:
        v = self.state.results.visuals
        return dict(v.dead_relu) if v is not None else {}

    def _ordered(self, values: dict[str, float]) -> list[str]:
        state = self.state
        order = state.session.node_ids if state.session is not None else state.project.node_ids
        rank = {n: i for i, n in enumerate(order)}
        return sorted(values, key=lambda n: rank.get(n, len(rank)))

    def draw(self, _topics: frozenset) -> None:
        state = self.state
        snap = state.results.visuals
        if snap is None or not (snap.grad_norms or snap.dead_relu):
            self._shown, self._labels, self._x_range = None, (), None
            n = len(state.project.param_ids)
            if not n:
                self.body.show_note("This network has no layer with weights yet: gradients "
                                    "are measured on the layers that learn (Conv2d, Linear…).")
                return
            when = ("Once training starts" if state.run.active else
                    "When you press Train" if state.worker.ready else
                    "When you press Train (PyTorch is loading…)")
            self.body.show_note(f"{when}: how big the gradient of each of the {n} layers "
                                f"with weights is (tiny = it barely learns, huge = unstable), "
                                f"and the ReLU units that died.")
            return
        self.body.show_content()
        if snap is self._shown:
            return
        self._shown = snap
        grad_norms, dead = dict(snap.grad_norms), dict(snap.dead_relu)
        names = self._ordered(grad_norms)
        logs = [math.log10(v) if v > 0 else math.nan for v in
                (grad_norms[n] for n in names)]
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
        dead_names = self._ordered(dead)
        self.dead_bars.setOpts(x0=[0] * len(dead_names), y=np.arange(len(dead_names)),
                               width=[100 * dead[n] for n in dead_names], height=0.7)
        labels = (tuple(names), tuple(dead_names))
        if labels != self._labels:       # the layers, set once per model
            self._labels = labels
            for plot, ids in ((self.grad_plot, names), (self.dead_plot, dead_names)):
                plot.getPlotItem().getAxis("left").setTicks([[(i, n) for i, n in enumerate(ids)]])
                plot.getPlotItem().setYRange(-0.6, max(len(ids), 1) - 0.4, padding=0)
