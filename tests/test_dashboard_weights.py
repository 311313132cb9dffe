"""Trained weights beside the project (safetensors checkpoint): saved with the project,
reloaded with it (with a proper confusion matrix), asked about when they would be lost; the
predict panel on a drawn digit and on a table's features."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox

from layerlab.engine.formatting import plain_number
from layerlab.engine.locations import checkpoint_dir, has_checkpoint
from layerlab.engine import save_project
from layerlab.engine.templates import load_template

from app_helpers import make_window
from dashboard_helpers import (WAIT_MS, dash, dialogs, digits_project, draw_seven,  # noqa: F401
                               flush, predict_now, train_and_wait, wait_idle, wait_ready)


def test_weights_saved_with_the_project_and_reloaded(qtbot, dash, tmp_path, dialogs):
    d = dash
    path = tmp_path / "digits.json"
    save_project(digits_project(epochs=2), path)
    assert d.window.files.open_path(path, confirm=False)
    assert not has_checkpoint(path)
    train_and_wait(qtbot, d)
    assert not has_checkpoint(path)                   # trained weights are unsaved work…
    assert d.window.isWindowModified()                # …and the title says so
    assert d.window.files.save()                      # Ctrl+S saves them beside the project
    qtbot.waitUntil(lambda: d.idle and not d.project_state.weights.unsaved, timeout=WAIT_MS)
    folder = checkpoint_dir(path)
    assert (folder / "weights.safetensors").is_file() and has_checkpoint(path)
    assert not d.window.isWindowModified()
    draw_seven(d.predict_panel.canvas)
    before = predict_now(qtbot, d).copy()
    assert before.shape == (10,)

    # a second window opening the project loads the weights: same predictions, and the
    # confusion matrix of the loaded weights (a validation pass), not empty axes
    other = make_window(tmp_path / "second", qtbot)
    od = other.dashboard
    wait_ready(qtbot, od)
    assert other.files.open_path(path, confirm=False)
    qtbot.waitUntil(lambda: od.session is not None and od.idle, timeout=WAIT_MS)
    wait_idle(qtbot, od)
    info = od.session
    assert info.loaded_from == str(folder) and info.epoch == 2
    assert od.project_state.curves["val_epoch"].n == 2         # the history is drawn
    assert od.project_state.message.title == "Trained weights loaded"
    # Said in the Training panel, brought to the front of its tab group (on a later turn
    # of the event loop: a message bar behind another tab says nothing).
    qtbot.waitUntil(lambda: "loaded" in od.panel.message_bar.message().lower(), timeout=WAIT_MS)
    assert not od.project_state.weights.unsaved and not other.isWindowModified()
    other.resize(1400, 900)
    od.docks["confusion"].raise_()
    qtbot.waitUntil(lambda: od.confusion_view.isVisible(), timeout=WAIT_MS)
    flush(od)
    view = od.confusion_view
    assert not view.body.empty
    assert view.snapshot.confusion.shape == (10, 10)
    assert view.snapshot.confusion.sum() == info.num_val
    assert view.table.rowCount() == 10
    assert "Epoch 2, validation accuracy" in view.caption.text()
    draw_seven(od.predict_panel.canvas)
    after = predict_now(qtbot, od)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)

    # Resume on a finished run says there is nothing left to train, and offers more
    assert od.panel.resume_button.isEnabled()
    od.panel.resume_button.click()
    flush(od)
    assert "Nothing left to train" in od.panel.message_bar.message()
    od.panel.message_bar.buttons()[0].click()         # "Train 2 more epochs"
    qtbot.waitUntil(lambda: od.project_state.run.info is not None, timeout=WAIT_MS)
    assert od.project_state.run.info.start_epoch == 2 and od.project_state.run.info.epochs == 4
    wait_idle(qtbot, od)
    assert od.session.epoch == 4 and len(od.session.history) == 4
    other.editor.mark_saved()
    od.project_state.weights.unsaved = False
    od.shutdown()


def test_saving_the_project_saves_the_weights(qtbot, dash, tmp_path, dialogs):
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)                          # an untitled project: kept in memory
    path = tmp_path / "saved.json"
    dialogs.save_path = str(path)
    assert d.window.files.save()
    qtbot.waitUntil(lambda: has_checkpoint(path) and d.idle, timeout=WAIT_MS)
    # after a structural change, saving leaves the (no longer fitting) weights alone
    d.editor.set_param("fc1", "out_features", 32)
    flush(d)
    assert not d.can_resume()
    assert d.predict_panel.session is None
    assert "changed since it was trained" in d.predict_panel.status.text()
    mtime = (checkpoint_dir(path) / "weights.safetensors").stat().st_mtime_ns
    assert d.window.files.save()
    assert "not saved" in d.window.statusBar().currentMessage()
    assert (checkpoint_dir(path) / "weights.safetensors").stat().st_mtime_ns == mtime


def test_unsaved_weights_are_asked_about_on_new_open_and_quit(qtbot, dash, tmp_path,
                                                             dialogs, monkeypatch):
    """Journey: train, then New / Open / Quit — each asks Save / Discard / Cancel about the
    trained weights; Cancel keeps everything."""
    from layerlab.app.template_dialog import TemplateDialog
    d = dash
    window = d.window
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    assert not d.editor.is_modified()                 # no edit: only the weights are new
    step = d.session.step
    dialogs.answer = QMessageBox.StandardButton.Cancel
    monkeypatch.setattr(TemplateDialog, "exec", lambda self: 0)

    for attempt in (window.files.new, window.files.open, window.close):
        before = len(dialogs.shown)
        assert not attempt()
        asked = dialogs.shown[before:]
        assert [a["title"] for a in asked] == ["Unsaved changes"], attempt
        assert "trained weights" in asked[0]["text"] + asked[0]["info"]
        assert "1 epoch, step" in asked[0]["info"]
        assert window.isVisible() and d.session.step == step    # nothing lost
        assert d.project_state.weights.unsaved

    other = tmp_path / "other.json"
    save_project(load_template("shapes_cnn"), other)
    dialogs.answer = QMessageBox.StandardButton.Discard          # now really open another
    dialogs.open_path = str(other)
    assert window.files.open()
    assert d.doc.path == other
    qtbot.waitUntil(lambda: d.idle, timeout=WAIT_MS)
    assert d.session is None and not d.project_state.weights.unsaved


def test_quit_after_training_saves_the_weights_when_asked(qtbot, dash, tmp_path, dialogs):
    d = dash
    window = d.window
    path = tmp_path / "quit.json"
    save_project(digits_project(epochs=1), path)
    assert window.files.open_path(path, confirm=False)
    train_and_wait(qtbot, d)
    dialogs.answer = QMessageBox.StandardButton.Save
    window.close()                                    # asked; Save: weights written, then closed
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert has_checkpoint(path)
    assert [a["title"] for a in dialogs.shown].count("Unsaved changes") == 1


def test_predict_panel_on_a_drawn_digit(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    panel = d.predict_panel
    assert panel.session is d.session
    assert panel.answer.text() == "Draw something…"
    draw_seven(panel.canvas)
    probs = predict_now(qtbot, d)
    assert probs.shape == (10,) and np.all(probs >= 0)
    assert abs(float(probs.sum()) - 1.0) < 1e-5
    assert panel.answer.text().startswith("Looks like: ")
    bars = panel.bars.opts["height"]
    assert len(bars) == 10 and abs(float(np.sum(bars)) - 100) < 1e-3
    seen = panel.seen.image()
    assert seen is not None and seen.shape[:2] == (8, 8)  # what the network sees: 8×8
    panel.canvas.clear()
    assert panel.answer.text() == "Draw something…"


def test_predict_panel_for_a_regression_table(qtbot, dash):
    d = dash
    project = load_template("house_mlp")
    project.training = {**project.training, "epochs": 5, "device": "cpu"}
    d.window.files.load_into(project, None)
    train_and_wait(qtbot, d)
    panel = d.predict_panel
    assert panel.inputs.currentIndex() == 1               # the feature form, not a canvas
    assert len(panel.fields) == len(d.session.feature_names) == 3
    values = predict_now(qtbot, d)
    assert values.shape == (1,)
    text = panel.answer.text()
    assert text.startswith("Predicted price: ")
    real = float(d.project_state.results.prediction.real[0])
    # In real units and plain numbers, as a person writes a price: "377,900", not 3.779e+05.
    assert text == f"Predicted price: {plain_number(real)}"
    assert "e+" not in text


def test_autosave_keeps_unsaved_weights_and_recovery_brings_them_back(qtbot, dash, tmp_path,
                                                                      dialogs):
    """Trained, not saved, the app dies: the next start offers the project *and* its
    weights (the worker's rescue checkpoint in the autosave folder)."""
    from layerlab.app.autosave import find_recoveries
    d = dash
    window = d.window
    d.doc.project.training["epochs"] = 2
    d.doc.project.dataset = {"kind": "digits", "limit": 300}
    train_and_wait(qtbot, d)
    autosave = window.autosave
    assert d.project_state.weights.unsaved
    qtbot.waitUntil(lambda: (autosave.weights_dir / "weights.safetensors").is_file()
                    and autosave.file.is_file(), timeout=WAIT_MS)
    step = d.session.step

    autosave.lock.unlock()                            # as if this session had died
    [found] = find_recoveries(autosave.directory)
    assert found.weights == autosave.weights_dir
    other = make_window(tmp_path / "next", qtbot)     # the next start, same autosave folder
    other.autosave.directory = autosave.directory
    od = other.dashboard
    dialogs.question_answer = QMessageBox.StandardButton.Yes
    assert other.offer_recovery()
    assert "and its trained weights" in dialogs.shown[-1]["text"]
    qtbot.waitUntil(lambda: od.session is not None and od.idle, timeout=WAIT_MS)
    assert od.session.step == step and od.session.epoch == 2
    assert od.project_state.weights.unsaved and other.isWindowModified()
    assert od.can_resume()
    other.editor.mark_saved()
    od.discard_weights()
    od.shutdown()
