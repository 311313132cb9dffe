"""The document and its commands: every edit is one undo step, N undos restore the original
exactly (Graph ==), redo replays, and the scene always mirrors the document."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF

from layerlab.app.canvas.scene import GraphScene
from layerlab.app.document import Document
from layerlab.app.editor import Editor
from layerlab.engine import Edge, all_specs, format_shape
from layerlab.engine.templates import load_template

TYPES = [s.type for s in all_specs()]


@pytest.fixture
def editor(qapp):
    return Editor(Document(load_template("lenet5")))


def assert_scene_mirrors(scene: GraphScene) -> None:
    graph, analysis = scene.document.graph, scene.document.analysis
    assert set(scene.node_items) == set(graph.nodes)
    assert set(scene.edge_items) == set(graph.edges)
    for node_id, item in scene.node_items.items():
        assert item.pos() == QPointF(*graph.nodes[node_id].position)
        info = analysis.nodes[node_id]
        if info.status == "ok":
            assert item.label.shape == format_shape(info.output_shape)
        assert item.label.status == info.status
    for edge, item in scene.edge_items.items():
        assert item.source_item is scene.node_items[edge.source]
        assert item.target_item is scene.node_items[edge.target]


def test_signals_are_fine_grained(editor, qtbot):
    doc = editor.document
    seen = []
    for name in ("nodeAdded", "nodeRemoved", "nodeChanged", "nodeMoved", "nodeRenamed",
                 "edgeAdded", "edgeRemoved", "analysisChanged"):
        getattr(doc, name).connect(lambda *a, n=name: seen.append(n))
    editor.set_param("conv1", "out_channels", 8)
    assert seen == ["nodeChanged", "analysisChanged"]
    seen.clear()
    editor.delete(["tanh1"])
    assert seen == ["edgeRemoved", "edgeRemoved", "nodeRemoved", "analysisChanged"]
    seen.clear()
    editor.move_nodes({"conv1": doc.node("conv1").position}, {"conv1": (5.0, 6.0)})
    assert seen == ["nodeMoved"]                 # positions do not re-run the analysis


def test_n_edits_then_n_undos_restore_the_original(editor, qtbot):
    scene = GraphScene(editor)
    original = editor.graph.copy()
    ed = editor
    ed.set_param("conv1", "out_channels", 10)
    ed.add_node("ReLU", (300, 300))
    ed.connect("fc3", "relu1")
    ed.rename("conv2", "features2")
    ed.delete(["tanh3"])
    ed.add_node_on_edge("Dropout", Edge("fc2", "tanh4", 0), (2300, 100))
    ed.selection.select(["conv1", "tanh1"])
    ed.duplicate_selection()
    ed.auto_layout()
    ed.set_param("pool1", "stride", [1, 2])
    edits = ed.undo_stack.count()
    assert edits == 9
    changed = ed.graph.copy()
    assert changed != original
    assert_scene_mirrors(scene)
    for _ in range(edits):
        assert ed.undo()
        assert_scene_mirrors(scene)
    assert ed.graph == original
    assert not ed.is_modified()
    for _ in range(edits):
        assert ed.redo()
    assert ed.graph == changed
    assert_scene_mirrors(scene)


@st.composite
def edit_scripts(draw):
    return draw(st.lists(st.tuples(st.sampled_from(
        ["add", "wire", "delete", "param", "rename", "move", "insert", "dup", "layout"]),
        st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=14))


def apply(ed: Editor, op: str, a: int, b: int) -> None:
    ids = list(ed.graph.nodes)
    pick = (lambda n: ids[n % len(ids)]) if ids else (lambda n: None)
    if op == "add" or not ids:
        ed.add_node(TYPES[a % len(TYPES)], (a % 900, b % 700))
    elif op == "wire":
        ed.connect(pick(a), pick(b))
    elif op == "delete":
        ed.delete([pick(a)], ed.graph.edges[b % len(ed.graph.edges):][:1]
                  if ed.graph.edges else [])
    elif op == "param":
        node = ed.graph.nodes[pick(a)]
        spec = next(s for s in all_specs() if s.type == node.type)
        for param in spec.params:
            value = {"int": max(1, b % 40), "float": (b % 10) / 10, "bool": bool(b % 2),
                     "pair": [1 + b % 3, 1 + a % 4], "padding": b % 2,
                     "shape": [1 + b % 3, 8 + b % 20, 8 + a % 20]}.get(param.kind)
            if param.kind == "choice":
                value = param.choices[b % len(param.choices)]
            ed.set_param(node.id, param.name, value)
            break
    elif op == "rename":
        ed.rename(pick(a), f"n{b}")
    elif op == "move":
        node = pick(a)
        ed.move_nodes({node: ed.graph.nodes[node].position}, {node: (float(b), float(a))})
    elif op == "insert" and ed.graph.edges:
        ed.add_node_on_edge(TYPES[b % len(TYPES)], ed.graph.edges[a % len(ed.graph.edges)],
                            (a, b))
    elif op == "dup":
        ed.selection.select([pick(a), pick(b)])
        ed.duplicate_selection()
    elif op == "layout":
        ed.auto_layout()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=edit_scripts())
def test_any_edit_sequence_undoes_to_the_original(qapp, script):
    ed = Editor(Document(load_template("lenet5")))
    scene = GraphScene(ed)
    original = ed.graph.copy()
    for op, a, b in script:
        apply(ed, op, a, b)
    after = ed.graph.copy()
    assert_scene_mirrors(scene)
    while ed.undo_stack.canUndo():
        assert ed.undo()
    assert ed.graph == original
    assert_scene_mirrors(scene)
    while ed.undo_stack.canRedo():
        assert ed.redo()
    assert ed.graph == after
    assert_scene_mirrors(scene)


def test_parameter_edits_merge_within_a_session_only(editor):
    session = editor.new_param_session()
    for v in (7, 8, 9):
        editor.set_param("conv1", "out_channels", v, session)
    assert editor.undo_stack.count() == 1
    editor.set_param("conv1", "out_channels", 6, session)     # back where it started
    assert editor.undo_stack.count() == 0                     # the step became obsolete
    editor.set_param("conv1", "out_channels", 7, editor.new_param_session())
    editor.set_param("conv1", "out_channels", 8, editor.new_param_session())
    assert editor.undo_stack.count() == 2


def test_invalid_values_and_names_are_refused_not_raised(editor):
    assert not editor.set_param("conv1", "out_channels", 0)
    assert "at least 1" in editor.last_refusal
    assert not editor.set_param("conv1", "colour", 3)
    assert not editor.rename("conv1", "2bad")
    assert not editor.rename("conv1", "conv2")
    assert not editor.add_node("NoSuchLayer", (0, 0))
    assert editor.undo_stack.count() == 0


def test_paste_of_foreign_clipboard_text_is_refused(editor, qapp):
    from PySide6.QtGui import QGuiApplication
    QGuiApplication.clipboard().setText('{"nodes": [{"id": "x", "type": "Conv9d"}]}')
    assert editor.paste() == []
    assert "clipboard" in editor.last_refusal
    assert editor.undo_stack.count() == 0
