"""A non-modal message strip (like a browser's info bar): what went wrong and what to do, in
the engine's own words, with no traceback and nothing to click away before working on — and,
when there is a one-click remedy, its button.

The title sits on its own line above the text and both wrap, so the strip fits its dock at
any width (a one-line title beside the text would set the dock's minimum width and squeeze
the text to a word per line).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QToolButton, QVBoxLayout

from .layout_helpers import caption

__all__ = ["MessageBar"]

STYLES = {
    "error": ("#FDECEA", "#8C1D18", "#D93025"),
    "warning": ("#FFF3C4", "#5A4300", "#C99A12"),
    "info": ("#E8F0FE", "#1A3E72", "#3A7BD5"),
}


class MessageBar(QFrame):
    #: A remedy's button was pressed: the command it names.
    actionTriggered = Signal(str)
    dismissed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.title = caption(name="messageTitle")
        self.text = caption(name="messageText")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self._dismiss)
        self.actions_row = QHBoxLayout()
        self.actions_row.setContentsMargins(0, 2, 0, 0)
        self.actions_row.addStretch(1)
        self._buttons: list[QPushButton] = []
        head = QHBoxLayout()
        head.setSpacing(6)
        head.addWidget(self.title, 1)
        head.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 6)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.text)
        layout.addLayout(self.actions_row)
        self.kind = "info"
        self._shown = None
        self.hide()

    def present(self, message) -> None:
        """Show ``message`` (a state Message), or hide for None."""
        if message is None:
            self._shown = None
            self.hide()
            return
        if message != self._shown:
            self._shown = message
            self.show_message(message.kind, message.title, message.text, message.actions)
        self.show()

    def show_message(self, kind: str, title: str, text: str, actions=()) -> None:
        fill, ink, border = STYLES.get(kind, STYLES["info"])
        self.kind = kind
        self.setStyleSheet(f"QFrame#messageBar {{ background: {fill}; border: 1px solid "
                           f"{border}; border-radius: 4px; }} QFrame#messageBar QLabel "
                           f"{{ color: {ink}; }}")
        self.title.setText(f"<b>{title}</b>" if title else "")
        self.text.setText(text)
        for button in self._buttons:
            self.actions_row.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        for label, command in actions:
            button = QPushButton(label)
            button.clicked.connect(lambda _c=False, name=command: self.actionTriggered.emit(name))
            self.actions_row.insertWidget(self.actions_row.count() - 1, button)
            self._buttons.append(button)
        self.show()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()

    def message(self) -> str:
        if not self.isVisible():
            return ""
        import re
        title = re.sub(r"<[^>]+>", "", self.title.text())
        return f"{title} {self.text.text()}".strip()

    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)
