"""The canvas: palette drops, wiring by mouse, insertion on a wire, selection, moving, zoom."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from layerlab.engine import Edge
from layerlab.engine.layout import COLUMN_WIDTH
from layerlab.engine.templates import load_template

from app_helpers import (click, dialogs, drag_mouse, in_port, out_port, palette_drop,  # noqa: F401
                         window, wire)


def test_palette_drop_creates_a_node_where_it_is_dropped(window):
    assert palette_drop(window.view, "Input", QPointF(0, 0))
    assert palette_drop(window.view, "Conv2d", QPointF(300, 0))
    graph = window.document.graph
    assert [n.type for n in graph.nodes.values()] == ["Input", "Conv2d"]
    conv = window.scene.node_items["conv1"]
    assert conv.sceneBoundingRect().contains(QPointF(300, 0))   # centred on the cursor
    assert window.selection.current == "conv1"
    assert window.editor.undo_stack.count() == 2


def test_drop_of_foreign_payload_is_refused(window):
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QDragEnterEvent
    from PySide6.QtWidgets import QApplication
    mime = QMimeData()
    mime.setText("Conv2d")
    event = QDragEnterEvent(window.view.mapFromScene(QPointF(0, 0)), Qt.DropAction.CopyAction,
                            mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), event)
    assert not event.isAccepted()
    assert len(window.document.graph) == 0


def test_wiring_ports_with_the_mouse_connects_and_shapes_flow(window):
    palette_drop(window.view, "Input", QPointF(0, 0))
    palette_drop(window.view, "Conv2d", QPointF(300, 0))
    wire(window, "input1", "conv1")
    assert window.document.graph.edges == [Edge("input1", "conv1", 0)]
    item = window.scene.edge_items[Edge("input1", "conv1", 0)]
    assert item.text == "1×28×28"                      # the wire shows what it carries
    assert window.scene.node_items["conv1"].label.shape == "16×26×26"


def test_wire_dragged_from_an_input_port_backwards_also_connects(window):
    palette_drop(window.view, "Input", QPointF(0, 0))
    palette_drop(window.view, "ReLU", QPointF(300, 0))
    window.view.centerOn(150, 0)
    drag_mouse(window.view, in_port(window, "relu1"), out_port(window, "input1"))
    assert Edge("input1", "relu1", 0) in window.document.graph.edges


def test_invalid_wire_is_refused_with_a_reason(window):
    palette_drop(window.view, "Input", QPointF(0, 0))
    palette_drop(window.view, "Conv2d", QPointF(300, 0))
    palette_drop(window.view, "ReLU", QPointF(600, 0))
    wire(window, "conv1", "input1")                   # into an Input
    assert window.document.graph.edges == []
    assert "Input" in window.editor.last_refusal
    assert "Input" in window.statusBar().currentMessage()
    wire(window, "input1", "conv1")
    wire(window, "conv1", "relu1")
    wire(window, "relu1", "conv1")                    # a loop (and a second input)
    assert Edge("relu1", "conv1", 1) not in window.document.graph.edges
    assert window.editor.last_refusal
    wire(window, "input1", "relu1")                   # second input into single-input layer
    assert "takes one input" in window.editor.last_refusal
    assert len(window.document.graph.edges) == 2


def test_self_wire_and_cycle_refusals_name_the_cause(window):
    ed = window.editor
    for t, x in (("Input", 0), ("Concat", 300), ("ReLU", 600)):
        ed.add_node(t, (x, 0))
    assert ed.connect("input1", "concat1") and ed.connect("concat1", "relu1")
    assert not ed.connect("relu1", "concat1")
    assert "loop" in ed.last_refusal
    assert not ed.connect("relu1", "relu1")
    assert "itself" in ed.last_refusal


def test_concat_accepts_several_inputs_in_order(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("ReLU", (250, -100))
    ed.add_node("Tanh", (250, 100))
    ed.add_node("Concat", (500, 0))
    for a, b in (("input1", "relu1"), ("input1", "tanh1")):
        assert ed.connect(a, b)
    wire(window, "relu1", "concat1")
    wire(window, "tanh1", "concat1")
    assert ed.graph.incoming("concat1") == [Edge("relu1", "concat1", 0),
                                            Edge("tanh1", "concat1", 1)]
    assert window.scene.edge_items[Edge("tanh1", "concat1", 1)].text == "2: 1×28×28"
    assert window.scene.node_items["concat1"].label.shape == "2×28×28"


def test_palette_drop_on_a_wire_inserts_the_layer_there(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("Flatten", (500, 0))
    ed.connect("input1", "flatten1")
    edge_item = window.scene.edge_items[Edge("input1", "flatten1", 0)]
    middle = edge_item._path.pointAtPercent(0.5)
    window.view.centerOn(middle)
    assert palette_drop(window.view, "ReLU", middle)
    graph = ed.graph
    assert set(graph.edges) == {Edge("input1", "relu1", 0), Edge("relu1", "flatten1", 0)}
    ed.undo()
    assert graph.edges == [Edge("input1", "flatten1", 0)] and "relu1" not in graph.nodes


def test_dragging_an_unwired_node_onto_a_wire_splices_it_in_one_step(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("Flatten", (600, 0))
    ed.connect("input1", "flatten1")
    ed.add_node("ReLU", (250, 300))
    count = ed.undo_stack.count()
    item = window.scene.node_items["relu1"]
    grab = item.sceneBoundingRect().center()
    middle = window.scene.edge_items[Edge("input1", "flatten1", 0)]._path.pointAtPercent(0.5)
    window.view.centerOn(QPointF(300, 150))
    drag_mouse(window.view, grab, middle, steps=6)
    assert set(ed.graph.edges) == {Edge("input1", "relu1", 0), Edge("relu1", "flatten1", 0)}
    assert ed.undo_stack.count() == count + 1
    ed.undo()
    assert ed.graph.edges == [Edge("input1", "flatten1", 0)]
    assert ed.graph.nodes["relu1"].position == (250.0, 300.0)


def test_a_drag_move_is_one_undo_step_and_moves_all_selected(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("ReLU", (300, 0))
    window.select_all()
    count = ed.undo_stack.count()
    start = window.scene.node_items["input1"].sceneBoundingRect().center()
    window.view.centerOn(QPointF(200, 50))
    drag_mouse(window.view, start, start + QPointF(40, 60), steps=8)
    assert ed.undo_stack.count() == count + 1
    assert ed.graph.nodes["input1"].position == (40.0, 60.0)
    assert ed.graph.nodes["relu1"].position == (340.0, 60.0)
    ed.undo()
    assert ed.graph.nodes["relu1"].position == (300.0, 0.0)
    assert window.scene.node_items["relu1"].pos() == QPointF(300, 0)


def test_rubber_band_selects_the_layers_it_touches(window):
    ed = window.editor
    for i, t in enumerate(("Input", "ReLU", "Tanh")):
        ed.add_node(t, (i * 220, 0))
    window.selection.clear()
    window.view.centerOn(QPointF(200, 50))
    drag_mouse(window.view, QPointF(-40, -60), QPointF(260, 160))
    assert window.selection.nodes == ["input1", "relu1"]
    click(window.view, QPointF(-200, -200))            # empty canvas clears it
    assert window.selection.nodes == []


def test_delete_copy_paste_duplicate_and_undo(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("Conv2d", (220, 0))
    ed.connect("input1", "conv1")
    window.select_all()
    window.act_copy.trigger()
    window.act_paste.trigger()
    graph = ed.graph
    assert set(graph.nodes) == {"input1", "conv1", "input2", "conv2"}
    assert Edge("input2", "conv2", 0) in graph.edges        # the wire among them came along
    assert graph.nodes["conv2"].position == (260.0, 40.0)
    assert window.selection.nodes == ["input2", "conv2"]
    window.act_delete.trigger()
    assert set(graph.nodes) == {"input1", "conv1"}
    window.selection.select(["conv1"])
    window.act_duplicate.trigger()
    assert "conv2" in graph.nodes and len(graph.edges) == 1
    for _ in range(3):
        window.act_undo.trigger()
    assert set(graph.nodes) == {"input1", "conv1"} and len(graph.edges) == 1


def test_errors_show_on_the_node_and_in_the_problems_list(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("Linear", (220, 0))
    ed.add_node("ReLU", (440, 0))
    ed.connect("input1", "fc1")
    ed.connect("fc1", "relu1")
    fc = window.scene.node_items["fc1"]
    assert fc.label.status == "error" and "Flatten" in fc.toolTip()
    assert window.scene.node_items["relu1"].opacity() < 1.0     # downstream: dimmed
    problems = window.problems_panel.list
    texts = [problems.item(i).text() for i in range(problems.count())]
    assert any("Flatten" in t for t in texts)
    row = next(i for i, t in enumerate(texts) if "Flatten" in t)
    window.selection.clear()
    problems.itemClicked.emit(problems.item(row))
    assert window.selection.current == "fc1"
    assert fc.isSelected()


def test_zoom_pan_and_fit(window):
    window.files.load_into(load_template("lenet5"), None)
    view = window.view
    view.fit_to_view()
    for item in window.scene.node_items.values():
        assert view.mapToScene(view.viewport().rect()).boundingRect().contains(
            item.sceneBoundingRect())
    before = view.zoom()
    view.zoom_by(1.5)
    assert abs(view.zoom() - before * 1.5) < 1e-6
    centre = view.center_scene_pos()
    drag_mouse(view, centre, centre + QPointF(100, 0), button=Qt.MouseButton.MiddleButton)
    assert view.center_scene_pos().x() < centre.x() - 20       # the canvas followed the hand
    assert window.editor.undo_stack.count() == 0              # panning edits nothing


def test_auto_layout_is_undoable(window):
    ed = window.editor
    ed.add_node("Input", (500, 500))
    ed.add_node("ReLU", (-300, 80))
    ed.connect("input1", "relu1")
    window.act_layout.trigger()
    assert ed.graph.nodes["relu1"].position[0] > ed.graph.nodes["input1"].position[0]
    ed.undo()
    assert ed.graph.nodes["relu1"].position == (-300.0, 80.0)


def test_lock_blocks_structure_but_allows_chosen_parameters(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("Dropout", (220, 0))
    ed.connect("input1", "dropout1")
    ed.set_locked("training is running", lambda node, name: name == "p")
    assert window.view.banner.isVisible() and "training" in window.view.banner.text()
    # above the canvas, not over its top row of nodes
    assert window.view.banner.geometry().bottom() < window.view.viewport().geometry().top()
    assert window.lock_label.isVisible()
    assert not ed.delete(["dropout1"]) and "training" in ed.last_refusal
    assert not ed.connect("dropout1", "input1")
    assert not window.act_delete.isEnabled()
    assert ed.set_param("dropout1", "p", 0.2)
    assert ed.undo()                           # the parameter change may be undone…
    assert ed.graph.nodes["dropout1"].params == {}
    assert not ed.undo()                       # …but not the wiring before it
    assert "training" in ed.last_refusal
    ed.set_locked(None)
    assert not window.view.banner.isVisible()
    assert window.view.viewport().geometry().top() <= window.view.frameWidth()
    assert ed.delete(["dropout1"])


def test_inserting_into_a_tight_gap_makes_room_in_one_step(window):
    window.files.load_into(load_template("lenet5"), None)
    ed, graph = window.editor, window.document.graph
    before = {n: node.position for n, node in graph.nodes.items()}
    edge_item = window.scene.edge_items[Edge("conv1", "tanh1", 0)]
    middle = edge_item._path.pointAtPercent(0.5)
    window.view.centerOn(middle)
    assert palette_drop(window.view, "BatchNorm2d", middle)
    (cx, cy), (tx, ty) = before["conv1"], before["tanh1"]
    assert graph.nodes["bn1"].position == (cx + COLUMN_WIDTH, cy)   # the freed column
    for node_id, (x, y) in before.items():      # everything from tanh1's column on: right
        moved = (x + COLUMN_WIDTH, y) if x >= tx else (x, y)
        assert graph.nodes[node_id].position == moved, node_id
    assert window.scene.node_items["bn1"].label.shape == "6×28×28"
    assert ed.undo_stack.count() == 1
    ed.undo()
    assert {n: node.position for n, node in graph.nodes.items()} == before
    assert window.scene.node_items["tanh1"].pos() == QPointF(tx, ty)
