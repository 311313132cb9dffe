"""A view's designed empty state: while there is nothing to show, one sentence that says what
will appear here and what to do for it — never axes drawn around nothing."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStackedWidget, QWidget

from .layout_helpers import caption

__all__ = ["EmptyState"]


class EmptyState(QStackedWidget):
    """``content``, or the note when :meth:`show_note` was called last."""

    def __init__(self, content: QWidget, name: str = "emptyNote") -> None:
        super().__init__()
        self.note = caption(name=name)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setContentsMargins(12, 12, 12, 12)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.content = content
        self.addWidget(self.note)
        self.addWidget(content)
        self.setCurrentWidget(self.note)

    def show_note(self, text: str) -> None:
        if self.note.text() != text:
            self.note.setText(text)
        if self.currentWidget() is not self.note:
            self.setCurrentWidget(self.note)

    def show_content(self) -> None:
        if self.currentWidget() is not self.content:
            self.setCurrentWidget(self.content)

    @property
    def empty(self) -> bool:
        return self.currentWidget() is self.note

    def text(self) -> str:
        """The note when empty, else "" (tests and screen readers)."""
        return self.note.text() if self.empty else ""
