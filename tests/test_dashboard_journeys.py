"""The journeys of issue 9, as a person walks them: nothing of a previous project stays on
screen, regression after classification, paused means paused, banners fit their dock."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QPoint

from layerlab.app.dashboard.views.filters_view import CHANNELS, MEAN
from layerlab.engine.templates import load_template

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, train_and_wait,  # noqa: F401
                               wait_idle, wait_state)


def _small(name: str, epochs: int = 1, **dataset):
    project = load_template(name)
    project.training = {**project.training, "epochs": epochs, "device": "cpu"}
    project.dataset = {**(project.dataset or {"kind": "digits"}), **dataset}
    return project


def _show(qtbot, d, *keys) -> None:
    for key in keys:
        d.docks[key].raise_()
    qtbot.waitUntil(lambda: all(d.docks[k].widget().isVisible() for k in keys),
                    timeout=WAIT_MS)
    flush(d)


def test_another_project_shows_nothing_of_the_last_and_trains_again(qtbot, dash):
    d = dash
    d.window.files.load_into(_small("digits_cnn", limit=400), None)
    train_and_wait(qtbot, d)
    d.selection.select(["conv2"])
    _show(qtbot, d, "filters", "features")
    d.filters_view.mode.setCurrentText(MEAN)          # a choice made for this project
    d.feature_view.probe.setValue(5)
    flush(d)
    assert "Finished" in d.panel.progress.format()
    assert "conv2: 32 filters of 3×3 over 16" in d.filters_view.caption.text()

    d.window.files.load_into(_small("shapes_cnn", count=300), None)   # File ▸ New ▸ Shapes
    flush(d)
    # nothing of the digits run remains: run line, filters, feature maps, matrix, curves
    assert "Finished" not in d.panel.progress.format() and d.panel.run_text.text() == ""
    assert not d.panel.message_bar.isVisible()
    assert d.filters_view.caption.text() == "" and d.filters_view.body.empty
    assert "conv1" in d.filters_view.body.text()      # the new project's first conv
    assert d.feature_view.body.empty and d.feature_view.probe.value() == 0
    assert d.loss_view.curve("batch_raw")[0].size == 0 or d.loss_view.body.empty
    assert d.predict_panel.session is None
    _show(qtbot, d, "confusion")
    qtbot.waitUntil(lambda: (flush(d), "circle" in d.confusion_view.body.text())[1],
                    timeout=WAIT_MS)                  # sized to the new classes
    assert " 0, 1, 2" not in d.confusion_view.body.text()

    result = train_and_wait(qtbot, d)                 # train again: no error, new classes
    assert result.status == "finished"
    assert d.panel.message_bar.kind != "error"
    _show(qtbot, d, "confusion")
    assert list(d.confusion_view.snapshot.class_names) == list(d.session.class_names)
    assert d.confusion_view.table.rowCount() == len(d.session.class_names) == 6
    d.selection.select(["conv2"])
    _show(qtbot, d, "filters", "features")
    assert d.filters_view.mode.currentText() == CHANNELS   # the digits choice did not carry
    label = d.feature_view.probe_label.text()
    assert "true: " in label and label.split("true: ")[1].split("\n")[0] in \
        d.session.class_names


def test_regression_after_classification(qtbot, dash):
    d = dash
    d.window.files.load_into(_small("shapes_cnn", count=300), None)
    train_and_wait(qtbot, d)
    d.window.files.load_into(_small("house_mlp", epochs=3), None)
    _show(qtbot, d, "filters")                        # (confusion shares its tab group)
    assert "no convolution layer" in d.filters_view.body.text()   # no shape filters
    assert "acc" not in d.panel.run_text.text() + d.panel.progress.format()
    result = train_and_wait(qtbot, d)
    assert result.status == "finished"
    _show(qtbot, d, "loss", "filters")
    assert d.loss_view.acc_plot.getPlotItem().getAxis("left").labelText == "MAE"
    assert "MAE" in d.loss_view.summary.text() and "accuracy" not in d.loss_view.summary.text()
    assert "acc" not in d.panel.run_text.text()
    assert "validation MAE" in d.panel.run_text.text()
    assert "no convolution layer" in d.filters_view.body.text()
    _show(qtbot, d, "confusion")
    assert "regression" in d.confusion_view.body.text()


def test_paused_views_show_the_paused_weights_and_step_shows_one_batch_more(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 200
    _show(qtbot, d, "filters", "features")
    d.panel.train_button.click()
    qtbot.waitUntil(lambda: d.project_state.curves["batch_raw"].n > 3, timeout=WAIT_MS)
    flush(d)
    d.panel.pause_button.click()
    wait_state(qtbot, d, "paused")
    run = d.project_state.run
    qtbot.waitUntil(lambda: run.final is not None and run.final.state == "paused"
                    and d.project_state.results.visuals is not None
                    and d.project_state.results.visuals.step == run.final.step,
                    timeout=WAIT_MS)
    flush(d)
    parked = run.final.step
    # the views show exactly the paused weights: their step, in the progress line too
    assert d.filters_view.grid.toolTip() == f"Weights after step {parked:,}"
    assert f"step {parked:,}" in d.panel.run_text.text()
    before = d.project_state.results.visuals.filters["conv1"].copy()

    for expected in (parked + 1, parked + 2):         # each Step: exactly one batch more
        assert d.panel.step_button.isEnabled()
        d.panel.step_button.click()
        qtbot.waitUntil(lambda: run.final.step == expected and run.final.state == "paused"
                        and d.project_state.results.visuals.step == expected,
                        timeout=WAIT_MS)
        flush(d)
        assert d.filters_view.grid.toolTip() == f"Weights after step {expected:,}"
        assert f"step {expected:,}" in d.panel.run_text.text()
        assert d.feature_view.snapshot.step == expected
    assert not np.allclose(d.project_state.results.visuals.filters["conv1"], before)
    d.stop()
    wait_idle(qtbot, d)
    assert f"at step {parked + 2:,}" in d.panel.run_text.text()   # the true final step


def test_a_message_wraps_inside_a_narrow_dock(qtbot, dash):
    d = dash
    window = d.window
    dock = d.docks["training"]
    dock.setFloating(True)
    dock.resize(300, 700)
    qtbot.waitUntil(lambda: d.panel.isVisible(), timeout=WAIT_MS)
    bar = d.panel.message_bar
    bar.show_message("error", "Training stopped: the loss blew up",
                     "The loss became infinite at epoch 1, batch 4 (step 4): the learning rate "
                     "10 is probably too high, so the weights blew up — try lr 1. The initial "
                     "weights were restored. Lower the learning rate and press Resume training.")
    for width in (300, 240, 420):
        dock.resize(width, 700)
        qtbot.waitUntil(lambda: abs(d.panel.width() - dock.widget().width()) <= 2,
                        timeout=WAIT_MS)
        QCoreApplication.processEvents()              # the layout requests the resize posted
        visible = d.panel.width()
        for widget in (bar, d.panel.train_button, d.panel.stop_button, d.panel.progress):
            right = widget.mapTo(d.panel, QPoint(widget.width(), 0)).x()
            assert right <= visible, (width, widget.objectName(), right, visible)
        # the text wraps to several lines rather than one word per line
        assert bar.text.height() > bar.text.fontMetrics().lineSpacing()
        words = len(bar.text.text().split())
        assert bar.text.height() < words / 3 * bar.text.fontMetrics().lineSpacing()
    window.raise_()
