"""A dock's content that builds its view once it is on screen: the window comes up sooner —
it paints first, the views fill their docks a moment later (right after that first paint),
a view behind a tab costs nothing until someone looks at it, and one never opened is never
built. Until then it forwards nothing and needs no drawing; once built, it passes the
project state's notes and the frames' draws to the view. Asking for ``view`` builds it at
once (tests, tools)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .deferred_draw import on_screen

__all__ = ["LazyView", "after_first_paint"]


class _FirstPaint(QObject):
    def __init__(self, widget: QWidget, then) -> None:
        super().__init__(widget)
        self.then = then
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and self.then is not None:
            then, self.then = self.then, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, then)       # after this paint has reached the screen
        return False


def after_first_paint(widget: QWidget, then) -> None:
    """Call ``then()`` once ``widget`` has painted for the first time."""
    _FirstPaint(widget, then)


class LazyView(QWidget):
    #: False until the window has painted once: views are not built before that.
    window_painted = True

    def __init__(self, spec, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"lazy_{spec.key}")
        self.spec, self.ctx = spec, ctx
        self._view = None
        self.window_painted = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._loading = QLabel("Loading…")
        self._loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._loading.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self._loading)

    @property
    def built(self) -> bool:
        return self._view is not None

    @property
    def view(self):
        """The view (built now if it was not yet)."""
        if self._view is None:
            self._view = self.spec.make(self.ctx)
            self.layout().removeWidget(self._loading)
            self._loading.deleteLater()
            self.layout().addWidget(self._view)
            self._view.render()
            self._view.flush()          # what the project state holds, at once
        return self._view

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._view is None and self.window_painted:
            QTimer.singleShot(0, self.build_if_shown)

    def build_if_shown(self) -> None:
        """Build the view when it is on screen (a dock came to the front, the window was
        painted); a built view redraws what it shows."""
        if not self.window_painted or not on_screen(self):
            return
        if self._view is None:
            self.view                   # noqa: B018
        else:
            self._view.render()
            self._view.flush()

    # --- the view contract (views/registry.py), forwarded once built -------------------------
    def render(self, topics: frozenset = frozenset()) -> None:
        if self._view is not None:
            self._view.render(topics)

    def needs_flush(self) -> bool:
        return self._view is not None and self._view.needs_flush()

    def flush(self) -> None:
        if self._view is not None:
            self._view.flush()
