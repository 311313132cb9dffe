"""The layer combo of the filters and feature-map views: it offers the project's layers and
shows the one chosen in the project state (the canvas selection sets it)."""
from __future__ import annotations

__all__ = ["NodePicker"]


class NodePicker:
    """Mixin for a view with a layer combo box ``self.combo``."""

    @property
    def node(self) -> str | None:
        return self.combo.currentText() or None

    def _set_choices(self, ids, fallback: str | None = None, wanted: str | None = None) -> None:
        """Offer ``ids`` and show ``wanted`` (the project state's choice) when it is one of
        them, else ``fallback`` — without announcing anything. The combo's own current
        entry does not count: it may be a choice made in another project."""
        ids = list(ids)
        self.combo.blockSignals(True)
        if [self.combo.itemText(i) for i in range(self.combo.count())] != ids:
            self.combo.clear()
            self.combo.addItems(ids)
        for choice in (wanted, fallback):
            if choice in ids:
                self.combo.setCurrentText(choice)
                break
        self.combo.blockSignals(False)
