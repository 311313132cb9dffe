"""Confusion matrix of the validation set (after every epoch), per-class precision / recall /
F1, and a gallery of the validation images in a clicked cell — "which 4s does it call 9?".

Cells are coloured by the share of their row (the true class), so the diagonal reads as
recall whatever the class sizes; the number in each cell is the count.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton,
                               QTabWidget, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from .deferred_draw import DeferredDraw
from .empty_state import EmptyState
from .image_grid import ImageGrid, lut
from .layout_helpers import caption, expanding, still_plot
from ..threads import gui_only

__all__ = ["ConfusionView", "MAX_TEXT_CLASSES", "MAX_GALLERY"]

#: Counts are written in the cells up to this many classes (beyond, the colour says it).
MAX_TEXT_CLASSES = 20
MAX_GALLERY = 60


class CellCounts(pg.GraphicsObject):
    """Every cell's count drawn by one item in one paint() (a TextItem per cell costs a
    hundred Python paint calls per frame); text stays at screen size whatever the zoom."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: np.ndarray | None = None
        self.light: np.ndarray | None = None     # cells bright enough for dark text

    def set_counts(self, counts: np.ndarray | None, light: np.ndarray | None = None) -> None:
        self.prepareGeometryChange()
        self.counts, self.light = counts, light
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        n = 0 if self.counts is None else len(self.counts)
        return QRectF(0, 0, n, n)

    def paint(self, painter: QPainter, *_args) -> None:
        if self.counts is None:
            return
        to_device = painter.transform()
        painter.resetTransform()
        dark, white = QColor("#111111"), QColor("#FFFFFF")
        n = len(self.counts)
        for r in range(n):
            for c in range(n):
                if self.counts[r, c]:
                    centre = to_device.map(QPointF(c + 0.5, r + 0.5))
                    painter.setPen(dark if self.light[r, c] else white)
                    painter.drawText(QRectF(centre.x() - 30, centre.y() - 10, 60, 20),
                                     Qt.AlignmentFlag.AlignCenter, str(int(self.counts[r, c])))


