"""Trained weights beside the project (safetensors checkpoint), reloaded with it; the predict
panel on a drawn digit and on a table's features."""
from __future__ import annotations

import numpy as np

from layerlab.engine.locations import checkpoint_dir, has_checkpoint
from layerlab.engine import save_project
from layerlab.engine.templates import load_template

from app_helpers import make_window
from dashboard_helpers import (WAIT_MS, dash, dialogs, digits_project, draw_seven,  # noqa: F401
                               predict_now, wait_idle)


def test_weights_saved_beside_the_project_and_reloaded(qtbot, dash, tmp_path):
    d = dash
    path = tmp_path / "digits.json"
    save_project(digits_project(epochs=2), path)
    assert d.window.files.open_path(path, confirm=False)
    assert not has_checkpoint(path)
    with qtbot.waitSignal(d.worker.saved, timeout=WAIT_MS) as saved:
        assert d.train()
    wait_idle(qtbot, d)
    folder = checkpoint_dir(path)
    assert saved.args[0] == str(folder)
    assert (folder / "weights.safetensors").is_file() and has_checkpoint(path)
    draw_seven(d.predict_panel.canvas)
    before = predict_now(qtbot, d).copy()
    assert before.shape == (10,)

    # a second window opening the project loads the weights: same predictions
    other = make_window(tmp_path / "second", qtbot)
    od = other.dashboard
    with qtbot.waitSignal(od.worker.sessionReady, timeout=WAIT_MS) as ready:
        assert other.files.open_path(path, confirm=False)
    info = ready.args[0]
    assert info.loaded_from == folder and info.epoch == 2
    qtbot.waitUntil(lambda: od.session is not None, timeout=WAIT_MS)
    assert od.loss_view.series["val_epoch"].n == 2            # the history is drawn
    assert "loaded" in od.panel.message_bar.message().lower()
    draw_seven(od.predict_panel.canvas)
    after = predict_now(qtbot, od)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)

    # Resume training continues after epoch 2 (a finished run trains the epochs again)
    assert od.panel.resume_button.isEnabled()
    with qtbot.waitSignal(od.worker.runStarted, timeout=WAIT_MS) as started:
        od.panel.resume_button.click()
    assert started.args[0].start_epoch == 2 and started.args[0].epochs == 4
    wait_idle(qtbot, od)
    assert od.session.epoch == 4 and len(od.session.history) == 4
    other.editor.mark_saved()
    od.shutdown()


def test_saving_the_project_saves_the_weights(qtbot, dash, tmp_path, dialogs):
    d = dash
    d.doc.project.training["epochs"] = 1
    assert d.train()                                   # an untitled project: kept in memory
    wait_idle(qtbot, d)
    path = tmp_path / "saved.json"
    dialogs.save_path = str(path)
    with qtbot.waitSignal(d.worker.saved, timeout=WAIT_MS):
        assert d.window.files.save()
    assert has_checkpoint(path)
    # after a structural change, saving leaves the (no longer fitting) weights alone
    d.editor.set_param("fc1", "out_features", 32)
    assert not d.can_resume()
    assert d.predict_panel.session is None
    mtime = (checkpoint_dir(path) / "weights.safetensors").stat().st_mtime_ns
    assert d.window.files.save()
    qtbot.wait(200)
    assert (checkpoint_dir(path) / "weights.safetensors").stat().st_mtime_ns == mtime


def test_predict_panel_on_a_drawn_digit(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 1
    assert d.train()
    wait_idle(qtbot, d)
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
    assert d.train()
    wait_idle(qtbot, d)
    panel = d.predict_panel
    assert panel.inputs.currentIndex() == 1               # the feature form, not a canvas
    assert len(panel.fields) == len(d.session.feature_names) == 3
    values = predict_now(qtbot, d)
    assert values.shape == (1,)
    text = panel.answer.text()
    assert text.startswith("Predicted price: ")
    real = float(d.session.dataset.denormalize_target(values)[0])
    assert f"{real:,.4g}" in text                          # shown in real units
