"""Done when: LeNet-5 built by hand from an empty canvas — palette drops, port wires and
inspector edits — shows 61,706 parameters, saves, reopens, and undoes back to empty."""
from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLineEdit, QSpinBox

from layerlab.engine.templates import load_template

from app_helpers import dialogs, make_window, palette_drop, window, wire  # noqa: F401

LAYERS = ["Input", "Conv2d", "Tanh", "AvgPool2d", "Conv2d", "Tanh", "AvgPool2d", "Flatten",
          "Linear", "Tanh", "Linear", "Tanh", "Linear"]


def set_spin(window, node_id: str, name: str, value: int) -> None:
    window.selection.select([node_id])
    spin = window.inspector.editors[name].findChild(QSpinBox)
    spin.setFocus()
    spin.setValue(value)
    spin.editingFinished.emit()


def rename(window, old: str, new: str) -> None:
    window.selection.select([old])
    window.inspector.id_edit.setText(new)
    window.inspector.id_edit.editingFinished.emit()


def resolved(graph_analysis) -> dict:
    return {n: (i.type, i.resolved) for n, i in graph_analysis.nodes.items()}


def test_build_lenet5_by_hand(window, tmp_path, dialogs, qtbot):
    view, doc = window.view, window.document
    assert len(doc.graph) == 0
    # 1. palette drops, left to right
    ids = []
    for i, type_name in enumerate(LAYERS):
        at = QPointF(i * 220 + 75, 52)
        view.centerOn(at)
        assert palette_drop(view, type_name, at)
        ids.append(window.selection.current)
    assert ids[:3] == ["input1", "conv1", "tanh1"] and len(doc.graph) == 13
    # 2. wire each layer's output port into the next one's input port
    for a, b in zip(ids, ids[1:]):
        wire(window, a, b)
    assert len(doc.graph.edges) == 12
    # 3. inspector edits: names, the input shape, filters, kernels and widths
    rename(window, "input1", "input")
    rename(window, "flatten1", "flatten")
    window.selection.select(["input"])
    shape = window.inspector.editors["shape"].findChild(QLineEdit)
    shape.setText("1, 32, 32")
    shape.textEdited.emit("1, 32, 32")
    shape.editingFinished.emit()
    for node, name, value in (("conv1", "out_channels", 6), ("conv1", "kernel_size", 5),
                              ("conv2", "out_channels", 16), ("conv2", "kernel_size", 5),
                              ("fc1", "out_features", 120), ("fc2", "out_features", 84)):
        set_spin(window, node, name, value)
    # the summary shows what the paper says
    assert doc.analysis.ok
    assert doc.analysis.total_params == 61_706
    assert "Total parameters: 61,706" in window.summary_panel.totals.text()
    template = load_template("lenet5").graph
    from layerlab.engine import analyze
    assert resolved(doc.analysis) == resolved(analyze(template))
    assert set(doc.graph.edges) == set(template.edges)
    assert window.scene.node_items["fc3"].label.shape == "10"
    # save, reopen in a fresh window: the same network
    dialogs.save_path = str(tmp_path / "lenet5_by_hand.json")
    assert window.files.save_as()
    other = make_window(tmp_path / "second", qtbot)
    assert other.files.open_path(tmp_path / "lenet5_by_hand.json")
    assert other.document.graph == doc.graph
    assert "Total parameters: 61,706" in other.summary_panel.totals.text()
    # and every one of those steps undoes, back to the empty canvas
    steps = window.editor.undo_stack.count()
    assert steps == 13 + 12 + 2 + 1 + 5          # conv2 already had 16 filters
    while window.editor.undo_stack.canUndo():
        assert window.editor.undo()
    assert len(doc.graph) == 0 and doc.graph.edges == []
    assert window.scene.node_items == {} and window.scene.edge_items == {}
    assert "Total parameters: 0" in window.summary_panel.totals.text()
