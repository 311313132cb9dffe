"""One class per canvas gesture (new wire, rubber band, move, palette drop, pan, …).

A gesture receives the mouse (or drag) events of one interaction from start to end, draws its
own temporary feedback, and at the end asks the :class:`~layerlab.app.editor.Editor` for one
edit. Gestures never change the document themselves.
"""
from .base import Gesture

__all__ = ["Gesture"]
