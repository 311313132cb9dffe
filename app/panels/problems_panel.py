"""Every problem, in words, each followed by its one-click fixes.

A problem row selects and shows its layer; a "Fix: …" row under it applies that fix as one
undoable step (Ctrl+Z puts everything back). Problems come from Editor.problems(): the
graph's analysis and any other source (the dataset's fit), so whatever produced a Problem
with fixes, its fixes are offered here.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from ..editor import Editor
from ..icons import action_icon

__all__ = ["ProblemsPanel"]

NODE_ROLE = Qt.ItemDataRole.UserRole
FIX_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsPanel(QWidget):
    #: Number of problems, after every analysis (the dock title shows it).
    countChanged = Signal(int)

    def __init__(self, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self.editor = editor
        self.fixes: list = []
        self.list = QListWidget()
        self.list.setObjectName("problemList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.list)
        editor.problemsChanged.connect(self.show_problems)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.show_problems(editor.problems())

    def sizeHint(self) -> QSize:  # noqa: N802  (the dock's first width/height)
        return QSize(800, 230)

    def refresh(self, _analysis=None) -> None:
        """Kept for callers that pass an Analysis: shows the editor's current problems."""
        self.show_problems(self.editor.problems())

    def show_problems(self, problems: list) -> None:
        self.list.clear()
        self.fixes = []
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        ok = self.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        link = self.palette().color(QPalette.ColorRole.Link)
        wrench = action_icon("fix", link)
        todo = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        for problem in problems:
            item = QListWidgetItem(warn if problem.is_error else todo, problem.message)
            item.setData(NODE_ROLE, problem.node)
            if problem.node:
                item.setToolTip(f"Click to select {problem.node}")
            self.list.addItem(item)
            for fix in problem.fixes:
                row = QListWidgetItem(wrench, f"Fix: {fix.label}")
                row.setData(NODE_ROLE, problem.node)
                row.setData(FIX_ROLE, len(self.fixes))
                row.setForeground(QBrush(link))
                font = QFont(row.font())
                font.setUnderline(True)
                row.setFont(font)
                row.setToolTip("Click (or press Enter) to apply this fix — one undoable step")
                self.fixes.append(fix)
                self.list.addItem(row)
        errors = sum(p.is_error for p in problems)
        if not errors:
            item = QListWidgetItem(ok, "No problems: every shape fits." if not problems else
                                   "No problems so far: the network is not finished yet.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.list.insertItem(0, item)
        self.countChanged.emit(errors)

    def fix_rows(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())
                if self.list.item(i).data(FIX_ROLE) is not None]

    def _clicked(self, item: QListWidgetItem) -> None:
        index = item.data(FIX_ROLE)
        if index is not None:
            self.editor.apply_fix(self.fixes[index])
            return
        node = item.data(NODE_ROLE)
        if node and node in self.editor.graph.nodes:
            self.editor.selection.select([node], reveal=True)
