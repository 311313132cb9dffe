"""The layer palette: every registered layer type, grouped, searchable, draggable.

Built from :func:`layerlab.engine.all_specs` only — a new registry entry appears here with its
group icon and its one-line help, with nothing to add in the app.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QStyle, QStyledItemDelegate,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from layerlab.engine import all_specs
from layerlab.engine.registry import GROUPS

from ..dragdrop import LAYER_MIME, layer_mime
from ..icons import group_icon

__all__ = ["PalettePanel"]

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2


class _TwoLineDelegate(QStyledItemDelegate):
    """Layer entries: the type name in bold, its one-line help below in a dimmer colour."""

    #: Room left of the name: the icon's gap and the right margin (see paint).
    GAP, RIGHT = 10, 4

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        if index.data(TYPE_ROLE):
            return QSize(size.width(), option.fontMetrics.height() * 2 + 10)
        return QSize(size.width(), max(size.height(), option.fontMetrics.height() + 10))

    def paint(self, painter, option, index) -> None:
        summary = index.data(SUMMARY_ROLE)
        if not summary:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        text, option.text = option.text, ""
        widget = option.widget
        style = widget.style() if widget else None
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        icon_size = option.decorationSize.width()
        left = option.rect.left() + icon_size + self.GAP
        rect = QRect(left, option.rect.top() + 4, option.rect.right() - left - self.RIGHT,
                     option.rect.height() - 8)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected
                                 else QPalette.ColorRole.Text))
        line = rect.height() // 2
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        small = QFont(option.font)
        small.setPointSizeF(option.font.pointSizeF() * 0.88)
        painter.setFont(small)
        dim = pal.color(QPalette.ColorRole.HighlightedText if selected
                        else QPalette.ColorRole.PlaceholderText)
        painter.setPen(dim)
        metrics = painter.fontMetrics()
        painter.drawText(QRect(rect.left(), rect.top() + line, rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(summary, Qt.TextElideMode.ElideRight, rect.width()))
        painter.restore()


class _PaletteTree(QTreeWidget):
    def mimeData(self, items):  # noqa: N802  (drag payload)
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return layer_mime(types[0]) if types else None

    def mimeTypes(self):  # noqa: N802
        return [LAYER_MIME]


class PalettePanel(QWidget):
    #: A layer type was double-clicked or chosen with Enter: add it after the selection.
    layerActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.search = QLineEdit(placeholderText="Search layers…  (Enter adds the best match)")
        self.search.setObjectName("paletteSearch")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(10)
        self.tree.setIconSize(QSize(22, 22))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setItemDelegate(_TwoLineDelegate(self.tree))
        self.tree.setUniformRowHeights(False)
        self.tree.setAnimated(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.group_items: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self._fit_names()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._activated)

    def sizeHint(self) -> QSize:  # noqa: N802  (the dock's first width/height)
        return QSize(max(270, self.minimumWidth()), 600)

    def _fit_names(self) -> None:
        """Never narrower than the longest layer name: a name cut to "ConvTranspose2c" is
        worse than a wider dock (the help line below it is elided and in the tooltip). Redone
        when the font changes (projector mode)."""
        bold = QFont(self.tree.font())
        bold.setBold(True)
        longest = max((QFontMetrics(bold).horizontalAdvance(t) for t in self.items), default=0)
        tree = self.tree
        inner = (2 * tree.indentation() + tree.iconSize().width() + _TwoLineDelegate.GAP
                 + _TwoLineDelegate.RIGHT + 2 * tree.frameWidth()
                 + tree.verticalScrollBar().sizeHint().width() + 8)
        margins = self.layout().contentsMargins()
        self.setMinimumWidth(longest + inner + margins.left() + margins.right())

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_names()

    def _populate(self) -> None:
        for group in GROUPS:
            top = QTreeWidgetItem([group])
            top.setIcon(0, group_icon(group))
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            self.group_items[group] = top
        for spec in all_specs():
            item = QTreeWidgetItem([spec.type])
            item.setIcon(0, group_icon(spec.group))
            item.setData(0, TYPE_ROLE, spec.type)
            item.setData(0, SUMMARY_ROLE, spec.summary)
            item.setToolTip(0, f"<b>{html.escape(spec.type)}</b> — "
                               f"{html.escape(spec.summary, quote=False)}"
                               f"<br><br>{html.escape(spec.explanation, quote=False)}"
                               f"<br><br><i>Drag onto the canvas (or onto a wire to insert "
                               f"it there); double-click to add it after the selection.</i>")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self.group_items[spec.group].addChild(item)
            self.items[spec.type] = item
        for group in GROUPS:
            top = self.group_items[group]
            if top.childCount():
                self.tree.addTopLevelItem(top)
                top.setExpanded(True)

    def filter(self, text: str) -> None:
        """Show the layers matching every word (in the name, the help or the group), and
        highlight the best one: what Enter adds."""
        words = text.lower().split()
        for group, top in self.group_items.items():
            shown = 0
            for i in range(top.childCount()):
                item = top.child(i)
                hay = " ".join((item.text(0), item.data(0, SUMMARY_ROLE) or "", group)).lower()
                hide = bool(words) and not all(w in hay for w in words)
                item.setHidden(hide)
                shown += not hide
            top.setHidden(shown == 0)
            if words:
                top.setExpanded(True)
        ranked = self.ranked(text)
        if ranked:
            self.tree.setCurrentItem(self.items[ranked[0]])
        else:
            self.tree.clearSelection()

    def visible_types(self) -> list[str]:
        return [t for t, item in self.items.items()
                if not item.isHidden() and not item.parent().isHidden()]

    def ranked(self, text: str) -> list[str]:
        """The visible layer types, best match first: the type name equal to the query,
        then starting with it, then containing it (spaces ignored: "max pool" finds
        MaxPool2d), then matches in the help text only; registry order breaks ties."""
        query = "".join(text.lower().split())
        if not query:
            return []

        def rank(type_name: str) -> int:
            name = type_name.lower()
            return (0 if name == query else 1 if name.startswith(query)
                    else 2 if query in name else 3)
        visible = self.visible_types()
        return sorted(visible, key=lambda t: (rank(t), visible.index(t)))

    def _activate_first(self) -> None:
        ranked = self.ranked(self.search.text())
        if ranked:
            self.layerActivated.emit(ranked[0])

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layerActivated.emit(type_name)
