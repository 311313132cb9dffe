"""The contract every canvas gesture follows."""
from __future__ import annotations

from PySide6.QtWidgets import QGraphicsSceneMouseEvent

__all__ = ["Gesture"]


class Gesture:
    #: True when the scene's default handling (selection, item dragging) must also run.
    default_handling = False

    def __init__(self, scene) -> None:
        self.scene = scene
        self.editor = scene.editor

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        """The mouse moved with the gesture in progress."""

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        """The button was released: finish (ask the editor for one edit) and clean up."""

    def cancel(self) -> None:
        """Abandon the gesture (Escape, focus lost): remove temporary feedback, edit nothing."""
