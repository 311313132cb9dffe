"""The drag payload of a palette entry: a layer type name under LayerLab's own MIME type."""
from __future__ import annotations

from PySide6.QtCore import QMimeData

from layerlab.engine import find_layer

__all__ = ["LAYER_MIME", "layer_mime", "layer_type_from_mime"]

LAYER_MIME = "application/x-layerlab-layer-type"


def layer_mime(type_name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode("utf-8"))
    return mime


def layer_type_from_mime(mime: QMimeData | None) -> str | None:
    """The registered layer type the payload names, or None for anything else."""
    if mime is None or not mime.hasFormat(LAYER_MIME):
        return None
    name = bytes(mime.data(LAYER_MIME).data()).decode("utf-8", "replace")
    spec = find_layer(name)
    return spec.type if spec else None
