"""The "done when" path, end to end with the template's real budget: pick the digits CNN
template, press Train, see ≥ 95 % validation accuracy, the loss falling live, filters and
feature maps changing, then draw a digit and see it classified."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication

from layerlab.engine.templates import load_template

from dashboard_helpers import (WAIT_MS, dash, dialogs, draw_seven, flush,  # noqa: F401
                               predict_now, wait_idle)


def test_digits_template_trains_to_95_percent_and_classifies_a_drawing(qtbot, dash):
    d = dash
    project = load_template("digits_cnn")              # as the New dialog gives it
    d.window.files.load_into(project, None)
    budget = project.training["epochs"]
    seen = {"conv1": [], "maps": []}

    def on_visuals(_topics):
        snap = d.project_state.results.visuals
        if snap is not None and "conv1" in snap.filters:
            seen["conv1"].append(snap.filters["conv1"])
        if snap is not None and "relu1" in snap.feature_maps:
            seen["maps"].append(snap.feature_maps["relu1"])
    d.project_state.subscribe(on_visuals, ("visuals",))
    d.selection.select(["relu1"])                       # the feature maps of relu1

    d.panel.train_button.click()                        # what a person presses
    qtbot.waitUntil(lambda: d.project_state.curves["batch_ema"].n > 0, timeout=WAIT_MS)
    assert d.state in ("running", "preparing")           # live: curves while it runs
    qtbot.waitUntil(lambda: d.state == "idle", timeout=WAIT_MS)
    wait_idle(qtbot, d)
    result = d.project_state.run.result

    assert result.status == "finished" and result.epochs_completed == budget
    assert result.history[-1].val_acc >= 0.95, [h.val_acc for h in result.history]
    _, val = d.loss_view.curve("val_acc")
    assert len(val) == budget and val[-1] >= 95.0        # the accuracy plot says so too
    _, ema = d.loss_view.curve("batch_ema")
    assert ema[-1] < ema[0] / 4                          # the loss fell, as drawn
    assert d.project_state.curves["batch_raw"].n > 10
    assert len(seen["conv1"]) >= 2 and not np.allclose(seen["conv1"][0], seen["conv1"][-1])
    assert len(seen["maps"]) >= 2 and not np.allclose(seen["maps"][0], seen["maps"][-1])
    assert "validation accuracy" in d.panel.message_bar.message()
    # the final status is the true final step (not the last rate-limited batch snapshot)
    assert f"at step {result.steps:,}" in d.panel.run_text.text()

    d.docks["predict"].raise_()
    QCoreApplication.processEvents()
    draw_seven(d.predict_panel.canvas)
    probs = predict_now(qtbot, d)
    assert probs.shape == (10,) and abs(float(probs.sum()) - 1) < 1e-5
    assert d.predict_panel.answer.text().startswith("Looks like: ")