class ConfusionView(DeferredDraw, QWidget):
    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionView")
        self.ctx, self.state = ctx, ctx.state
        self.caption = caption("After each epoch: how the validation samples of each true class "
                              "(rows) were classified (columns). Click a cell to see them.")
        self.plot = still_plot("true class", "predicted class")
        item = self.plot.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(True)
        self.heat = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.heat)
        self.counts = CellCounts()
        item.addItem(self.counts)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("classScores")
        # Short headers (the dock is narrow); the tooltips say what they mean.
        for col, (short, tip) in enumerate((
                ("P", "precision: of the samples predicted as this class, the share that are"),
                ("R", "recall: of the samples of this class, the share found"),
                ("F1", "F1: the harmonic mean of precision and recall"),
                ("n", "validation samples of this class"))):
            header = QTableWidgetItem(short)
            header.setToolTip(tip)
            self.table.setHorizontalHeaderItem(col, header)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.gallery_label = caption("Click a cell of the matrix to see its validation images.")
        self.gallery = ImageGrid()
        back = QPushButton("Back to the matrix")
        back.clicked.connect(lambda: self.tabs.setCurrentIndex(0))
        gallery_page = QWidget()
        gl = QVBoxLayout(gallery_page)
        gl.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.gallery_label, 1)
        top.addWidget(back)
        gl.addLayout(top)
        gl.addWidget(self.gallery, 1)
        # Tabs rather than side by side: the matrix needs the whole (narrow) dock to be read.
        self.tabs = expanding(QTabWidget())
        self.tabs.setObjectName("confusionTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.plot, "Matrix")
        self.tabs.addTab(self.table, "Per class")
        self.tabs.addTab(gallery_page, "Images")
        self.body = EmptyState(self.tabs, "confusionEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.body, 1)
        self._shown = None                 # the EvalSnapshot drawn now
        self._shown_names: list[str] = []
        self._shown_classes = 0
        self._asked: set = set()           # (generation, indices) asked for the gallery
        self.render()

    @property
    def snapshot(self):
        """The evaluation shown (the project state's)."""
        return self.state.results.evaluation

    @property
    def cell(self) -> tuple[int, int] | None:
        return self.state.choices.cell

    # --- drawing ---------------------------------------------------------------------------------
    def draw(self, topics: frozenset) -> None:
        state = self.state
        snap = state.results.evaluation
        note = self._empty_note(snap)
        if note is not None:
            self._shown = None
            self.heat.clear()
            self.counts.set_counts(None)
            self.table.setRowCount(0)
            self.gallery.clear_tiles()
            self.caption.hide()
            self.body.show_note(note)
            return
        self.caption.show()
        self.body.show_content()
        if snap is not self._shown:
            self._shown = snap
            self._draw_matrix(snap)
        if self.cell is not None and (not topics or topics & {"choices", "samples",
                                                              "evaluation", "session"}):
            self._draw_cell(*self.cell)

    def _empty_note(self, snap) -> str | None:
        state = self.state
        if state.task == "regression":
            what = ", ".join(state.session.dataset.target_names if state.session else
                             state.dataset.target_names if state.dataset else ()) or "a value"
            return (f"A confusion matrix is for classification; this project predicts "
                    f"{what} (regression). The Loss view shows its validation error (MAE).")
        if snap is not None and snap.confusion is not None:
            return None
        names = state.class_names
        if names:
            shown = ", ".join(names[:6]) + ("…" if len(names) > 6 else "")
            classes = f"each of the {len(names)} classes ({shown})"
        else:
            classes = "each class"
        loading = "" if state.worker.ready else " (Loading PyTorch…)"
        if state.dataset is not None and state.dataset.error:
            return f"The dataset cannot be loaded: {state.dataset.error}"
        return (f"After each epoch of training: how the validation samples of {classes} "
                f"were classified — rows the true class, columns the prediction. Click a "
                f"cell to see its images.{loading}")

    def _draw_matrix(self, snap) -> None:
        cm = np.asarray(snap.confusion)
        names = list(snap.class_names) or [str(i) for i in range(len(cm))]
        rows = cm.sum(axis=1, keepdims=True)
        share = cm / np.where(rows > 0, rows, 1)
        colors = lut("viridis")
        rgb = colors[(np.clip(share, 0, 1) * 255).astype(np.uint8)]
        self.heat.setImage(rgb, autoLevels=False, levels=(0, 255))
        if self._shown_names != names:
            self._shown_names = names
            self._label_axes(names)
        self._write_counts(cm, share)
        if self._shown_classes != len(cm):   # once per class count (axes cost to redraw)
            self._shown_classes = len(cm)
            self.plot.getPlotItem().getViewBox().setRange(
                xRange=(0, len(cm)), yRange=(0, len(cm)), padding=0.02)
        self._fill_table(snap, names)
        self.caption.setText(
            f"Epoch {snap.epoch}, validation accuracy {100 * (snap.accuracy or 0):.1f} %. Rows: "
            f"true class, columns: prediction. Click a cell to see its images.")

    def _label_axes(self, names: list[str]) -> None:
        ticks = [[(i + 0.5, n) for i, n in enumerate(names)]] if len(names) <= 40 else None
        item = self.plot.getPlotItem()
        item.getAxis("left").setTicks(ticks)
        item.getAxis("bottom").setTicks(ticks)

    def _write_counts(self, cm: np.ndarray, share: np.ndarray) -> None:
        if len(cm) <= MAX_TEXT_CLASSES:
            self.counts.set_counts(cm.copy(), share > 0.6)
        else:
            self.counts.set_counts(None)

    def _fill_table(self, snap, names: list[str]) -> None:
        self.table.setRowCount(len(names))
        self.table.setVerticalHeaderLabels(names)
        for r in range(len(names)):
            values = (f"{snap.precision[r]:.2f}", f"{snap.recall[r]:.2f}", f"{snap.f1[r]:.2f}",
                      f"{int(snap.support[r])}")
            for c, value in enumerate(values):
                cell = self.table.item(r, c)
                if cell is None:
                    cell = QTableWidgetItem()
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(r, c, cell)
                cell.setText(value)

    # --- the gallery -----------------------------------------------------------------------------
    def _clicked(self, event) -> None:
        snap = self.snapshot
        if snap is None or snap.confusion is None or event.button() != Qt.MouseButton.LeftButton:
            return
        p = self.heat.mapFromScene(event.scenePos())
        n = len(snap.confusion)
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= row < n and 0 <= col < n:
            self.show_cell(row, col)
            self.tabs.setCurrentIndex(2)

    @gui_only
    def show_cell(self, true: int, predicted: int) -> None:
        """Show the validation images of one cell (off the diagonal: the mistakes)."""
        self.ctx.choose(cell=(int(true), int(predicted)))
        self._draw_cell(int(true), int(predicted))

    def _draw_cell(self, true: int, predicted: int) -> None:
        state = self.state
        snap = state.results.evaluation
        if snap is None or snap.confusion is None:
            return
        names = list(snap.class_names)
        if not (0 <= true < len(names) and 0 <= predicted < len(names)):
            return
        count = int(snap.confusion[true, predicted])
        if true == predicted:
            self.gallery.clear_tiles()
            self.gallery_label.setText(f"{count} {names[true]} correctly classified. Click a "
                                       f"cell off the diagonal to see mistakes.")
            return
        indices = [int(i) for i in
                   np.asarray(snap.misclassified.get((true, predicted), []))[:MAX_GALLERY]]
        what = f"true {names[true]}, predicted {names[predicted]}: {count} image" + (
            "s" if count != 1 else "")
        images = state.results.samples
        session = state.session
        if not indices or session is None or len(session.input_shape) != 3:
            self.gallery.clear_tiles()
            self.gallery_label.setText(what + ("" if count else " — none"))
            return
        missing = [i for i in indices if i not in images]
        if missing:
            key = (state.generation, tuple(missing))
            if key not in self._asked:
                self._asked.add(key)
                self.ctx.ask("samples", indices=missing)
            self.gallery.clear_tiles()
            self.gallery_label.setText(what + " (loading the images…)")
            return
        tiles = np.stack([np.asarray(images[i][0]) for i in indices])
        self.gallery.set_tiles(tiles, tips=[f"validation sample {i}" for i in indices])
        shown = f" (first {len(indices)})" if count > len(indices) else ""
        self.gallery_label.setText(what + shown)
