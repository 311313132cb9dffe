"""Loss and accuracy curves, live — drawn from the project state's curves (state/curves.py).

Each curve is one PlotCurveItem created once and updated with ``setData`` on at most ~800
points (``decimate``), so a long run costs the same per frame as a short one; a series is
redrawn only when its version moved; the accuracy markers grow by the new points only. The x
axis is in epochs (fractional for batches), so batch and epoch curves line up.

The gap between the training and validation epoch curves is shaded (overfitting made
visible: a widening band), and the line under the plots says how wide it is in the last
epoch (engine ``train_val_gap``). A learning rate changed mid-run leaves a dashed marker
("lr 0.01 → 0.001") where it happened. "Batch axis" puts the optimizer step on x instead of
the epoch, so single Steps and slow motion move the curves visibly. For regression on standardized targets the loss axis
says so (engine ``loss_label``) and the MAE is written in the target's units.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from layerlab.engine.formatting import plain_number
from layerlab.engine.training.snapshots import loss_label, train_val_gap

from ..state.curves import FOLLOW_SERIES, LIVE_SERIES, LOSS_SERIES
from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .layout_helpers import caption, expanding, still_plot, wraps_within

__all__ = ["LossView", "decimate", "MAX_POINTS"]

#: Points drawn per curve at most (a loss plot is a few hundred pixels wide).
MAX_POINTS = 800

BLUE, ORANGE, GREEN, GREY = "#3A7BD5", "#E07A2E", "#2E9C6B", "#9AA3AE"
SERIES = LIVE_SERIES + FOLLOW_SERIES


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


class LossView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossView")
        self.state = ctx.state
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
        # several times slower.
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
        # The train/validation gap, shaded between the epoch curves (it follows their data).
        self.loss_gap = pg.FillBetweenItem(self.train_epoch, self.val_epoch,
                                           brush=pg.mkBrush(224, 122, 46, 45))
        self.acc_gap = pg.FillBetweenItem(self.train_acc, self.val_acc,
                                          brush=pg.mkBrush(224, 122, 46, 45))
        lp.addItem(self.loss_gap)
        ap.addItem(self.acc_gap)
        self._marker_lines: list = []
        self._markers_drawn = None
        self._marks_axis: bool | None = None   # the x axis the accuracy markers were put on
        self._loss_label = "loss"
        self.legend = caption("", "lossLegend")
        self._legend_followed: bool | None = None
        self._items = {name: getattr(self, name) for name in SERIES}
        # What each item shows: (series version, log scale) of the state's curves object —
        # a render cache; another curves object (a new project) redraws everything.
        self._curves = None
        self._drawn: dict[str, tuple] = {}
        self._ranges: dict[str, tuple] = {}
        self._acc_label = ""
        self._summary_fitted: tuple | None = None   # (text, width, height) last fitted

        # The latest numbers go in one line under the plots (titles stay short: docks are small).
        self.summary = caption("", "lossSummary")
        # Fixed height: a text that wrapped to another line count would resize the plots,
        # and a resized plot redraws its axes from scratch.
        self.summary.setFixedHeight(2 * self.summary.fontMetrics().lineSpacing() + 2)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis: late, small "
                                  "improvements stay visible")
        self.log_scale.toggled.connect(self._log_toggled)
        self.batch_axis = QCheckBox("Batch axis")
        self.batch_axis.setObjectName("lossBatchAxis")
        self.batch_axis.setToolTip("Put the optimizer step (batch) on the x axis instead of "
                                   "the epoch: a single Step moves the curves by one")
        self.batch_axis.toggled.connect(
            lambda on: ctx.choose(axis="batch" if on else "epoch"))
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.batch_axis, 0, Qt.AlignmentFlag.AlignTop)
        bottom.addWidget(self.log_scale, 0, Qt.AlignmentFlag.AlignTop)
        split = expanding(QSplitter(Qt.Orientation.Vertical))
        split.addWidget(self.loss_plot)
        split.addWidget(self.acc_plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        plots = QWidget()
        pl = QVBoxLayout(plots)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(2)
        pl.addWidget(self.legend)
        pl.addWidget(split, 1)
        pl.addLayout(bottom)
        self.body = EmptyState(plots, "lossEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.body)
        self.render()

    def _set_legend(self, followed: bool) -> None:
        if followed == self._legend_followed:
            return
        self._legend_followed = followed
        keys = [_key("#C3C8CF", "━", "batch"), _key(BLUE, "━", "smoothed"),
                _key(GREEN, "▬", "train (epoch)"), _key(ORANGE, "▬", "validation"),
                _key("#E8B58F", "█", "gap")]
        if followed:
            keys.append(_key(GREY, "┅", "background run (dashed)"))
        self.legend.setText(" &nbsp; ".join(keys))

    def _log_toggled(self, on: bool) -> None:
        item = self.loss_plot.getPlotItem()
        item.setLogMode(y=on)        # the axis; the curves get log10 data from flush()
        item.disableAutoRange()      # setLogMode turns auto-range back on (and applies it)
        self._ranges.clear()
        self.render()
        self.flush()

    # --- drawing -----------------------------------------------------------------------------
    def draw(self, _topics: frozenset) -> None:
        """Draw what changed in the state's curves (called by the dashboard's frames)."""
        state = self.state
        curves = state.curves
        batches = self._batch_axis()         # the checkbox follows the state, empty or not
        self._draw_markers(curves)           # none left of another project's run
        note = self._empty_note()
        if note is not None:
            self.body.show_note(note)
            return
        self.body.show_content()
        regression = state.task == "regression"
        label = "MAE" if regression else "acc. %"
        if label != self._acc_label:
            self._acc_label = label
            self.acc_plot.getPlotItem().setLabel("left", label)
        info = state.run.info if state.run.info is not None else state.session
        loss_text = loss_label(info) if getattr(info, "loss", "") else "loss"
        if loss_text != self._loss_label:
            self._loss_label = loss_text
            # "loss (mse on standardized price)" runs off a short plot's side: two lines.
            self.loss_plot.getPlotItem().setLabel("left", loss_text.replace(" on ", "<br>on ", 1))
        if curves is not self._curves or batches != self._marks_axis:
            # Another project (or the first draw), or the other x axis: markers anew.
            self._curves, self._marks_axis = curves, batches
            self._drawn.clear()
            self._ranges.clear()
            for name, mark in self._marks.items():
                mark.setData(x=[], y=[])
                self._marked[name] = 0
        log = self.log_scale.isChecked()
        for name in SERIES:
            s = curves[name]
            key = (s.version, log, batches)
            if self._drawn.get(name) == key:
                continue
            self._drawn[name] = key
            x, y = (s.steps, s.y) if batches else (s.x, s.y)
            if batches:                       # a followed run's rows have no step
                keep = np.isfinite(x)
                x, y = x[keep], y[keep]
            x, y = decimate(x, y, peaks=name == "batch_raw")
            if log and name in LOSS_SERIES:
                keep = y > 0
                x, y = x[keep], np.log10(y[keep])
            self._items[name].setData(x, y)
            if name in self._marks:
                self._mark(name, x, y, decimated=len(x) < s.n)
        self._set_legend(curves.followed)
        self._fit_ranges()
        self._show_summary(self._describe())

    def _show_summary(self, text: str) -> None:
        """The summary in its two lines: the trailing " · " parts that do not fit are left
        out (the whole text is the tooltip), never cut off at the bottom. Measured again
        only when the text or the label's size changed (render runs at display rates)."""
        label = self.summary
        fitted = (text, label.width(), label.height())
        if fitted == self._summary_fitted:
            return
        self._summary_fitted = fitted
        parts = text.split(" · ")
        shown = text
        while len(parts) > 1 and not wraps_within(label, shown, label.height()):
            parts.pop()
            shown = " · ".join(parts) + " …"
        if label.text() != shown:
            label.setText(shown)
        label.setToolTip(text if shown != text else "")

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._summary_fitted is not None:
            self._show_summary(self._summary_fitted[0])

    def _empty_note(self) -> str | None:
        """The sentence shown instead of empty plots, or None when there is something."""
        state = self.state
        series = state.curves.series
        # A curve needs two points (one point of a 1-px line shows nothing); accuracy
        # markers show from one.
        drawable = any(s.n >= 2 for s in series.values()) or any(
            series[n].n for n in ("train_acc", "val_acc", "follow_acc"))
        if drawable or state.run.active:
            return None
        if state.run.outcome in ("diverged", "failed", "crashed"):
            final = state.run.final
            steps = f" after {final.step} step{'s' if final.step != 1 else ''}" \
                if final is not None else ""
            how = {"diverged": "Diverged", "failed": "Failed",
                   "crashed": "The training process ended"}[state.run.outcome]
            return (f"{how}{steps}, before there was a curve to draw: "
                    f"{state.run.outcome_message} See the Training panel.")
        if not state.worker.ready:
            return "Loading PyTorch… Then press Train (Ctrl+T): the loss falls here, batch " \
                   "by batch, with how well it does on the validation data under it."
        return "No training yet. Press Train (Ctrl+T): the loss falls here, batch by batch, " \
               "with how well it does on the validation data under it."

    def _describe(self) -> str:
        """The line under the plots: the last epoch, or what the run is doing."""
        state = self.state
        run = state.run
        last = run.last_epoch
        if last is None and state.session is not None and state.session.history \
                and not run.active:
            last = state.session.history[-1]
        if run.active and last is None:
            target = run.epochs or (run.info.epochs if run.info else 0)
            return (f"Training… epoch 1 of {target}" if target else "Training…")
        text = ""
        if last is not None:
            text = (f"Epoch {last.epoch} · loss train {last.train_loss:.3f} / validation "
                    f"{last.val_loss:.3f}")
            if last.val_acc is not None:
                text += f" · accuracy {100 * last.val_acc:.1f} %"
            elif last.val_mae is not None:
                text += f" · MAE {state.mae_text(last)}"
            gap = train_val_gap([last])[0]
            if gap.accuracy is not None and gap.accuracy > 0.005:
                text += f" · gap {100 * gap.accuracy:.1f} points"
            elif gap.loss is not None and gap.loss > 0 and last.val_acc is None:
                text += f" · validation − training loss {gap.loss:.3g}"
        if not run.active and run.outcome in ("diverged", "failed", "crashed", "stopped"):
            final = run.final
            where = f" at step {final.step:,}" if final is not None else ""
            if run.outcome == "crashed":     # the curves are those of the weights kept
                s = state.session
                kept = f"; kept: epoch {s.epoch}, step {s.step:,}" if s is not None else ""
                return f"Process ended{where}{kept}."
            ending = {"diverged": f"Diverged{where}: the loss became NaN or infinite",
                      "failed": f"Failed{where}", "stopped": f"Stopped{where}"}[run.outcome]
            text = f"{ending}. {text}" if text else f"{ending}."
        return text

    def _batch_axis(self) -> bool:
        """The x axis is the optimizer step (the person's choice, kept in the state)."""
        batches = self.state.choices.axis == "batch"
        if self.batch_axis.isChecked() != batches:
            self.batch_axis.blockSignals(True)
            self.batch_axis.setChecked(batches)
            self.batch_axis.blockSignals(False)
        label = "batch" if batches else "epoch"
        axis = self.acc_plot.getPlotItem().getAxis("bottom")
        if axis.labelText != label:
            axis.setLabel(label)
            self._ranges.pop("x", None)
        return batches

    def _draw_markers(self, curves) -> None:
        """A dashed line where the learning rate was changed mid-run."""
        key = (id(curves), curves.markers_version, self.state.choices.axis)
        if key == self._markers_drawn:
            return
        self._markers_drawn = key
        item = self.loss_plot.getPlotItem()
        for line in self._marker_lines:
            item.removeItem(line)
        self._marker_lines = []
        for event in curves.markers:
            if event.kind != "lr" or event.old is None or event.new is None:
                continue
            line = pg.InfiniteLine(
                pos=event.step if self.state.choices.axis == "batch" else event.at_epoch,
                angle=90,
                pen=pg.mkPen("#8E63CF", width=1, style=Qt.PenStyle.DashLine),
                label=f"lr {plain_number(event.old)} → {plain_number(event.new)}",
                labelOpts={"position": 0.85, "color": "#8E63CF"})
            item.addItem(line)
            self._marker_lines.append(line)

    def marker_labels(self) -> list[str]:
        """The markers' texts (tests read them back)."""
        return [line.label.toPlainText() for line in self._marker_lines]

    def _mark(self, name: str, x: np.ndarray, y: np.ndarray, decimated: bool) -> None:
        mark, done = self._marks[name], self._marked[name]
        if decimated or len(x) < done:          # cleared, or thinned: draw them anew
            mark.setData(x=x, y=y)
        elif len(x) > done:
            mark.addPoints(x=x[done:], y=y[done:])
        self._marked[name] = len(x)

    def _fit_ranges(self) -> None:
        """Set x/y ranges only when the data leaves them (or is lost inside them)."""
        series = self.state.curves.series

        def extremes(names, log=False):
            parts = [series[n] for n in names if series[n].n]
            lo = min((s.pos_lo if log else s.lo for s in parts), default=math.inf)
            hi = max((s.hi for s in parts), default=-math.inf)
            return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None

        curves = self.state.curves
        if self.state.choices.axis == "batch":
            last = [float(np.nanmax(series[n].steps)) for n in SERIES
                    if series[n].n and np.isfinite(series[n].steps).any()]
            last_x = max(last, default=0.0)
            x = (0.0, max(float(curves.epochs_target * curves.batches_per_epoch), last_x, 1.0))
        else:
            last_x = max((float(series[n].x[-1]) for n in SERIES if series[n].n), default=0.0)
            x = (0.0, max(float(curves.epochs_target), math.ceil(last_x)))
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
            if self.state.task == "regression":
                new = (0.0, acc[1] * 1.1 or 1.0)
            else:
                new = (max(0.0, math.floor((acc[0] - 5) / 10) * 10), 100.0)
            if self._ranges.get("acc") != new:
                self._ranges["acc"] = new
                self.acc_plot.getPlotItem().setYRange(*new, padding=0.02)

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The data an item shows now (tests read it back)."""
        x, y = self._items[name].getData()
        return (np.asarray([]) if x is None else np.asarray(x),
                np.asarray([]) if y is None else np.asarray(y))

    def empty_text(self) -> str:
        return self.body.text()
