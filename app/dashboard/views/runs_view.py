"""The project's run history: every run the worker recorded (engine RunRecorder, in the run
folder's runs/) as a table — lr, batch, optimizer, L1/L2, dropout, parameters, best
validation accuracy, time — and the curves of any runs ticked, overlaid, with the learning
rate changed mid-run marked on them (a dashed line, "lr 0.003 → 0.03").

Reading the records happens in the worker (request "runs", answered at once); the dashboard
asks when a project opens, when it is saved and after each run.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .layout_helpers import caption, column, expanding, still_plot

__all__ = ["RunsView", "COLORS", "METRICS"]

#: One colour per run, in table order (then again).
COLORS = ("#3A7BD5", "#E07A2E", "#2E9C6B", "#8E63CF", "#D93025", "#2E9C95", "#C99A12",
          "#6B7A90")
#: What the overlaid curves show: (history key, label, scale).
METRICS = (("val_acc", "validation accuracy %", 100.0), ("val_loss", "validation loss", 1.0),
           ("train_loss", "training loss", 1.0), ("val_mae", "validation MAE", 1.0))


class RunsView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsView")
        self.ctx, self.state = ctx, ctx.state
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("runsTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._ticked)
        self.metric = QComboBox()
        self.metric.setObjectName("runsMetric")
        self.metric.activated.connect(lambda _i: (self.render({"choices"}), self.flush()))
        self.plot = still_plot("", "epoch")
        self.plot.setObjectName("runsPlot")
        self.legend = caption(name="runsLegend")
        self.problems = caption(name="runsProblems")
        self.problems.setStyleSheet("color: #D93025;")
        self.folder = caption(name="runsFolder")
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare"))
        top.addWidget(self.metric, 1)
        curves = column(top, self.plot, self.legend, grow=self.plot)
        split = expanding(QSplitter(Qt.Orientation.Horizontal))
        split.addWidget(self.table)
        split.addWidget(curves)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])   # the table's 12 columns first (the curves shrink well)
        self.body = EmptyState(column(split, self.problems, self.folder, grow=split),
                               "runsEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.body, 1)
        self._items: list = []
        self._shown = None
        self._filling = False
        self.render()

    @property
    def runs(self) -> tuple:
        data = self.state.results.extra.get("runs")
        return tuple(data["runs"]) if data else ()

    def shown_ids(self) -> tuple[str, ...]:
        """The runs whose curves are overlaid: those ticked, else the newest two."""
        ids = [r["summary"]["run_id"] for r in self.runs]
        chosen = tuple(i for i in self.state.choices.runs_shown if i in ids)
        return chosen if chosen else tuple(ids[-2:])

    # --- the person ticks runs -----------------------------------------------------------------
    def _ticked(self, item) -> None:
        if self._filling or item.column() != 0:
            return
        ids = [r["summary"]["run_id"] for r in self.runs]
        ticked = tuple(ids[r] for r in range(self.table.rowCount())
                       if self.table.item(r, 0) is not None
                       and self.table.item(r, 0).checkState() == Qt.CheckState.Checked)
        self.ctx.choose(runs_shown=ticked)
        self.render({"choices"})
        self.flush()

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, _topics: frozenset) -> None:
        state = self.state
        data = state.results.extra.get("runs")
        runs = self.runs
        if not runs:
            self._shown = None
            self._clear_plot()
            where = (f" (kept in {data['folder']})" if data and data.get("folder") else "")
            problems = "; ".join(data["problems"]) if data and data.get("problems") else ""
            self.body.show_note(
                "Every run of this project is kept: its settings, curves and result. Train "
                "(Ctrl+T) and the run appears here; change the learning rate or the batch size "
                f"and train again to compare the curves side by side{where}."
                + (f" Not readable: {problems}" if problems else ""))
            return
        self.body.show_content()
        shown = self.shown_ids()
        key = (id(data), shown, self.metric.currentData())
        if key == self._shown:
            return
        self._shown = key
        self._fill_table(data, shown)
        self._fill_metrics(runs)
        self._draw_curves(runs, shown)
        self.problems.setText("Not readable: " + "; ".join(data["problems"])
                              if data.get("problems") else "")
        self.problems.setVisible(bool(data.get("problems")))
        self.folder.setText(f"{len(runs)} run{'s' if len(runs) != 1 else ''} in "
                            f"{data['folder']}. Tick runs to compare their curves.")

    def _fill_table(self, data, shown) -> None:
        headers, rows = data["table"]
        ids = [r["summary"]["run_id"] for r in self.runs]
        self._filling = True
        try:
            self.table.setColumnCount(len(headers))
            self.table.setHorizontalHeaderLabels(list(headers))
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    item = QTableWidgetItem(str(text))
                    if c == 0:
                        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                        item.setCheckState(Qt.CheckState.Checked if ids[r] in shown
                                           else Qt.CheckState.Unchecked)
                        item.setForeground(pg.mkColor(COLORS[r % len(COLORS)]))
                    if data["runs"][r]["summary"]["status"] in ("diverged", "failed",
                                                                 "interrupted"):
                        item.setToolTip(data["runs"][r]["summary"]["message"])
                    self.table.setItem(r, c, item)
        finally:
            self._filling = False

    def _fill_metrics(self, runs) -> None:
        regression = all(r["summary"]["task"] == "regression" for r in runs)
        wanted = [m for m in METRICS if (m[0] == "val_mae") == regression
                  or m[0] in ("val_loss", "train_loss")]
        names = runs[-1]["summary"].get("target_names") or ()
        keys = [m[0] for m in wanted]
        if [self.metric.itemData(i) for i in range(self.metric.count())] != keys:
            current = self.metric.currentData()
            self.metric.blockSignals(True)
            self.metric.clear()
            for key, label, _scale in wanted:
                if key == "val_mae" and names:
                    label += f" ({', '.join(names)})"
                self.metric.addItem(label, key)
            self.metric.setCurrentIndex(max(self.metric.findData(current), 0))
            self.metric.blockSignals(False)

    def _clear_plot(self) -> None:
        item = self.plot.getPlotItem()
        for old in self._items:
            item.removeItem(old)
        self._items = []

    def _draw_curves(self, runs, shown) -> None:
        self._clear_plot()
        item = self.plot.getPlotItem()
        key = self.metric.currentData()
        spec = next((m for m in METRICS if m[0] == key), METRICS[0])
        item.setLabel("left", self.metric.currentText())
        legend = []
        for r, run in enumerate(runs):
            summary = run["summary"]
            if summary["run_id"] not in shown:
                continue
            color = COLORS[r % len(COLORS)]
            rows = [h for h in run["history"] if isinstance(h.get(key), (int, float))]
            x = np.array([h["epoch"] for h in rows], dtype=float)
            y = np.array([h[key] * spec[2] for h in rows], dtype=float)
            curve = pg.PlotDataItem(x, y, pen=pg.mkPen(color, width=2), symbol="o",
                                    symbolSize=5, symbolBrush=color, symbolPen=None)
            item.addItem(curve)
            self._items.append(curve)
            for e in run["events"]:
                if e["kind"] != "lr":
                    continue
                line = pg.InfiniteLine(pos=e["at_epoch"], angle=90,
                                       pen=pg.mkPen(color, width=1,
                                                    style=Qt.PenStyle.DashLine),
                                       label=f"lr {e['old']:g} → {e['new']:g}",
                                       labelOpts={"position": 0.9, "color": color})
                item.addItem(line)
                self._items.append(line)
            lr = f"lr {summary['lr']:g}" + (f", changed {summary['lr_changes']}×"
                                            if summary["lr_changes"] else "")
            legend.append(f'<span style="color:{color}">━</span>&nbsp;#{r + 1}: {lr}, '
                          f'batch {summary["batch_size"]}, {summary["optimizer"]}')
        item.enableAutoRange()
        self.legend.setText(" &nbsp; ".join(legend))
