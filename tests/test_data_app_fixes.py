"""The app side of dataset fits: a new Input takes the dataset's shape (app/editor.py), and a
Fix of plain-data edits becomes ONE undoable command (app/edit_commands.py)."""
from __future__ import annotations

import pytest

from layerlab.app.dashboard.state.settings_commands import SettingsNotifier
from layerlab.app.document import Document
from layerlab.app.edit_commands import edits_command
from layerlab.app.editor import Editor
from layerlab.engine import Graph, Project
from layerlab.engine.data.fit import dataset_problems
from layerlab.engine.edits import EditError, SetParams, SetSection
from layerlab.engine.templates import load_template


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
    notifier = SettingsNotifier()
    assert editor.push(edits_command(editor.document, fix.edits, fix.label, notifier))
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
    notifier = SettingsNotifier()
    seen = []
    notifier.changed.connect(seen.append)
    edits = [SetSection("dataset", {"kind": "shapes", "size": 8}, replace=True),
             SetParams("fc2", {"out_features": 6, "bias": None})]
    assert editor.push(edits_command(editor.document, edits, "Use shapes", notifier))
    assert editor.document.project.dataset == {"kind": "shapes", "size": 8}
    assert editor.graph.nodes["fc2"].params == {"out_features": 6}
    assert "dataset" in seen
    editor.undo()
    assert editor.document.project.dataset == {"kind": "digits"}
    assert editor.graph.nodes["fc2"].params["out_features"] == 10
    with pytest.raises(EditError, match="edit 2: there is no node called 'nope'"):
        edits_command(editor.document, [SetParams("fc2", {"out_features": 3}),
                                        SetParams("nope", {"x": 1})], "bad", notifier)
    assert editor.graph.nodes["fc2"].params["out_features"] == 10    # rolled back
