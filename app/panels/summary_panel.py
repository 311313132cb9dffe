"""A torchinfo-like table of the graph (engine.summary.summary_rows) with totals: parameters,
multiply-adds, and activation memory for a chosen batch size."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QSpinBox,
                               QTableView, QVBoxLayout, QWidget)

from layerlab.engine import Analysis, format_shape
from layerlab.engine.summary import BYTES_PER_VALUE, human_bytes, summary_rows

from ..editor import Editor

__all__ = ["SummaryPanel", "SummaryModel"]

COLUMNS = ("Layer", "Type", "Output shape", "Parameters", "Multiply-adds", "Problem")
NODE_ROLE = Qt.ItemDataRole.UserRole


class SummaryModel(QAbstractTableModel):
    """One row per node in analysis order; replaced wholesale after every analysis."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple] = []
        self.errors: list[bool] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = [(r["id"], r["type"],
                      format_shape(tuple(r["output_shape"])) if r["output_shape"]
                      else "error" if r["status"] == "error" else "?",
                      f"{r['params']:,}", f"{r['macs']:,}", r["error"] or "") for r in rows]
        self.errors = [r["status"] == "error" for r in rows]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[row][col]
        if role == NODE_ROLE:
            return self.rows[row][0]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self.errors[row]:
            return QColor("#D93025")
        if role == Qt.ItemDataRole.ToolTipRole and self.rows[row][5]:
            return self.rows[row][5]
        return None


class SummaryPanel(QWidget):
    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summary")
        self.editor = editor
        self.doc = editor.document
        self.model = SummaryModel(self)
        self._stale = False
        self.table = QTableView()
        self.table.setObjectName("summaryTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(64)   # measure a sample of rows, not all 300
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(70)
        self.totals = QLabel()
        self.totals.setObjectName("summaryTotals")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals.setWordWrap(True)   # a long line must not widen the dock area
        bold = QFont(self.totals.font())
        bold.setPointSizeF(bold.pointSizeF() * 1.1)
        self.totals.setFont(bold)
        self.batch = QSpinBox()
        self.batch.setObjectName("batchSize")
        self.batch.setRange(1, 65536)
        self.batch.setValue(32)
        self.batch.setToolTip("Samples per batch: activation memory grows with it")
        bottom = QHBoxLayout()
        bottom.addWidget(self.totals, 1)
        bottom.addWidget(QLabel("batch size"))
        bottom.addWidget(self.batch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.doc.analysisChanged.connect(self.refresh)
        editor.concealedChanged.connect(lambda: self.refresh(self.doc.analysis))
        self.batch.valueChanged.connect(lambda _v: self.refresh(self.doc.analysis))
        self.table.clicked.connect(self._clicked)
        self.refresh(self.doc.analysis)

    def sizeHint(self) -> QSize:  # noqa: N802  (the dock's first width/height)
        return QSize(800, 230)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.refresh(self.doc.analysis)

    def refresh(self, analysis: Analysis) -> None:
        """Rebuild the table (deferred while the panel is hidden — e.g. a background tab)."""
        if self.editor.concealed is not None:       # a quiz waits: nothing of the answer
            self.model.set_rows([])
            self._stale = False
            self.totals.setText(self.editor.concealed)
            return
        if self.isVisible() or not self.model.rows:
            self._stale = False
            self.model.set_rows(summary_rows(self.doc.graph, analysis))
            self.table.setColumnHidden(len(COLUMNS) - 1, analysis.ok)
        else:
            self._stale = True
        batch = self.batch.value()
        act = analysis.activation_elements() * BYTES_PER_VALUE * batch
        self.totals.setText(
            f"Total parameters: {analysis.total_params:,}    ·    "
            f"Multiply-adds per sample: {analysis.total_macs:,}    ·    "
            f"Activation memory (batch {batch}, float32): {human_bytes(act)}")

    def _clicked(self, index: QModelIndex) -> None:
        node = index.data(NODE_ROLE)
        if node:
            self.editor.selection.select([node], reveal=True)
