"""The contract of the dashboard's views (views/registry.py): note what changed in the
project state, draw it from the state in ``flush()``."""
from __future__ import annotations

__all__ = ["DeferredDraw"]


class DeferredDraw:
    """Mixin for a QWidget view. ``render(topics)`` only notes the topics and marks the view
    dirty; the dashboard's frames call ``flush()`` when ``needs_flush()``; a view shown again
    draws at once (hidden views skip drawing)."""

    _dirty = False
    _topics: frozenset = frozenset()

    def render(self, topics: frozenset = frozenset()) -> None:
        self._dirty = True
        self._topics = self._topics | frozenset(topics)

    def needs_flush(self) -> bool:
        """Something changed that is not drawn yet, and the view is on screen to draw it."""
        return self._dirty and self.isVisible()

    def take_topics(self) -> frozenset:
        """The topics changed since the last flush (a view may redraw only those parts)."""
        topics, self._topics = self._topics, frozenset()
        self._dirty = False
        return topics

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._dirty = True
        self.flush()
