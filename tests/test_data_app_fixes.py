"""The app side of dataset fits: a new Input takes the dataset's shape (app/editor.py), and a
Fix of plain-data edits becomes ONE undoable command (Editor.apply_fix)."""
from __future__ import annotations

import pytest

from layerlab.app.document import Document
from layerlab.app.editor import Editor
from layerlab.engine import Graph, Project
from layerlab.engine.data.fit import dataset_problems
from layerlab.engine.edits import Fix, SetParams, SetSection
from layerlab.engine.templates import load_template

from app_helpers import dialogs, window  # noqa: F401


def editor_for(project: Project) -> Editor:
    return Editor(Document(project))


@pytest.mark.parametrize("dataset, shape", [
    ({"kind": "shapes", "size": 32, "channels": 3}, [3, 32, 32]),
    ({"kind": "digits"}, [1, 8, 8]),
    ({}, [1, 28, 28]),                      # no section: the Input's default, data follows
])
def test_a_new_input_takes_the_dataset_shape(qtbot, dataset, shape):
    editor = editor_for(Project(Graph(), dataset=dataset))
    node_id = editor.add_node("Input", (0.0, 0.0))
    from layerlab.engine.inference import analyze
    assert analyze(editor.graph).nodes[node_id].output_shape == tuple(shape)
    conv = editor.append_node("Conv2d", node_id)            # other layers: no dataset hook
    assert conv and editor.graph.nodes[conv].params == {}


def test_a_fix_with_new_nodes_wires_and_params_is_one_undo_step(qtbot):
    project = load_template("digits_cnn")
    for node in ("flatten", "fc1", "relu3", "dropout", "fc2"):
        project.graph.remove_node(node)    # ends in pool2's feature maps: no classifier
    editor = editor_for(project)
    [problem] = dataset_problems(editor.document.project)
    fix = problem.fixes[0]
    assert fix.label == "Add Flatten and a Linear layer with 10 outputs at the end"
    before = editor.document.project.copy()
    assert editor.apply_fix(fix)
    assert editor.undo_stack.count() == 1
    assert dataset_problems(editor.document.project) == []
    editor.undo()
    after_undo = editor.document.project
    assert list(after_undo.graph.nodes) == list(before.graph.nodes)
    assert after_undo.graph.edges == before.graph.edges
    editor.redo()
    assert dataset_problems(editor.document.project) == []


def test_section_and_params_in_one_command_and_a_bad_edit_changes_nothing(qtbot):
    editor = editor_for(load_template("digits_cnn"))
    seen = []
    editor.sectionChanged.connect(seen.append)
    edits = [SetSection("dataset", {"kind": "shapes", "size": 8}, replace=True),
             SetParams("fc2", {"out_features": 6, "bias": None})]
    assert editor.apply_fix(Fix("Use shapes", tuple(edits)))
    assert editor.document.project.dataset == {"kind": "shapes", "size": 8}
    assert editor.graph.nodes["fc2"].params == {"out_features": 6}
    assert "dataset" in seen
    editor.undo()
    assert editor.document.project.dataset == {"kind": "digits"}
    assert editor.graph.nodes["fc2"].params["out_features"] == 10
    refusals = []
    editor.message.connect(refusals.append)
    assert not editor.apply_fix(Fix("bad", (SetParams("fc2", {"out_features": 3}),
                                            SetParams("nope", {"x": 1}))))
    assert "edit 2 (set_params nope): there is no node called 'nope'" in refusals[-1]
    assert editor.graph.nodes["fc2"].params["out_features"] == 10    # nothing changed


def test_dataset_mismatches_show_in_the_window_with_their_fix(window, qtbot):
    """The dashboard registers dataset_problems as a problem source: a mismatch with the
    dataset is listed with the graph's problems, and its fix clears it in one undo step."""
    editor = window.editor
    window.files.load_into(load_template("digits_cnn"), None)
    assert not [p for p in editor.problems() if p.fixes]
    fc2_out = editor.graph.nodes["fc2"].params["out_features"]
    assert editor.set_param("fc2", "out_features", fc2_out + 3)
    problems = [p for p in editor.problems() if p.node == "fc2" and p.fixes]
    assert problems, editor.problems()
    assert editor.apply_fix(problems[0].fixes[0])
    assert editor.graph.nodes["fc2"].params["out_features"] == fc2_out
    assert not [p for p in editor.problems() if p.node == "fc2"]
