"""The contract of the dashboard's image views: store what arrives, draw it in ``flush()``."""
from __future__ import annotations

__all__ = ["DeferredDraw"]


class DeferredDraw:
    """Mixin for a QWidget view whose setters only store data and mark it ``_dirty``; the
    dashboard's frames call ``flush()`` on the views that ``needs_flush()``, one per frame."""

    _dirty = False

    def needs_flush(self) -> bool:
        """Something stored is not drawn yet, and the view is on screen to draw it."""
        return self._dirty and self.isVisible()
