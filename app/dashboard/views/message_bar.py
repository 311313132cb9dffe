"""A non-modal message strip (like a browser's info bar): what went wrong and what to do, in
the engine's own words, with no traceback and nothing to click away before working on."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from .layout_helpers import caption

__all__ = ["MessageBar"]

STYLES = {
    "error": ("#FDECEA", "#8C1D18", "#D93025"),
    "warning": ("#FFF3C4", "#5A4300", "#C99A12"),
    "info": ("#E8F0FE", "#1A3E72", "#3A7BD5"),
}


class MessageBar(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.title = QLabel()
        self.title.setObjectName("messageTitle")
        self.text = caption(name="messageText")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 4, 6)
        inner = QHBoxLayout()
        inner.setSpacing(6)
        inner.addWidget(self.title, 0, Qt.AlignmentFlag.AlignTop)
        inner.addWidget(self.text, 1)
        layout.addLayout(inner, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = "info"
        self.hide()

    def show_message(self, kind: str, title: str, text: str) -> None:
        fill, ink, border = STYLES.get(kind, STYLES["info"])
        self.kind = kind
        self.setStyleSheet(f"QFrame#messageBar {{ background: {fill}; border: 1px solid "
                           f"{border}; border-radius: 4px; }} QFrame#messageBar QLabel "
                           f"{{ color: {ink}; }}")
        self.title.setText(f"<b>{title}</b>" if title else "")
        self.title.setVisible(bool(title))
        self.text.setText(text)
        self.show()

    def message(self) -> str:
        return f"{self.title.text()} {self.text.text()}" if self.isVisible() else ""
