"""The canvas shows the whole network readably: real card and label geometry on every
template, the zoom a project opens at, the simplified form below 55 %, the minimap."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionGraphicsItem

from layerlab.engine.layout import NODE_SIZE, layered_positions
from layerlab.engine.templates import list_templates, load_template

from app_helpers import click, dialogs, make_window, window  # noqa: F401
from layerlab.app.canvas.node_item import (LOD_SIMPLE, MIN_TEXT_PX, NODE_HEIGHT, NODE_WIDTH,
                                           simple_text_fits, simple_text_px)
from layerlab.app.canvas.view import READABLE_ZOOM


def open_template(window, key: str):
    QApplication.processEvents()          # let the docks settle to the window's size
    window.files.load_into(load_template(key), None)
    window.view.show_graph()
    window.scene.flush_routes()
    window.view.minimap.refresh()
    return window.scene


def test_the_canvas_draws_the_cards_the_layout_makes_room_for():
    assert (NODE_WIDTH, NODE_HEIGHT) == NODE_SIZE


@pytest.mark.parametrize("key", [t.key for t in list_templates()])
def test_no_card_or_label_overlaps_another_on_any_template(window, key):
    scene = open_template(window, key)
    cards = {n: item.sceneBoundingRect().adjusted(3, 3, -3, -3)   # the card, not its glow
             for n, item in scene.node_items.items()}
    names = sorted(cards)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not cards[a].intersects(cards[b]), (a, b)
    labels = {(e.source, e.target): item._label_rect for e, item in scene.edge_items.items()
              if item.shown}
    assert len(labels) == len(scene.edge_items)            # every wire says its shape
    for wire, rect in labels.items():
        for name, card in cards.items():
            assert not rect.intersects(card), (wire, name)
    wires = sorted(labels)
    for i, a in enumerate(wires):
        for b in wires[i + 1:]:
            assert not labels[a].intersects(labels[b]), (a, b)


@pytest.mark.parametrize("size", [(1440, 900), (1600, 1000)])
def test_lenet5_opens_whole_and_in_full_detail(qtbot, tmp_path, dialogs, size):  # noqa: F811
    w = make_window(tmp_path, qtbot, size)
    scene = open_template(w, "lenet5")
    visible = w.view.visible_scene_rect()
    assert all(visible.contains(item.sceneBoundingRect()) for item in scene.node_items.values())
    assert w.view.zoom() >= LOD_SIMPLE                 # the detailed cards, not dashes
    assert not w.view.minimap.isVisible()              # it all fits: no minimap
    w.editor.mark_saved()


def test_resnet18_opens_readable_at_its_input_with_a_minimap(qtbot, tmp_path, dialogs):  # noqa: F811
    w = make_window(tmp_path, qtbot, (1440, 900))
    scene = open_template(w, "resnet18")
    zoom = w.view.zoom()
    assert zoom >= READABLE_ZOOM
    assert w.view.visible_scene_rect().contains(scene.node_items["input"].sceneBoundingRect())
    for node_id, item in scene.node_items.items():     # every name and shape reads whole
        for text, bold in ((node_id, True), (item.label.shape, False)):
            assert simple_text_px(text, zoom, bold) >= MIN_TEXT_PX, text
            assert simple_text_fits(text, zoom, bold), text
    assert w.view.minimap.isVisible()
    # clicking the minimap's far corner moves the view to the network's end
    fc = scene.node_items["fc"].sceneBoundingRect().center()
    click_at = w.view.minimap.to_map(fc)
    from PySide6.QtTest import QTest
    from PySide6.QtCore import Qt
    QTest.mouseClick(w.view.minimap, Qt.MouseButton.LeftButton, pos=click_at.toPoint())
    assert w.view.visible_scene_rect().contains(fc)
    w.editor.mark_saved()


def _dark_pixels(item, zoom: float) -> int:
    """Paint one card at ``zoom`` into an image; count the pixels of text on it."""
    size = (int(NODE_WIDTH * zoom) + 4, int(NODE_HEIGHT * zoom) + 4)
    image = QImage(*size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.scale(zoom, zoom)
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    text = QColor(item.theme.text)
    count = 0
    for y in range(int(NODE_HEIGHT * zoom * 0.25), image.height()):   # below the colour band
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if abs(c.red() - text.red()) + abs(c.green() - text.green()) + \
                    abs(c.blue() - text.blue()) < 120:
                count += 1
    return count


def test_below_half_zoom_cards_show_name_and_shape_in_large_type(window):
    scene = open_template(window, "lenet5")
    card = scene.node_items["conv1"]
    assert card.label.shape == "6×28×28"
    zoom = 0.4
    assert zoom < LOD_SIMPLE
    assert _dark_pixels(card, zoom) > 60               # text, not a blank coloured box
    assert simple_text_px("conv1", zoom) >= 12         # and large: about 14 px on screen


def test_arrange_lays_out_for_the_canvas_and_shows_the_result(window):
    scene = open_template(window, "lenet5")
    ed, view = window.editor, window.view
    ed.move_nodes({"fc3": ed.graph.nodes["fc3"].position}, {"fc3": (5000.0, 3000.0)})
    assert ed.auto_layout()
    viewport = view.viewport().size()
    expected = layered_positions(ed.graph, viewport=(viewport.width(), viewport.height()))
    assert {n: node.position for n, node in ed.graph.nodes.items()} == expected
    visible = view.visible_scene_rect()
    assert all(visible.contains(i.sceneBoundingRect()) for i in scene.node_items.values())
    ed.undo()
    assert ed.graph.nodes["fc3"].position == (5000.0, 3000.0)


def test_diagram_export_writes_png_and_svg(window, tmp_path):
    from layerlab.app.canvas.diagram import export_diagram
    open_template(window, "lenet5")
    png = export_diagram(window.scene, tmp_path / "lenet.png")
    image = QImage(str(png))
    rect = QRectF(window.view.graph_rect())
    assert image.width() >= rect.width() and image.height() >= rect.height()
    svg = export_diagram(window.scene, tmp_path / "lenet.svg").read_text()
    assert "<svg" in svg and "conv1" in svg and "6×28×28" in svg
    with pytest.raises(ValueError, match=".png or .svg"):
        export_diagram(window.scene, tmp_path / "lenet.jpg")
    window.files.load_into(load_template("lenet5").__class__(), None)   # empty project
    with pytest.raises(ValueError, match="empty"):
        export_diagram(window.scene, tmp_path / "empty.png")
    assert QPointF  # keep the import used by helpers


def test_file_menu_exports_the_diagram(window, dialogs, tmp_path):  # noqa: F811
    open_template(window, "lenet5")
    dialogs.save_path = str(tmp_path / "slides" / "lenet")          # no suffix: PNG
    (tmp_path / "slides").mkdir()
    window.act_export_diagram.trigger()
    assert QImage(str(tmp_path / "slides" / "lenet.png")).width() > 1000
    assert "lenet.png" in window.statusBar().currentMessage()
    dialogs.save_path = str(tmp_path / "missing-folder" / "x.png")
    window.act_export_diagram.trigger()
    assert "not written" in dialogs.texts()
