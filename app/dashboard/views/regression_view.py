"""Regression, in the target's own units: every validation sample's prediction against its true
value (on the diagonal = right), and the residuals (predicted − actual) — with the axes
written as a person writes numbers (421,900, not 4.219e+05) and named after the column.

Drawn from the validation pass after each epoch (EvalSnapshot.predicted / actual, which the
engine un-standardizes); weights opened from disk get one too.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from layerlab.engine.formatting import plain_number

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .layout_helpers import caption, column, expanding, still_plot

__all__ = ["RegressionView", "PlainAxis"]

#: Points drawn at most (a scatter of a large validation set stays fast).
MAX_POINTS = 5000


class PlainAxis(pg.AxisItem):
    """Ticks in plain numbers with thousands separators, never an exponent or an SI prefix."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [plain_number(v * scale, 3) for v in values]


class RegressionView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("regressionView")
        self.ctx, self.state = ctx, ctx.state
        self.target = QComboBox()
        self.target.setObjectName("regressionTarget")
        self.target.activated.connect(lambda _i: (self.render({"evaluation"}), self.flush()))
        self.scatter_plot = still_plot(axis_items={"left": PlainAxis("left"),
                                                   "bottom": PlainAxis("bottom")})
        self.scatter_plot.setObjectName("regressionScatter")
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush("#3A7BD5AA"))
        self.diagonal = pg.PlotCurveItem(pen=pg.mkPen("#9AA3AE", width=1,
                                                      style=Qt.PenStyle.DashLine))
        self.scatter_plot.addItem(self.diagonal)
        self.scatter_plot.addItem(self.scatter)
        self.residual_plot = still_plot("samples", axis_items={"bottom": PlainAxis("bottom")})
        self.residual_plot.setObjectName("regressionResiduals")
        self.residual_bars = pg.BarGraphItem(x=[], height=[], width=1,
                                             brush=pg.mkBrush("#E07A2E"))
        self.residual_plot.addItem(self.residual_bars)
        self.zero = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#9AA3AE", width=1))
        self.residual_plot.addItem(self.zero)
        split = expanding(QSplitter(Qt.Orientation.Horizontal))
        split.addWidget(self.scatter_plot)
        split.addWidget(self.residual_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.caption = caption(name="regressionCaption")
        top = QHBoxLayout()
        top.addWidget(QLabel("Target"))
        top.addWidget(self.target, 1)
        self.body = EmptyState(column(top, split, self.caption, grow=split), "regressionEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.body, 1)
        self._shown = None
        self.render()

    def draw(self, _topics: frozenset) -> None:
        state = self.state
        snap = state.results.evaluation
        note = self._empty_note(snap)
        if note is not None:
            self._shown = None
            self.scatter.setData(x=[], y=[])
            self.body.show_note(note)
            return
        self.body.show_content()
        names = list(snap.target_names) or [f"target {i}" for i in
                                            range(np.asarray(snap.predicted).shape[1])]
        if [self.target.itemText(i) for i in range(self.target.count())] != names:
            self.target.blockSignals(True)
            self.target.clear()
            self.target.addItems(names)
            self.target.blockSignals(False)
        t = max(self.target.currentIndex(), 0)
        key = (id(snap), t)
        if key == self._shown:
            return
        self._shown = key
        predicted = np.asarray(snap.predicted, dtype=np.float64)
        actual = np.asarray(snap.actual, dtype=np.float64)
        predicted = predicted.reshape(len(predicted), -1)[:, t]
        actual = actual.reshape(len(actual), -1)[:, t]
        name = names[t]
        keep = slice(0, MAX_POINTS)
        self.scatter.setData(x=actual[keep], y=predicted[keep])
        lo = float(min(actual.min(), predicted.min()))
        hi = float(max(actual.max(), predicted.max()))
        self.diagonal.setData([lo, hi], [lo, hi])
        item = self.scatter_plot.getPlotItem()
        item.setLabel("bottom", f"actual {name}")
        item.setLabel("left", f"predicted {name}")
        pad = 0.03 * (hi - lo or 1.0)
        item.setXRange(lo - pad, hi + pad, padding=0)
        item.setYRange(lo - pad, hi + pad, padding=0)
        residuals = predicted - actual
        counts, edges = np.histogram(residuals, bins=30)
        self.residual_bars.setOpts(x=(edges[:-1] + edges[1:]) / 2, height=counts,
                                   width=float(edges[1] - edges[0]) * 0.9)
        r_item = self.residual_plot.getPlotItem()
        r_item.setLabel("bottom", f"predicted − actual {name}")
        r_item.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        r_item.setYRange(0, float(counts.max()) * 1.05 or 1.0, padding=0)
        mae = float(np.abs(residuals).mean())
        bias = float(residuals.mean())
        self.caption.setText(
            f"Epoch {snap.epoch}, {len(actual):,} validation samples: on the dashed diagonal "
            f"the prediction is exactly right. Mean absolute error {plain_number(mae)} "
            f"({name}); on average it predicts {plain_number(abs(bias))} "
            f"{'too high' if bias > 0 else 'too low'}.")

    def _empty_note(self, snap) -> str | None:
        state = self.state
        if state.task == "classification":
            names = state.class_names
            what = f"{len(names)} classes" if names else "classes"
            return (f"Predicted against actual values is for regression; this project "
                    f"classifies into {what} — the Confusion matrix shows how it does.")
        if snap is None or snap.predicted is None or snap.actual is None:
            target = ", ".join(state.dataset.target_names) if state.dataset is not None and \
                state.dataset.target_names else "the target"
            loading = "" if state.worker.ready else " (PyTorch is loading…)"
            return (f"After each epoch: every validation sample's predicted {target} against "
                    f"its true value, in {target}'s own units, and how far off the "
                    f"predictions are. Press Train (Ctrl+T).{loading}")
        return None
