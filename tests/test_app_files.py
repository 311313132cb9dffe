"""Files: save/open round trip, broken files, dirty marker, recent files, autosave and
recovery, the template gallery, and the remembered window layout."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QMessageBox

from layerlab.app.autosave import find_recoveries
from layerlab.app.template_dialog import TemplateDialog
from layerlab.engine import load_project
from layerlab.engine.templates import list_templates, load_template

from app_helpers import dialogs, make_window, window  # noqa: F401


def test_save_and_open_round_trip(window, tmp_path, dialogs):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    ed.add_node("Conv2d", (220, 10))
    ed.connect("input1", "conv1")
    ed.set_param("conv1", "kernel_size", [3, 5])
    assert window.isWindowModified()
    dialogs.save_path = str(tmp_path / "net")         # no suffix: .json is added
    assert window.files.save_as()
    path = tmp_path / "net.json"
    assert path.is_file() and not window.isWindowModified()
    assert window.windowTitle().startswith("net.json")
    saved_graph = ed.graph.copy()
    ed.add_node("ReLU", (440, 0))
    assert window.isWindowModified()
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.files.open_path(path)
    assert window.document.graph == saved_graph
    assert window.editor.undo_stack.count() == 0
    assert load_project(path).graph == saved_graph
    assert window.files.recent.paths()[0] == path.resolve()


def test_a_broken_file_shows_the_loader_messages_and_keeps_the_work(window, tmp_path, dialogs):
    ed = window.editor
    ed.add_node("Input", (0, 0))
    before = ed.graph.copy()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "layerlab", "version": 1, "nodes": [
        {"id": "a", "type": "Conv9d"}, {"id": "b", "type": "Linear",
                                        "params": {"out_features": -3}}],
        "edges": [{"source": "a", "target": "zzz"}]}))
    assert not window.files.open_path(bad, confirm=False)
    shown = dialogs.texts()
    assert "bad.json cannot be opened" in shown
    assert "Conv9d" in shown and "out_features" in shown
    assert window.document.graph == before and ed.undo_stack.count() == 1
    (tmp_path / "junk.json").write_text("{ not json")
    assert not window.files.open_path(tmp_path / "junk.json", confirm=False)
    assert "not valid JSON" in dialogs.texts()
    assert window.document.graph == before


def test_unsaved_changes_are_asked_about(window, dialogs):
    window.editor.add_node("Input", (0, 0))
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.files.confirm_discard()
    assert dialogs.shown[-1]["title"] == "Unsaved changes"
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.files.confirm_discard()


def test_template_gallery_lists_the_engine_templates(qtbot, dialogs):
    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    names = dialog.names()
    assert names[0] == "Empty canvas"
    assert set(names[1:]) == {t.name for t in list_templates()}
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert any("61,706 parameters" in t for t in texts)
    dialog.select("LeNet-5")
    assert dialog.project().graph == load_template("lenet5").graph
    dialog.select("Empty canvas")
    assert len(dialog.project().graph) == 0


def test_new_from_template(window, monkeypatch):
    monkeypatch.setattr(TemplateDialog, "exec", lambda self: (self.select("LeNet-5"), 1)[1])
    assert window.files.new()
    assert window.document.analysis.total_params == 61_706
    assert window.document.path is None and not window.isWindowModified()
    assert "61,706" in window.summary_panel.totals.text()


def test_autosave_and_recovery_after_a_crash(tmp_path, qtbot, dialogs):
    first = make_window(tmp_path, qtbot)
    first.editor.add_node("Input", (0, 0))
    first.editor.add_node("ReLU", (220, 0))
    first.autosave.tick()                            # modified → written
    assert first.autosave.file.is_file()
    assert find_recoveries(first.autosave.directory) == []   # its session is alive
    first.autosave.lock.unlock()                     # the process "dies"
    recoveries = find_recoveries(first.autosave.directory)
    assert len(recoveries) == 1
    second = make_window(tmp_path, qtbot)
    dialogs.question_answer = QMessageBox.StandardButton.Yes
    assert second.offer_recovery()
    assert second.document.graph == first.document.graph
    assert second.isWindowModified()
    assert find_recoveries(second.autosave.directory) == []
    second.files.save_to(tmp_path / "saved.json")
    assert not second.autosave.file.exists()         # saving drops the copy
    for w in (first, second):
        w.editor.mark_saved()


def test_declined_recovery_is_discarded(tmp_path, qtbot, dialogs):
    first = make_window(tmp_path, qtbot)
    first.editor.add_node("Input", (0, 0))
    first.autosave.save_now()
    first.autosave.lock.unlock()
    second = make_window(tmp_path, qtbot)
    dialogs.question_answer = QMessageBox.StandardButton.No
    assert not second.offer_recovery()
    assert len(second.document.graph) == 0
    assert find_recoveries(second.autosave.directory) == []
    first.editor.mark_saved()


def test_clean_exit_removes_the_autosave(tmp_path, qtbot, dialogs):
    w = make_window(tmp_path, qtbot)
    w.editor.add_node("Input", (0, 0))
    w.autosave.tick()
    assert w.autosave.file.exists()
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert w.close()
    assert not w.autosave.file.exists()
    assert find_recoveries(w.autosave.directory) == []


def test_window_layout_is_remembered(tmp_path, qtbot, dialogs):
    first = make_window(tmp_path, qtbot)
    first.panels["problems"].hide()
    first.resize(1111, 777)
    first.close()
    second = make_window(tmp_path, qtbot, size=None)
    assert not second.panels["problems"].isVisible()
    assert second.panels["summary"].isVisible()
    assert second.settings.value("window/geometry") is not None
    assert abs(second.size().height() - 777) < 20    # (offscreen clamps the width)


def test_recent_files_menu(window, tmp_path):
    path = tmp_path / "lenet.json"
    from layerlab.engine import save_project
    save_project(load_template("lenet5"), path)
    assert window.files.open_path(path)
    actions = [a for a in window.recent_menu.actions() if a.text() == "lenet.json"]
    assert actions
    window.files.load_into(load_template("house_mlp"), None)
    actions[0].trigger()
    assert window.document.path == path


def test_dock_registration_hook(window, qtbot):
    from PySide6.QtWidgets import QLabel
    dock = window.add_panel("training", "Training", QLabel("plots"),
                            tabify_with="summary")
    assert window.panels["training"] is dock
    assert dock.objectName() == "dock_training"
    assert dock.toggleViewAction() in window.panels_menu.actions()
