"""Every problem the analysis found, in words; clicking one selects and shows its layer."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from layerlab.engine import Analysis

from ..editor import Editor

__all__ = ["ProblemsPanel"]

NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QWidget):
    #: Number of problems, after every analysis (the dock title shows it).
    countChanged = Signal(int)

    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self.editor = editor
        self.list = QListWidget()
        self.list.setObjectName("problemList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.list)
        editor.document.analysisChanged.connect(self.refresh)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.refresh(editor.document.analysis)

    def sizeHint(self) -> QSize:  # noqa: N802  (the dock's first width/height)
        return QSize(800, 230)

    def refresh(self, analysis: Analysis) -> None:
        self.list.clear()
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        ok = self.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        for problem in analysis.problems:
            item = QListWidgetItem(warn, problem.message)
            item.setData(NODE_ROLE, problem.node)
            if problem.node:
                item.setToolTip(f"Click to select {problem.node}")
            self.list.addItem(item)
        if not analysis.problems:
            item = QListWidgetItem(ok, "No problems: every shape fits.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.countChanged.emit(len(analysis.problems))

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(NODE_ROLE)
        if node and node in self.editor.graph.nodes:
            self.editor.selection.select([node], reveal=True)
