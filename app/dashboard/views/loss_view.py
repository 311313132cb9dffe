"""Loss and accuracy curves, live.

Points arrive in batches from the dashboard's frames; each curve is one PlotCurveItem created
once and updated with ``setData`` on at most ~800 points (``decimate``), so a long run costs
the same per frame as a short one; the accuracy markers grow by the new points only. The x
axis is in epochs (fractional for batches), so batch and epoch curves line up.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from .layout_helpers import caption, expanding, still_plot
from ..threads import gui_only

__all__ = ["LossView", "Series", "EMA_HALF_LIFE_EPOCHS", "decimate"]

#: The series on the loss plot (the ones the log scale applies to).
LOSS_SERIES = ("batch_raw", "batch_ema", "train_epoch", "val_epoch", "follow_train",
               "follow_val")

#: Smoothing of the batch loss, in batches (not snapshots, which skip batches at fast rates):
#: the average forgets half of its past every quarter epoch (at least every 5 batches).
EMA_HALF_LIFE_EPOCHS = 0.25
#: Points drawn per curve at most (a loss plot is a few hundred pixels wide).
MAX_POINTS = 800

BLUE, ORANGE, GREEN, GREY = "#3A7BD5", "#E07A2E", "#2E9C6B", "#9AA3AE"


class Series:
    """A growing (x, y) buffer with amortized appends (no list → array copies per frame) that
    keeps its y extremes, so fitting the axes costs nothing per frame."""

    def __init__(self) -> None:
        self._x = np.empty(256)
        self._y = np.empty(256)
        self.clear()

    def append(self, x: float, y: float) -> None:
        if self.n == len(self._x):
            self._x = np.resize(self._x, 2 * self.n)
            self._y = np.resize(self._y, 2 * self.n)
        self._x[self.n], self._y[self.n] = x, y
        self.n += 1
        if math.isfinite(y):
            self.lo, self.hi = min(self.lo, y), max(self.hi, y)
            if y > 0:
                self.pos_lo = min(self.pos_lo, y)

    def clear(self) -> None:
        self.n = 0
        self.lo = self.pos_lo = math.inf
        self.hi = -math.inf

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.n]


def decimate(x: np.ndarray, y: np.ndarray, peaks: bool = False, limit: int = MAX_POINTS
             ) -> tuple[np.ndarray, np.ndarray]:
    """At most ~``limit`` points to draw (a long run has far more batches than pixels):
    every k-th point, or with ``peaks`` each block's min and max so the noise band stays."""
    n = len(x)
    if n <= limit:
        return x, y
    k = int(math.ceil(n / (limit / (2 if peaks else 1))))
    m = n // k * k
    if not peaks:
        return x[:m:k], y[:m:k]
    blocks = y[:m].reshape(-1, k)
    xs = np.repeat(x[:m:k], 2)
    ys = np.stack([blocks.min(axis=1), blocks.max(axis=1)], axis=1).reshape(-1)
    return xs, ys


def _plot(left: str, bottom: str | None) -> pg.PlotWidget:
    # No titles or in-plot legends: in a dock they would cover the curves. The legend is one
    # coloured line of text under the plots.
    plot = still_plot(left, bottom)
    item = plot.getPlotItem()
    item.setDownsampling(auto=True, mode="peak")
    # Ranges are set by LossView, not auto-ranged per frame: a range that changes makes
    # pyqtgraph regenerate both axes, which costs more than drawing the curves.
    item.disableAutoRange()
    for axis in ("left", "bottom"):   # ticks outside: the axes stay out of the curves'
        item.getAxis(axis).setStyle(tickLength=5)   # repaint region (a fifth of each frame)
    return plot


def _curve(plot: pg.PlotWidget, pen) -> pg.PlotCurveItem:
    item = pg.PlotCurveItem(pen=pen, skipFiniteCheck=True)
    plot.addItem(item)
    return item


def _key(color: str, mark: str, text: str) -> str:
    return f'<span style="color:{color}">{mark}</span>&nbsp;{text}'


