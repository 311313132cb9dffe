"""File ▸ Export diagram: the whole graph as a PNG or an SVG, for slides and handouts.

The scene paints itself into an image or QtSvg's generator (part of PySide6-Essentials),
with every card in its full, detailed form whatever the view's zoom, on the canvas colour,
without grid or selection glow. The file's kind follows its suffix.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

__all__ = ["DIAGRAM_FILTER", "diagram_rect", "export_diagram", "diagram_image"]

DIAGRAM_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
MARGIN = 40.0
#: PNG pixels per scene unit: sharp on a projector, a few MB at most for ResNet-18.
PNG_SCALE = 2.0
MAX_PNG_SIDE = 16000


def diagram_rect(scene) -> QRectF:
    """The graph's extent (cards, wires and their labels), with a margin."""
    rect = QRectF()
    for item in list(scene.node_items.values()) + list(scene.edge_items.values()):
        rect = rect.united(item.sceneBoundingRect())
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def export_diagram(scene, path: str | Path) -> Path:
    """Write the graph to ``path`` (.png or .svg); OSError/ValueError say what failed."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"{path.name}: choose a .png or .svg file name")
    if not scene.node_items:
        raise ValueError("the canvas is empty: there is no diagram to export")
    with _as_diagram(scene) as rect:
        if suffix == ".png":
            _write_png(scene, rect, path)
        else:
            _write_svg(scene, rect, path)
    return path


def diagram_image(scene, size: QSize) -> QImage:
    """The whole graph drawn into an image of ``size`` (aspect ratio kept, centred) on the
    canvas colour — a picture of the network, e.g. a template's thumbnail in File ▸ New."""
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.theme.canvas)
    if scene.node_items:
        with _as_diagram(scene) as rect:
            painter = QPainter(image)
            try:
                _paint(scene, painter, QRectF(0, 0, size.width(), size.height()), rect)
            finally:
                painter.end()
    return image


@contextlib.contextmanager
def _as_diagram(scene) -> Iterator[QRectF]:
    """The scene as a diagram shows it — wires routed, nothing selected, cards painted as
    vectors and text rather than cached pixmaps — for the ``with`` block; yields its extent."""
    scene.flush_routes()
    selected = scene.selectedItems()
    for item in selected:        # a diagram shows the network, not the current selection
        item.setSelected(False)
    cards = list(scene.node_items.values())
    for card in cards:
        card.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield diagram_rect(scene)
    finally:
        for card in cards:
            card.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for item in selected:
            item.setSelected(True)


def _paint(scene, painter: QPainter, target: QRectF, source: QRectF) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(target, scene.theme.canvas)
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def _write_png(scene, rect: QRectF, path: Path) -> None:
    scale = min(PNG_SCALE, MAX_PNG_SIDE / max(rect.width(), rect.height()))
    size = QSize(max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.theme.canvas)
    painter = QPainter(image)
    try:
        _paint(scene, painter, QRectF(0, 0, size.width(), size.height()), rect)
    finally:
        painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def _write_svg(scene, rect: QRectF, path: Path) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(round(rect.width()), round(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle("LayerLab diagram")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write {path}")
    try:
        _paint(scene, painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"could not write {path}")


def export_diagram_dialog(window) -> Path | None:
    """File ▸ Export Diagram…: ask where, write, say what happened (never a traceback)."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox
    document = window.document
    stem = document.path.stem if document.path else "diagram"
    start = str((document.path.parent if document.path else Path.home()) / f"{stem}.png")
    name, chosen = QFileDialog.getSaveFileName(window, "Export diagram", start, DIAGRAM_FILTER)
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower() not in (".png", ".svg"):
        path = path.with_suffix(".svg" if "svg" in (chosen or "").lower() else ".png")
    try:
        export_diagram(window.scene, path)
    except (OSError, ValueError) as exc:
        QMessageBox.warning(window, "Export diagram", f"The diagram was not written: {exc}")
        return None
    window.statusBar().showMessage(f"Diagram written to {path}", 8000)
    return path
