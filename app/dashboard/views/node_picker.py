"""The layer combo of the filters and feature-map views, which follows the canvas selection."""
from __future__ import annotations

__all__ = ["NodePicker"]


class NodePicker:
    """Mixin for a view with a layer combo box ``self.combo`` and a ``_node_changed(node_id,
    announce)`` that redraws (and, when the user picked, announces the choice)."""

    @property
    def node(self) -> str | None:
        return self.combo.currentText() or None

    def select_node(self, node_id: str | None) -> bool:
        """Show ``node_id`` when this view offers it (a canvas selection: not announced back)."""
        if node_id is None or self.combo.findText(node_id) < 0:
            return False
        if node_id != self.node:
            self.combo.blockSignals(True)
            self.combo.setCurrentText(node_id)
            self.combo.blockSignals(False)
            self._node_changed(node_id, announce=False)
        return True

    def _set_choices(self, ids, fallback: str | None = None) -> None:
        """Offer ``ids``, keeping the current layer when it is still there (else
        ``fallback``, when given), without announcing anything."""
        current = self.node
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(list(ids))
        if current in ids:
            self.combo.setCurrentText(current)
        elif fallback is not None:
            self.combo.setCurrentText(fallback)
        self.combo.blockSignals(False)
