"""The inspector of an activation layer: its function f(x) and derivative f′(x) over the range
its inputs actually take, with how those inputs are spread (a histogram under the curves) —
so "ReLU zeroes the negatives" becomes "43 % of what relu1 receives is negative: those
outputs are 0, and so is their gradient".

The numbers come from the worker (request "activation_curve", engine/explain/curves.py): on
the trained weights when they fit the canvas, else on fresh weights over the dataset, else the
bare function over −4…4. The widget only draws what the project state holds for its node.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QVBoxLayout

from layerlab.engine.formatting import plain_number

from .layout_helpers import caption, still_plot

__all__ = ["ActivationPlot", "has_curve", "NOT_A_CURVE"]

#: Activation-group layers that are not one function of one number (they mix a vector).
NOT_A_CURVE = frozenset({"Softmax", "LogSoftmax", "Softmin", "GLU"})


def has_curve(spec_group: str, node_type: str) -> bool:
    """Whether a layer's inspector shows the activation plot."""
    return spec_group == "Activation" and node_type not in NOT_A_CURVE


class ActivationPlot(QGroupBox):
    def __init__(self, state, node: str, graph_key: str, parent=None) -> None:
        super().__init__("Over the inputs it receives", parent)
        self.setObjectName("activationPlot")
        self.state, self.node, self.graph_key = state, node, graph_key
        self.plot = still_plot(None, "input x")
        self.plot.setObjectName("activationCurve")
        self.plot.setFixedHeight(190)
        item = self.plot.getPlotItem()
        self.bars = pg.BarGraphItem(x=[], height=[], width=1, brush=pg.mkBrush(154, 163, 174,
                                                                                90), pen=None)
        item.addItem(self.bars)
        self.f = item.plot(pen=pg.mkPen("#3A7BD5", width=2))
        self.df = item.plot(pen=pg.mkPen("#E07A2E", width=2, style=Qt.PenStyle.DashLine))
        self.zero = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#9AA3AE", width=1))
        item.addItem(self.zero)
        self.legend = caption(name="activationLegend")
        self.legend.setText('<span style="color:#3A7BD5">━</span>&nbsp;f(x) &nbsp; '
                            '<span style="color:#E07A2E">┅</span>&nbsp;f′(x) &nbsp; '
                            '<span style="color:#9AA3AE">█</span>&nbsp;inputs seen')
        self.text = caption(name="activationText")
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot)
        layout.addWidget(self.legend)
        layout.addWidget(self.text)
        self.data = None
        self.draw()

    def answer(self) -> dict | None:
        """The worker's curve for this node and graph, or None (not yet)."""
        data = self.state.results.extra.get("activation_curve")
        if isinstance(data, dict) and data.get("node") == self.node \
                and data.get("graph_key") == self.graph_key:
            return data
        return None

    def draw(self) -> None:
        data = self.answer()
        error = self.state.results.errors.get("activation_curve")
        if data is None:
            self.data = None
            self.f.setData([], [])
            self.df.setData([], [])
            self.bars.setOpts(x=[], height=[], width=1)
            self.text.setText(f"Could not plot it: {error}" if error else
                              "Measuring the inputs it receives…")
            return
        if data is self.data:
            return
        self.data = data
        x, y, dy = (np.asarray(data[k], dtype=float) for k in ("x", "y", "dy"))
        self.f.setData(x, y)
        self.df.setData(x, dy)
        counts, edges = data.get("counts"), data.get("edges")
        top = max(float(np.nanmax(y)) if len(y) else 1.0, float(np.nanmax(dy)) if len(dy)
                  else 1.0, 1.0)
        if counts is not None and edges is not None and len(counts):
            counts, edges = np.asarray(counts, dtype=float), np.asarray(edges, dtype=float)
            scale = 0.9 * top / max(counts.max(), 1.0)
            self.bars.setOpts(x=(edges[:-1] + edges[1:]) / 2, height=counts * scale,
                              width=float(edges[1] - edges[0]) if len(edges) > 1 else 1.0)
        else:
            self.bars.setOpts(x=[], height=[], width=1)
        self.plot.getPlotItem().enableAutoRange()
        self.text.setText(self._describe(data))

    def _describe(self, data: dict) -> str:
        low, high = plain_number(data["low"]), plain_number(data["high"])
        basis = data.get("basis")
        if basis == "none" or not data.get("samples"):
            why = f" ({data['why']})" if data.get("why") else ""
            return (f"{data['type']} over {low} … {high}: no inputs measured yet{why}. Train "
                    f"the network, or fix what stops it from building, to see the range its "
                    f"inputs really take.")
        weights = "the trained weights" if basis == "trained" else \
            "freshly initialized weights (not trained yet)"
        text = (f"{self.node} receives values from {low} to {high} on {data['samples']} "
                f"validation samples, with {weights}.")
        share = data.get("share_negative")
        if isinstance(share, (int, float)) and math.isfinite(share):
            text += f" {100 * share:.0f} % of them are negative"
            if data["type"] in ("ReLU", "ReLU6"):
                text += ": there it outputs 0, and its gradient (f′) is 0 — nothing learns " \
                        "through them."
            else:
                text += "."
        return text