class LossView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossView")
        self.task = "classification"
        self.loss_plot = _plot("loss", None)
        self.acc_plot = _plot("acc. %", "epoch")   # same x range, set together (no link:
        #                                                 a link repaints it every frame)
        lp, ap = self.loss_plot.getPlotItem(), self.acc_plot.getPlotItem()
        pen = lambda color, width=2, style=Qt.PenStyle.SolidLine: pg.mkPen(  # noqa: E731
            color, width=width, style=style)
        # Every curve is a bare PlotCurveItem: setData on one is several times cheaper than
        # on a PlotDataItem, and a frame sets several. (So the log scale is applied here, to
        # the data: PlotCurveItems have no log mode of their own.)
        # 1-px pens on the batch curves: Qt strokes wider lines through a path stroker
        # several times slower, and it paints while holding the interpreter lock the
        # training thread needs.
        dash = Qt.PenStyle.DashLine
        self.batch_raw = _curve(lp, pen("#C3C8CF", 1))
        self.batch_ema = _curve(lp, pen(BLUE, 1))
        # No markers on the loss plot: it repaints every frame and markers would cost a
        # third of each (the accuracy plot, changed once an epoch, keeps them).
        self.train_epoch = _curve(lp, pen(GREEN, 3))
        self.val_epoch = _curve(lp, pen(ORANGE, 3))
        self.follow_train = _curve(lp, pen(GREEN, 2, dash))
        self.follow_val = _curve(lp, pen(ORANGE, 2, dash))
        self.train_acc = _curve(ap, pen(GREEN))
        self.val_acc = _curve(ap, pen(ORANGE))
        self.follow_acc = _curve(ap, pen(ORANGE, 2, dash))
        # Markers grow by the new points only (setData would rebuild every marker).
        self._marks = {"train_acc": pg.ScatterPlotItem(symbol="o", size=6, pen=None,
                                                       brush=GREEN),
                       "val_acc": pg.ScatterPlotItem(symbol="s", size=6, pen=None,
                                                     brush=ORANGE)}
        self._marked = {name: 0 for name in self._marks}
        for mark in self._marks.values():
            ap.addItem(mark)
        self.legend = caption("", "lossLegend")
        self._set_legend(followed=False)
        self.series = {name: Series() for name in (
            "batch_raw", "batch_ema", "train_epoch", "val_epoch", "train_acc", "val_acc",
            "follow_train", "follow_val", "follow_acc")}
        self._items = {name: getattr(self, name) for name in self.series}
        self._dirty: set[str] = set()
        self._ema: float | None = None
        self._ema_step = 0
        self.epochs_target = 1
        self._ranges: dict[str, tuple] = {}

        # The latest numbers go in one line under the plots (titles stay short: docks are small).
        self.summary = caption("Press Train to see the loss fall.", "lossSummary")
        # Fixed height: a text that wrapped to another line count would resize the plots,
        # and a resized plot redraws its axes from scratch.
        self.summary.setFixedHeight(2 * self.summary.fontMetrics().lineSpacing() + 2)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis: late, small "
                                  "improvements stay visible")
        self.log_scale.toggled.connect(self._log_toggled)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.log_scale, 0, Qt.AlignmentFlag.AlignTop)
        split = expanding(QSplitter(Qt.Orientation.Vertical))
        split.addWidget(self.loss_plot)
        split.addWidget(self.acc_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

    def _set_legend(self, followed: bool) -> None:
        keys = [_key("#C3C8CF", "━", "batch"), _key(BLUE, "━", "smoothed"),
                _key(GREEN, "▬", "train (epoch)"), _key(ORANGE, "▬", "validation")]
        if followed:
            keys.append(_key(GREY, "┅", "background run (dashed)"))
        self.legend.setText(" &nbsp; ".join(keys))

    def _log_toggled(self, on: bool) -> None:
        item = self.loss_plot.getPlotItem()
        item.setLogMode(y=on)        # the axis; the curves get log10 data from flush()
        item.disableAutoRange()      # setLogMode turns auto-range back on (and applies it)
        self._ranges.pop("loss", None)
        self._ranges.pop("x", None)
        self._dirty.update(self.series)
        self.flush()

    # --- data --------------------------------------------------------------------------------
    def reset(self, task: str = "classification", epochs: int = 1) -> None:
        """A new run: clear the live curves (a followed run stays)."""
        self.task = task
        self.epochs_target = max(1, int(epochs))
        self._ranges.clear()
        for name in ("batch_raw", "batch_ema", "train_epoch", "val_epoch", "train_acc",
                     "val_acc"):
            self.series[name].clear()
            self._dirty.add(name)
        self._ema = None
        regression = task == "regression"
        self.acc_plot.getPlotItem().setLabel("left", "MAE" if regression else "acc. %")
        self.summary.setText("Training…")
        self.flush()

    def add_batches(self, snaps) -> None:
        for s in snaps:
            x = (s.epoch - 1) + s.batch / max(s.batches, 1)
            if not np.isfinite(s.loss):
                continue
            if self._ema is None:
                self._ema = s.loss
            else:
                half_life = max(5.0, EMA_HALF_LIFE_EPOCHS * s.batches)
                alpha = 1.0 - 0.5 ** (max(s.step - self._ema_step, 1) / half_life)
                self._ema += alpha * (s.loss - self._ema)
            self._ema_step = s.step
            self.series["batch_raw"].append(x, s.loss)
            self.series["batch_ema"].append(x, self._ema)
        if snaps:
            self._dirty.update(("batch_raw", "batch_ema"))

    def add_epochs(self, snaps) -> None:
        for e in snaps:
            self.series["train_epoch"].append(e.epoch, e.train_loss)
            self.series["val_epoch"].append(e.epoch, e.val_loss)
            if self.task == "regression":
                if e.val_mae is not None:
                    self.series["val_acc"].append(e.epoch, e.val_mae)
            else:
                if e.train_acc is not None:
                    self.series["train_acc"].append(e.epoch, 100 * e.train_acc)
                if e.val_acc is not None:
                    self.series["val_acc"].append(e.epoch, 100 * e.val_acc)
            self.summary.setText(self._describe(e))
        if snaps:
            self._dirty.update(("train_epoch", "val_epoch", "train_acc", "val_acc"))

    @staticmethod
    def _describe(e) -> str:
        text = f"Epoch {e.epoch} · loss train {e.train_loss:.3f} / validation {e.val_loss:.3f}"
        if e.val_acc is not None:
            text += f" · accuracy {100 * e.val_acc:.1f} %"
        elif e.val_mae is not None:
            text += f" · MAE {e.val_mae:,.4g}"
        return text

    def set_history(self, task: str, rows) -> None:
        """Epoch curves of a loaded run (its batch losses are not kept)."""
        self.reset(task, len(rows))
        self.add_epochs(rows)
        if not rows:
            self.summary.setText("Press Train to see the loss fall.")
        self.flush()

    def set_followed(self, rows: list[dict], reset: bool = False) -> None:
        """Epoch rows of a background run followed through its metrics file."""
        names = ("follow_train", "follow_val", "follow_acc")
        if reset:
            for name in names:
                self.series[name].clear()
        for row in rows:
            epoch = row.get("epoch")
            for name, key, scale in (("follow_train", "train_loss", 1), ("follow_val",
                                     "val_loss", 1), ("follow_acc", "val_acc", 100)):
                value = row.get(key)
                if epoch is not None and value is not None:
                    self.series[name].append(epoch, scale * value)
        self._set_legend(followed=any(self.series[n].n for n in names))
        self._dirty.update(names)
        self.flush()

    # --- drawing -----------------------------------------------------------------------------
    @gui_only
    def flush(self) -> None:
        """Push changed series into their items (called once per dashboard frame)."""
        if not self._dirty or not self.isVisible():
            return
        log = self.log_scale.isChecked()
        for name in self._dirty:
            s = self.series[name]
            x, y = decimate(s.x, s.y, peaks=name == "batch_raw")
            if log and name in LOSS_SERIES:
                keep = y > 0
                x, y = x[keep], np.log10(y[keep])
            self._items[name].setData(x, y)
            if name in self._marks:
                self._mark(name, x, y, decimated=len(x) < s.n)
        self._dirty.clear()
        self._fit_ranges()

    def _mark(self, name: str, x: np.ndarray, y: np.ndarray, decimated: bool) -> None:
        mark, done = self._marks[name], self._marked[name]
        if decimated or len(x) < done:          # cleared, or thinned: draw them anew
            mark.setData(x=x, y=y)
        elif len(x) > done:
            mark.addPoints(x=x[done:], y=y[done:])
        self._marked[name] = len(x)

    def set_epochs_target(self, epochs: int) -> None:
        """The run's target: the x axis spans it from the start (it never jumps per frame)."""
        self.epochs_target = max(1, int(epochs))

    def _fit_ranges(self) -> None:
        """Set x/y ranges only when the data leaves them (or is lost inside them)."""
        def extremes(names, log=False):
            parts = [self.series[n] for n in names if self.series[n].n]
            lo = min((s.pos_lo if log else s.lo for s in parts), default=math.inf)
            hi = max((s.hi for s in parts), default=-math.inf)
            return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None

        last_x = max((float(self.series[n].x[-1]) for n in self.series if self.series[n].n),
                     default=0.0)
        x = (0.0, max(float(self.epochs_target), math.ceil(last_x)))
        if self._ranges.get("x") != x:
            self._ranges["x"] = x
            for plot in (self.loss_plot, self.acc_plot):
                plot.getPlotItem().setXRange(*x, padding=0.02)
        log = self.log_scale.isChecked()
        loss = extremes(LOSS_SERIES, log)
        if loss is not None:
            lo, hi = (math.log10(loss[0]), math.log10(loss[1])) if log else (0.0, loss[1])
            old = self._ranges.get("loss")
            # Grow at once; shrink only when the data fills under half the height.
            if old is None or hi > old[1] or lo < old[0] or (hi - lo) < 0.5 * (old[1] - old[0]):
                span = max(hi - lo, 1e-6)
                new = (lo - 0.05 * span if log else 0.0, hi + 0.05 * span)
                self._ranges["loss"] = new
                self.loss_plot.getPlotItem().setYRange(*new, padding=0)
        acc = extremes(("train_acc", "val_acc", "follow_acc"))
        if acc is not None:
            if self.task == "regression":
                new = (0.0, acc[1] * 1.1 or 1.0)
            else:
                new = (max(0.0, math.floor((acc[0] - 5) / 10) * 10), 100.0)
            if self._ranges.get("acc") != new:
                self._ranges["acc"] = new
                self.acc_plot.getPlotItem().setYRange(*new, padding=0.02)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty.update(self.series)
        self.flush()

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The data an item shows now (tests read it back)."""
        x, y = self._items[name].getData()
        return (np.asarray([]) if x is None else np.asarray(x),
                np.asarray([]) if y is None else np.asarray(y))
