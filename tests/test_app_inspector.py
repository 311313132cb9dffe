"""The inspector: editors generated from the registry, live shapes, arithmetic, renaming."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QLineEdit,
                               QSpinBox)

from layerlab.engine import Edge, get_layer
from layerlab.engine.templates import load_template

from app_helpers import dialogs, window  # noqa: F401


def open_lenet(window, select="conv1"):
    window.files.load_into(load_template("lenet5"), None)
    window.selection.select([select])
    return window.inspector


def test_editors_follow_the_registry_declarations(window):
    inspector = open_lenet(window)
    spec = get_layer("Conv2d")
    assert list(inspector.editors) == [p.name for p in spec.params]
    out = inspector.editors["out_channels"].findChild(QSpinBox)
    assert (out.minimum(), out.maximum()) == (1, 65536)
    assert out.value() == 6
    assert inspector.editors["bias"].findChild(QCheckBox).isChecked()
    padding = inspector.editors["padding"]
    assert [padding.mode.itemText(i) for i in range(3)] == ["number", "same", "valid"]
    window.selection.select(["input"])
    shape = window.inspector.editors["shape"].findChild(QLineEdit)
    assert shape.text() == "1, 32, 32"


def test_editing_a_parameter_updates_shapes_everywhere(window):
    inspector = open_lenet(window)
    spin = inspector.editors["out_channels"].findChild(QSpinBox)
    spin.setValue(8)
    scene = window.scene
    assert window.document.graph.nodes["conv1"].params["out_channels"] == 8
    assert scene.node_items["conv1"].label.shape == "8×28×28"
    assert scene.edge_items[Edge("conv1", "tanh1", 0)].text == "8×28×28"
    assert scene.node_items["conv2"].label.count == "3,216 params"     # 5·5·8·16 + 16
    assert "8×28×28" in inspector.shapes.text()
    assert "5·5·1·8 + 8 = 208" in inspector.arithmetic.text()


def test_typing_in_one_field_is_one_undo_step(window):
    inspector = open_lenet(window)
    spin = inspector.editors["out_channels"].findChild(QSpinBox)
    stack = window.editor.undo_stack
    for value in (7, 8, 9, 12):
        spin.setValue(value)
    assert stack.count() == 1
    spin.editingFinished.emit()                 # leaving the field ends the session
    spin.setValue(20)
    assert stack.count() == 2
    window.editor.undo()
    window.editor.undo()
    assert window.document.graph.nodes["conv1"].params["out_channels"] == 6


def test_arithmetic_shows_the_users_numbers(window):
    inspector = open_lenet(window)
    text = inspector.arithmetic.text()
    assert "⌊(32 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 28" in text
    assert "5·5·1·6 + 6 = 156" in text
    assert inspector.arithmetic.font().pointSizeF() > inspector.font().pointSizeF() * 1.2


def test_pair_editor_separate_height_and_width(window):
    inspector = open_lenet(window)
    editor = inspector.editors["kernel_size"]
    editor.separate.setChecked(True)
    editor.w.setValue(3)
    assert window.document.graph.nodes["conv1"].params["kernel_size"] == [5, 3]
    assert window.scene.node_items["conv1"].label.shape == "6×28×30"
    pad = inspector.editors["padding"]
    pad.mode.setCurrentIndex(1)                 # "same"
    assert window.document.graph.nodes["conv1"].params["padding"] == "same"
    assert window.scene.node_items["conv1"].label.shape == "6×32×32"


def test_pooling_stride_can_follow_the_kernel(window):
    inspector = open_lenet(window, "pool1")
    stride = inspector.editors["stride"]
    assert stride.auto.isChecked()              # default None = kernel size
    stride.auto.setChecked(False)
    stride.h.setValue(1)
    assert window.document.graph.nodes["pool1"].params["stride"] == 1
    assert window.scene.node_items["pool1"].label.shape == "6×27×27"


def test_shape_editor_validates_text(window):
    inspector = open_lenet(window, "input")
    editor = inspector.editors["shape"]
    line = editor.findChild(QLineEdit)
    line.setText("3, 32")
    line.textEdited.emit("3, 32")               # two numbers: not a shape
    assert editor.error and "[channels, height, width]" in editor.error
    assert window.document.graph.nodes["input"].params["shape"] == [1, 32, 32]
    line.setText("3 × 32 × 32")
    line.textEdited.emit("3 × 32 × 32")
    assert editor.error is None
    assert window.document.graph.nodes["input"].params["shape"] == [3, 32, 32]
    assert window.scene.node_items["conv1"].label.count == "456 params"


def test_float_and_choice_editors(window):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("LeakyReLU", (220, 0))
    window.selection.select(["leakyrelu1"])
    spin = window.inspector.editors["negative_slope"].findChild(QDoubleSpinBox)
    assert spin.text() == "0.01"
    spin.setValue(0.2)
    assert ed.graph.nodes["leakyrelu1"].params["negative_slope"] == 0.2
    ed.add_node("GELU", (440, 0))
    window.selection.select(["gelu1"])
    combo = window.inspector.editors["approximate"].findChild(QComboBox)
    combo.setCurrentIndex(combo.findText("tanh"))
    assert ed.graph.nodes["gelu1"].params["approximate"] == "tanh"


def test_rename_from_the_inspector(window):
    inspector = open_lenet(window)
    inspector.id_edit.setText("features")
    inspector.id_edit.editingFinished.emit()
    graph = window.document.graph
    assert "features" in graph.nodes and "conv1" not in graph.nodes
    assert Edge("input", "features", 0) in graph.edges
    assert window.selection.current == "features"
    assert window.scene.node_items["features"].label.node_id == "features"
    inspector.id_edit.setText("conv2")                     # taken
    inspector.id_edit.textEdited.emit("conv2")
    assert "already" in inspector.name_error.text()
    inspector.id_edit.editingFinished.emit()
    assert inspector.id_edit.text() == "features"
    window.editor.undo()
    assert "conv1" in graph.nodes


def test_undo_of_a_parameter_refreshes_the_editor(window):
    inspector = open_lenet(window)
    inspector.editors["out_channels"].findChild(QSpinBox).setValue(9)
    window.editor.undo()
    assert window.inspector.editors["out_channels"].findChild(QSpinBox).value() == 6


def test_nothing_selected_shows_a_hint(window):
    open_lenet(window)
    window.selection.clear()
    assert window.inspector.node_id is None
    assert window.inspector.editors == {}
    window.selection.select(["conv1", "conv2"])
    label = window.inspector.widget().findChild(QLabel, "inspectorHint")
    assert label is not None and "2 layers" in label.text()


def test_locked_document_disables_parameter_editors_selectively(window):
    inspector = open_lenet(window, "conv1")
    window.editor.set_locked("training", lambda node, name: name == "bias")
    assert not inspector.editors["out_channels"].isEnabled()
    assert inspector.editors["bias"].isEnabled()
    assert not inspector.id_edit.isEnabled()
    window.editor.set_locked(None)
    assert inspector.editors["out_channels"].isEnabled()


def test_backspace_in_a_field_does_not_delete_the_layer(window, qtbot):
    inspector = open_lenet(window)
    spin = inspector.editors["out_channels"].findChild(QSpinBox)
    spin.setFocus()
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_End)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Backspace)
    assert "conv1" in window.document.graph.nodes


def test_a_rename_collision_says_why_the_old_name_is_back(window):
    inspector = open_lenet(window)
    messages = []
    window.editor.message.connect(messages.append)
    inspector.id_edit.setText("conv2")                     # taken, committed without typing
    inspector.id_edit.editingFinished.emit()
    assert inspector.id_edit.text() == "conv1"
    assert inspector.name_error.isVisible()
    assert "already a layer called 'conv2'" in inspector.name_error.text()
    assert "stays 'conv1'" in inspector.name_error.text()
    assert messages and "conv2" in messages[-1]


def _clipped_labels(inspector) -> list[str]:
    """Labels that do not show all their text at the inspector's current width."""
    room = inspector.viewport().width()
    clipped = []
    for label in inspector.widget().findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        right = label.mapTo(inspector.widget(), label.rect().topRight()).x()
        needs = (label.heightForWidth(label.width()) if label.wordWrap()
                 else label.sizeHint().height())
        if (right > room or needs > label.height()
                or (not label.wordWrap() and label.sizeHint().width() > label.width())):
            clipped.append(label.text()[:60])
    return clipped


