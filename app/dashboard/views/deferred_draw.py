"""The contract of the dashboard's views (views/registry.py): note what changed in the
project state, draw it from the state in ``flush()``."""
from __future__ import annotations

from PySide6.QtWidgets import QDockWidget

from ..threads import gui_only

__all__ = ["DeferredDraw", "on_screen"]


def on_screen(widget) -> bool:
    """Shown and not behind another tab: a dock behind another tab of its group counts as
    visible to Qt (isVisible) but has nothing on screen — its dock's visible region is
    empty. (The dock's: a view's own region also excludes what its children cover.)"""
    if not widget.isVisible():
        return False
    dock = widget
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    return dock is None or not dock.visibleRegion().isEmpty()


class DeferredDraw:
    """Mixin for a QWidget view, which implements ``draw(topics)``. ``render(topics)`` only
    notes the topics and marks the view dirty; the dashboard's frames call ``flush()`` when
    ``needs_flush()`` (a direct call draws even off screen: the view's widgets then say the
    right thing when read); a view shown again
    draws at once (hidden views, and views behind another tab, skip drawing: the dashboard
    tells a view whose dock comes to the front — ``render()`` then ``flush()``)."""

    _dirty = False
    _topics: frozenset = frozenset()

    def render(self, topics: frozenset = frozenset()) -> None:
        self._dirty = True
        self._topics = self._topics | frozenset(topics)

    def needs_flush(self) -> bool:
        """Something changed that is not drawn yet, and the view is on screen to draw it."""
        return self._dirty and on_screen(self)

    def take_topics(self) -> frozenset:
        """The topics changed since the last flush (a view may redraw only those parts)."""
        topics, self._topics = self._topics, frozenset()
        self._dirty = False
        return topics

    @gui_only
    def flush(self) -> None:
        """Draw what changed (a direct call draws even off screen)."""
        if self._dirty:
            self.draw(self.take_topics())

    def draw(self, topics: frozenset) -> None:
        """Draw from the project state; ``topics``: what changed (empty: everything)."""
        raise NotImplementedError

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty = True
        self.flush()
