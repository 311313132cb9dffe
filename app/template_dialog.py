"""File ▸ New: start from an empty canvas or one of the bundled templates."""
from __future__ import annotations

import logging

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListView, QListWidget,
                               QListWidgetItem, QStyle, QStyledItemDelegate, QVBoxLayout,
                               QWidget)

from layerlab.engine import Project, analyze, load_project
from layerlab.engine.templates import list_templates

__all__ = ["TemplateDialog"]

log = logging.getLogger(__name__)
PATH_ROLE = Qt.ItemDataRole.UserRole
PARTS_ROLE = Qt.ItemDataRole.UserRole + 1


class _EntryDelegate(QStyledItemDelegate):
    """Name in bold with the parameter count beside it, the description wrapped below."""
    PAD = 10

    def _layout(self, option, index):
        name, count, description = index.data(PARTS_ROLE)
        bold = QFont(option.font)
        bold.setBold(True)
        view = self.parent()
        width = max(100, view.viewport().width() - 2 * self.PAD - 4)
        desc_rect = QFontMetrics(option.font).boundingRect(
            QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, description)
        title_h = QFontMetrics(bold).height()
        return name, count, description, bold, width, title_h, desc_rect.height()

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        *_, title_h, desc_h = self._layout(option, index)
        return QSize(self.parent().viewport().width() - 4, title_h + desc_h + 2 * self.PAD + 4)

    def paint(self, painter, option, index) -> None:
        name, count, description, bold, width, title_h, desc_h = self._layout(option, index)
        self.initStyleOption(option, index)
        option.text = ""
        widget = option.widget
        widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter,
                                   widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text = pal.color(QPalette.ColorRole.HighlightedText if selected
                         else QPalette.ColorRole.Text)
        dim = text if selected else pal.color(QPalette.ColorRole.PlaceholderText)
        x, y = option.rect.left() + self.PAD, option.rect.top() + self.PAD
        painter.save()
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(QRect(x, y, width, title_h), Qt.AlignmentFlag.AlignLeft, name)
        name_w = QFontMetrics(bold).horizontalAdvance(name + "   ")
        painter.setFont(option.font)
        painter.setPen(dim)
        painter.drawText(QRect(x + name_w, y, width - name_w, title_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, count)
        painter.setPen(text)
        painter.drawText(QRect(x, y + title_h + 4, width, desc_h),
                         Qt.TextFlag.TextWordWrap, description)
        painter.restore()


class TemplateDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setObjectName("templateDialog")
        self.resize(620, 520)
        intro = QLabel("Start from an empty canvas, or open a copy of a classic network to "
                       "explore and change.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("templateList")
        self.list.setItemDelegate(_EntryDelegate(self.list))
        self.list.setUniformItemSizes(False)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self._add("Empty canvas", "Build a network yourself from the palette.", None, None)
        for template in list_templates():
            try:
                count = analyze(load_project(template.path).graph).total_params
            except Exception:  # a broken bundled file must not hide the others
                log.exception("template %s", template.path)
                continue
            self._add(template.name, template.description, count, template.path)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())

    def _add(self, name: str, description: str, params: int | None, path) -> None:
        count = f"{params:,} parameters" if params is not None else ""
        item = QListWidgetItem(f"{name}\n{description}\n{count}")
        item.setData(PATH_ROLE, str(path) if path else "")
        item.setData(PARTS_ROLE, (name, count, description))
        item.setToolTip(description)
        self.list.addItem(item)

    def names(self) -> list[str]:
        return [self.list.item(i).text().split("\n")[0] for i in range(self.list.count())]

    def select(self, name: str) -> None:
        for i, item_name in enumerate(self.names()):
            if item_name == name:
                self.list.setCurrentRow(i)

    def project(self) -> Project:
        """The chosen start: a fresh empty project or a copy of the template."""
        item = self.list.currentItem()
        path = item.data(PATH_ROLE) if item else ""
        return load_project(path) if path else Project()
