"""Confusion matrix of the validation set (after every epoch), per-class precision / recall /
F1, and a gallery of the validation images in a clicked cell — "which 4s does it call 9?".

Cells are coloured by the share of their row (the true class), so the diagonal reads as
recall whatever the class sizes; the number in each cell is the count.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton,
                               QTabWidget, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from .deferred_draw import DeferredDraw
from .image_grid import ImageGrid, display_images, lut
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
    cellChosen = Signal(int, int)   # true class, predicted class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionView")
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.tabs, 1)
        self.session = None
        self.snapshot = None
        self.cell: tuple[int, int] | None = None
        self._dirty = False
        self._shown_classes = 0
        self._shown_names: list[str] = []

    def set_session(self, info) -> None:
        self.session = info
        self.snapshot = None
        self.cell = None
        self.heat.clear()
        self.counts.set_counts(None)
        self.gallery.clear_tiles()
        self.gallery_label.setText("")
        self.table.setRowCount(0)

    def set_evaluation(self, snap) -> None:
        if snap.confusion is not None:
            self.snapshot = snap
            self._dirty = True

    def needs_flush(self) -> bool:
        return super().needs_flush() and self.snapshot is not None

    @gui_only
    def flush(self) -> None:
        if not self._dirty or not self.isVisible() or self.snapshot is None:
            return
        self._dirty = False
        snap = self.snapshot
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
        if self.cell is not None:
            self.show_cell(*self.cell)

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
        if self.snapshot is None or event.button() != Qt.MouseButton.LeftButton:
            return
        p = self.heat.mapFromScene(event.scenePos())
        n = len(self.snapshot.confusion)
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= row < n and 0 <= col < n:
            self.show_cell(row, col)
            self.tabs.setCurrentIndex(2)
            self.cellChosen.emit(row, col)

    @gui_only
    def show_cell(self, true: int, predicted: int) -> None:
        """Show the validation images of one cell (off the diagonal: the mistakes)."""
        self.cell = (true, predicted)
        snap, info = self.snapshot, self.session
        if snap is None:
            return
        names = list(snap.class_names)
        count = int(snap.confusion[true, predicted])
        if true == predicted:
            self.gallery.clear_tiles()
            self.gallery_label.setText(f"{count} {names[true]} correctly classified. Click a "
                                       f"cell off the diagonal to see mistakes.")
            return
        indices = np.asarray(snap.misclassified.get((true, predicted), []))[:MAX_GALLERY]
        what = f"true {names[true]}, predicted {names[predicted]}: {count} image" + (
            "s" if count != 1 else "")
        if len(indices) == 0 or info is None or len(info.input_shape) != 3:
            self.gallery.clear_tiles()
            self.gallery_label.setText(what + ("" if count else " — none"))
            return
        x = info.dataset.x_val[indices].numpy()
        self.gallery.set_tiles(display_images(info.dataset, x),
                               tips=[f"validation sample {int(i)}" for i in indices])
        shown = f" (first {len(indices)})" if count > len(indices) else ""
        self.gallery_label.setText(what + shown)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty = True
        self.flush()
