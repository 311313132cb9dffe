"""The Training panel's "Watch it learn" box: slow motion (a delay after every batch, so a
one-second run can be watched batch by batch) and the learning-rate range test (≤ 100
batches from the project's initial weights, loss against lr, a suggested value with a button
that uses it — one undoable edit).

It only draws what the project state holds (``choices.delay``, ``insight.lr_find``) and asks
through commands ("delay:S", "lr_find", "set_lr:LR"); the engine computes the test
(engine/training/lr_finder.py) in the worker.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from layerlab.engine.formatting import plain_number

from .layout_helpers import caption, still_plot

__all__ = ["SpeedBox", "DELAYS"]

#: Slow motion: (label, seconds waited after every batch).
DELAYS = (("Full speed", 0.0), ("0.1 s per batch", 0.1), ("0.3 s per batch", 0.3),
          ("1 s per batch", 1.0), ("3 s per batch", 3.0))


class SpeedBox(QGroupBox):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__("Watch it learn", parent)
        self.ctx, self.state = ctx, ctx.state
        self.delay = QComboBox()
        self.delay.setObjectName("slowMotion")
        for label, seconds in DELAYS:
            self.delay.addItem(label, seconds)
        self.delay.setToolTip("Slow motion: wait after every batch, so a run of a second can "
                              "be watched — the curves, the maps and the Batch view move "
                              "batch by batch. Takes effect at once, also mid-run.")
        self.delay.activated.connect(
            lambda i: ctx.command(f"delay:{self.delay.itemData(i)!r}"))
        self.find_button = QPushButton("Find a learning rate")
        self.find_button.setObjectName("lrFindButton")
        self.find_button.setToolTip("The learning-rate range test: up to 100 batches with the "
                                    "rate growing from 1e-7 to 10, from the project's initial "
                                    "weights (nothing is kept). Loss against lr, and the rate "
                                    "where it falls steepest.")
        self.find_button.clicked.connect(lambda: ctx.command("lr_find"))
        self.plot = still_plot("loss", "learning rate (log)")
        self.plot.setObjectName("lrFindPlot")
        self.plot.setFixedHeight(170)        # the panel scrolls: the plot must not grow
        item = self.plot.getPlotItem()
        item.setLogMode(x=True)
        self.curve = item.plot(pen=pg.mkPen("#3A7BD5", width=2))
        self.mark = pg.InfiniteLine(angle=90, pen=pg.mkPen("#2E9C6B", width=2,
                                                           style=Qt.PenStyle.DashLine))
        item.addItem(self.mark)
        self.mark.hide()
        self.text = caption(name="lrFindText")
        self.use_button = QPushButton()
        self.use_button.setObjectName("lrFindUse")
        self.use_button.clicked.connect(self._use)
        row = QHBoxLayout()
        row.addWidget(QLabel("Slow motion"))
        row.addWidget(self.delay, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.find_button)
        layout.addWidget(self.plot)
        layout.addWidget(self.text)
        layout.addWidget(self.use_button)
        self._suggestion: float | None = None
        self._shown = None
        self.draw()

    def _use(self) -> None:
        if self._suggestion is not None:
            self.ctx.command(f"set_lr:{self._suggestion!r}")

    def draw(self) -> None:
        state = self.state
        k = self.delay.findData(float(state.choices.delay))
        if k >= 0 and k != self.delay.currentIndex():
            self.delay.setCurrentIndex(k)
        self.find_button.setEnabled(state.worker.ready and state.run.status in ("idle",
                                                                                 "paused"))
        test = state.insight.lr_find
        error = state.results.errors.get("lr_find")
        key = (id(test), len(test.lrs) if test is not None else 0, error)
        if key == self._shown:
            return
        self._shown = key
        self._suggestion = None
        if test is None and error is None:
            self.plot.hide()
            self.text.setText("Not sure which learning rate? The range test tries them all "
                              "in one short run.")
            self.use_button.hide()
            self.mark.hide()
            return
        self.plot.show()
        lrs = np.asarray(test.lrs if test is not None else (), dtype=float)
        losses = np.asarray(test.losses if test is not None else (), dtype=float)
        keep = np.isfinite(losses) & (lrs > 0)
        self.curve.setData(lrs[keep], losses[keep])
        if keep.any():
            # Up to half again the first loss: the blow-up at the end would squash the dip.
            y = losses[keep]
            top = min(float(y.max()), 1.5 * float(y[0]) if y[0] > 0 else float(y.max()))
            bottom = float(y.min())
            span = max(top - bottom, 1e-6)
            self.plot.getPlotItem().setYRange(bottom - 0.05 * span, top + 0.05 * span,
                                              padding=0)
        result = test.result if test is not None else None
        if error is not None or (test is not None and test.error):
            self.text.setText(f"The range test failed: {error or test.error}")
            self.use_button.hide()
            self.mark.hide()
        elif result is None:
            self.text.setText(f"Range test: batch {len(lrs)} of {test.batches}…")
            self.use_button.hide()
            self.mark.hide()
        else:
            # Three significant digits, as the learning-rate field keeps it.
            self._suggestion = (float(f"{result.suggestion:.3g}")
                                if result.suggestion is not None else None)
            reason = result.reason[:1].upper() + result.reason[1:]
            self.text.setText(f"{reason}." if not reason.endswith(".") else reason)
            if self._suggestion is not None:
                self.mark.setValue(np.log10(result.suggestion))
                self.mark.show()
                self.use_button.setText(f"Use learning rate {plain_number(self._suggestion)}")
                self.use_button.show()
            else:
                self.mark.hide()
                self.use_button.hide()