def test_the_arithmetic_and_hints_read_whole_in_a_narrow_dock(qtbot):
    from layerlab.app.editor import Editor
    from layerlab.app.panels.inspector import InspectorPanel
    editor = Editor()
    editor.document.set_project(load_template("lenet5"))
    inspector = InspectorPanel(editor)
    qtbot.addWidget(inspector)
    inspector.resize(220, 900)
    inspector.show()
    qtbot.waitExposed(inspector)
    for node in ("conv1", "pool1", "fc1", "flatten"):
        editor.selection.select([node])
        qtbot.wait(10)                                     # let the layouts settle
        assert inspector.widget().width() <= inspector.viewport().width(), node
        assert _clipped_labels(inspector) == [], node
        arithmetic = inspector.arithmetic
        assert arithmetic.wordWrap() and "= " in arithmetic.text()


def test_selecting_a_layer_brings_the_inspector_forward(window):
    window.files.load_into(load_template("lenet5"), None)
    inspector_dock = window.panels["inspector"]
    other = next(d for k, d in window.panels.items()
                 if k not in ("inspector", "palette") and d.isVisible())
    window.tabifyDockWidget(inspector_dock, other)
    other.raise_()
    from PySide6.QtWidgets import QApplication
    QApplication.processEvents()
    assert window.inspector.visibleRegion().isEmpty()      # hidden behind another tab
    window.selection.select(["conv1"])
    QApplication.processEvents()
    assert not window.inspector.visibleRegion().isEmpty()
    inspector_dock.close()                                  # closed by the person: stays closed
    window.selection.select(["conv2"])
    QApplication.processEvents()
    assert not inspector_dock.isVisible()
