"""The looks inside in the window (issue 11): histograms, run history, where it looked, the
batch, the train/validation gap, lr markers, slow motion and the range test — each drawn
from the project state, and nothing of a project left once another one opens. The window's
views never import PyTorch."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from layerlab.engine.templates import load_template
from layerlab.engine.training.snapshots import TrainingEvent

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, train_and_wait,  # noqa: F401
                               wait_idle)

#: The views of issue 11 (ViewSpec keys).
INSIGHT_VIEWS = ("explain", "saliency", "histograms", "runs", "batch", "regression")


def test_views_fill_after_a_run_and_a_new_project_empties_them(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 2
    train_and_wait(qtbot, d)
    # The run history: one row, its curve.
    d.show_view("runs")
    qtbot.waitUntil(lambda: (flush(d), d.runs_view.table.rowCount() == 1)[1], timeout=WAIT_MS)
    assert not d.runs_view.body.empty
    assert "1 run in" in d.runs_view.folder.text()
    # Histograms: a strip per epoch of the chosen layer, with the dead-ReLU share.
    d.show_view("histograms")
    qtbot.waitUntil(lambda: (flush(d), not d.histograms_view.body.empty)[1], timeout=WAIT_MS)
    # Where it looked: the probe's Grad-CAM.
    d.show_view("saliency")
    qtbot.waitUntil(lambda: (flush(d), not d.saliency_view.body.empty)[1], timeout=WAIT_MS)
    # The gap is shaded between the epoch curves, and said under the plots.
    x, _y = d.loss_view.curve("val_epoch")
    assert len(x) == 2
    assert d.loss_view.loss_gap.curves[0] is d.loss_view.train_epoch

    d.window.files.load_into(load_template("shapes_cnn"), None)
    flush(d)
    state = d.project_state
    assert state.insight.histograms is None and state.insight.lr_find is None
    assert "runs" not in state.results.extra and "saliency" not in state.results.extra
    for key in INSIGHT_VIEWS:
        view = d.views[key].view
        if view is None:
            continue
        assert view.body.empty, f"{key} still shows the previous project"
    assert d.runs_view.table.rowCount() in (0, 1) and d.runs_view.body.empty
    # The run history of the new, unsaved project is its own (none yet).
    qtbot.waitUntil(lambda: (flush(d), "runs" in state.results.extra)[1], timeout=WAIT_MS)
    flush(d)
    assert d.runs_view.body.empty


def test_a_learning_rate_changed_mid_run_leaves_a_marker_and_a_new_project_none(qtbot, dash):
    d = dash
    state = d.project_state
    for x, loss in ((0.1, 2.3), (0.2, 2.1), (0.3, 1.9)):      # a curve to mark
        state.curves.series["batch_raw"].append(x, loss)
    state.curves.add_marker(TrainingEvent("lr", 1, 3, 12, 0.25, "lr changed", 0.01, 0.001))
    state.curves.add_marker(TrainingEvent("lr_hint", 1, 9, 18, 1.0, "near chance"))
    state.touch("curves")
    flush(d)
    assert d.loss_view.marker_labels() == ["lr 0.01 → 0.001"]
    d.window.files.load_into(load_template("shapes_cnn"), None)
    flush(d)
    assert d.loss_view.marker_labels() == []


def test_an_lr_hint_offers_a_rate_that_is_one_undoable_edit(qtbot, dash):
    d = dash
    state = d.project_state
    before = d.doc.project.training["lr"]
    state.apply([])
    state._on_marker(TrainingEvent("lr_hint", 2, 0, 40, 1.0, "Accuracy stayed near chance.",
                                   new=0.003, direction="lower"))
    flush(d)
    message = state.message
    assert message.title == "Accuracy is near chance"
    label, command = message.actions[0]
    assert label == "Use learning rate 0.003"
    d.command(command)
    assert d.doc.project.training["lr"] == 0.003
    assert state.message is None
    d.window.editor.undo_stack.undo()
    assert d.doc.project.training["lr"] == before


def test_slow_motion_and_the_range_test_from_the_training_panel(qtbot, dash):
    d = dash
    box = d.panel.speed_box
    box.delay.setCurrentIndex(2)
    box.delay.activated.emit(2)
    assert d.project_state.choices.delay == 0.3
    box.delay.activated.emit(0)
    assert d.project_state.choices.delay == 0.0
    flush(d)
    assert box.delay.currentIndex() == 0
    assert box.plot.isHidden() and box.find_button.isEnabled()

    box.find_button.click()
    qtbot.waitUntil(lambda: (flush(d), d.project_state.insight.lr_find is not None
                             and d.project_state.insight.lr_find.result is not None)[1],
                    timeout=WAIT_MS)
    result = d.project_state.insight.lr_find.result
    assert not box.plot.isHidden()
    x, y = box.curve.getData()
    assert len(x) == len([v for v in result.losses if v == v])
    if result.suggestion is not None:
        assert box.use_button.isVisible() or not box.isVisible()
        box.use_button.click()
        assert d.doc.project.training["lr"] == float(f"{result.suggestion:.3g}")
    # Another project: no range test of this one.
    d.window.files.load_into(load_template("shapes_cnn"), None)
    flush(d)
    assert d.project_state.insight.lr_find is None and box.plot.isHidden()


SCRIPT = """
import importlib, json, pkgutil, sys
names = []
for package in ("layerlab.app.dashboard",):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
print(json.dumps({"imported": names, "torch": "torch" in sys.modules}))
"""


def test_the_window_never_imports_torch():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True, env={**__import__("os").environ,
                                          "QT_QPA_PLATFORM": "offscreen"})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    imported = set(result["imported"])
    assert {f"layerlab.app.dashboard.views.{m}" for m in (
        "explain_view", "saliency_view", "histograms_view", "runs_view", "batch_view",
        "regression_view", "speed_box", "number_grid")} <= imported
    assert "layerlab.app.dashboard.training.insight_control" in imported
    assert result["torch"] is False


def test_an_activations_inspector_plots_f_and_its_derivative_over_its_real_inputs(qtbot,
                                                                                 dash):
    from layerlab.app.dashboard.views.activation_plot import ActivationPlot
    d = dash
    inspector = d.window.inspector
    d.selection.select(["relu1"])
    plot = inspector.findChild(ActivationPlot)
    assert plot is not None and plot.node == "relu1"
    qtbot.waitUntil(lambda: (flush(d), plot.data is not None)[1], timeout=WAIT_MS)
    data = plot.data
    assert data["basis"] == "initial" and data["samples"] > 0      # not trained yet
    x, y = plot.f.getData()
    assert x[0] == data["low"] and x[-1] == data["high"]
    assert (y == [max(v, 0.0) for v in x]).all()                  # ReLU, by torch
    assert "receives values from" in plot.text.text() and "negative" in plot.text.text()
    # A layer that is not an activation has no plot; Softmax mixes a vector: none either.
    d.selection.select(["conv1"])
    assert inspector.findChild(ActivationPlot) is None
    # Trained: measured again on the trained weights.
    d.selection.select(["relu1"])
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    plot = inspector.findChild(ActivationPlot)
    qtbot.waitUntil(lambda: (flush(d), plot.data is not None
                             and plot.data["basis"] == "trained")[1], timeout=WAIT_MS)
    # Another project: the old curve is not shown for it.
    d.window.files.load_into(load_template("house_mlp"), None)
    flush(d)
    assert "activation_curve" not in d.project_state.results.extra


def test_the_batch_axis_puts_optimizer_steps_on_x_and_a_step_moves_it_by_one(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    view = d.loss_view
    x_epoch, _ = view.curve("batch_raw")
    assert x_epoch[-1] <= 1.0
    view.batch_axis.setChecked(True)
    assert d.project_state.choices.axis == "batch"
    flush(d)
    x, _ = view.curve("batch_raw")
    steps = d.project_state.curves.series["batch_raw"].steps
    # The batches sent (the worker thins them at full speed), each at its step.
    assert list(x) == list(steps) and 0 < x[-1] <= d.project_state.session.step
    assert (np.diff(x) > 0).all()
    assert view.acc_plot.getPlotItem().getAxis("bottom").labelText == "batch"
    ex, _ = view.curve("val_epoch")
    assert list(ex) == [float(d.project_state.session.step)]     # epoch 1 ends at its step
    # The accuracy markers moved with their curves (none left at the epoch positions).
    mx, _ = view._marks["val_acc"].getData()
    assert list(mx) == list(view.curve("val_acc")[0]) == list(ex)
    # One Step: one more batch on the axis.
    before = d.project_state.session.step
    d.doc.project.training["epochs"] = 2                  # room to continue
    assert d.step()
    qtbot.waitUntil(lambda: (flush(d), view.curve("batch_raw")[0][-1] == before + 1)[1],
                    timeout=WAIT_MS)
    # Another project keeps the person's choice of axis out (choices are per project).
    d.stop()
    wait_idle(qtbot, d)
    d.window.files.load_into(load_template("shapes_cnn"), None)
    flush(d)
    assert d.project_state.choices.axis == "epoch" and not view.batch_axis.isChecked()


def test_a_step_of_a_finished_run_trains_one_more_batch_and_shows_it(qtbot, dash, dialogs):
    from PySide6.QtWidgets import QMessageBox
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    done = d.project_state.session.step
    d.show_view("batch")
    # "Train 1 more epochs" — not "Nothing left to train": Epochs goes up (undoable), and
    # the run pauses after the one batch.
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert d.step()
    qtbot.waitUntil(lambda: (flush(d), d.state == "paused" and d.project_state.run.progress
                             is not None and d.project_state.run.progress.step == done + 1)[1],
                    timeout=WAIT_MS)
    assert d.doc.project.training["epochs"] == 2
    view = d.batch_view
    qtbot.waitUntil(lambda: (flush(d), not view.body.empty)[1], timeout=WAIT_MS)
    snap = d.project_state.run.progress
    assert view.caption.text().startswith(f"Step {done + 1:,}: the {len(snap.indices)} "
                                          f"training samples")
    assert len(view.grid._tiles) == len(snap.indices)
    d.stop()
    wait_idle(qtbot, d)
    d.window.files.load_into(load_template("shapes_cnn"), None)
    flush(d)
    assert view.body.empty


def test_where_it_looked_follows_the_class_picker_and_the_histograms_say_the_dead_share(
        qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 2
    # Histograms at a tiny share of the time: live only the initial weights and the last
    # epoch's; the epoch in between is measured once the run ends.
    d.doc.project.training["snapshots"] = {"histogram_budget": 1e-4}
    train_and_wait(qtbot, d)
    d.show_view("saliency")
    view = d.saliency_view
    answer = lambda: d.project_state.results.extra.get("saliency")  # noqa: E731
    qtbot.waitUntil(lambda: (flush(d), not view.body.empty and answer() is not None)[1],
                    timeout=WAIT_MS)
    predicted = answer().predicted[0]
    assert answer().targets[0] == predicted and answer().node == "conv2"   # the last conv
    other = (predicted + 1) % 10
    view.klass.setCurrentIndex(view.klass.findData(other))
    view.klass.activated.emit(view.klass.currentIndex())
    qtbot.waitUntil(lambda: (flush(d), answer().targets[0] == other)[1], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: (flush(d), f"the evidence for {other}" in view.caption.text())[1],
                    timeout=WAIT_MS)
    heat = np.asarray(answer().heat[0])
    assert heat.shape == (8, 8) and 0.0 <= heat.min() and heat.max() <= 1.0

    d.show_view("histograms")
    hv = d.histograms_view
    hv.combo.setCurrentIndex(hv.combo.findData("relu1"))
    hv.combo.activated.emit(hv.combo.currentIndex())
    qtbot.waitUntil(lambda: (flush(d), hv.dead.isVisibleTo(hv))[1], timeout=WAIT_MS)
    strips = d.project_state.insight.histograms
    dead = dict(strips.dead_relu["relu1"])
    assert sorted(dead) == [0, 1, 2]
    assert "each row is an epoch" in hv.caption.text()     # none missing
    assert f"epoch 2: {100 * dead[2]:.0f} %" in hv.dead.text()


def test_house_prices_in_their_units_predicted_against_actual(qtbot, dash):
    d = dash
    project = load_template("house_mlp")
    project.training = {**project.training, "epochs": 5, "device": "cpu"}
    d.window.files.load_into(project, None)
    train_and_wait(qtbot, d)
    d.show_view("regression")
    view = d.regression_view
    qtbot.waitUntil(lambda: (flush(d), not view.body.empty)[1], timeout=WAIT_MS)
    snap = d.project_state.results.evaluation
    x, y = view.scatter.getData()
    assert list(x) == list(np.asarray(snap.actual).reshape(-1)[:len(x)])
    assert x.max() > 1000                         # prices, not standardized values
    axis = view.scatter_plot.getPlotItem().getAxis("bottom")
    assert axis.labelText == "actual price"
    assert "e+" not in " ".join(axis.tickStrings([250000.0, 500000.0], 1.0, 250000.0))
    loss_axis = d.loss_view.loss_plot.getPlotItem().getAxis("left").labelText
    assert "standardized price" in loss_axis
    assert "e+" not in d.loss_view.summary.text() and "(price)" in d.loss_view.summary.text()
    # Another project: no prices of this one.
    d.window.files.load_into(load_template("digits_cnn"), None)
    flush(d)
    assert view.body.empty and len(view.scatter.getData()[0]) == 0


def test_an_lr_changed_while_paused_is_marked_on_the_curves_and_in_the_run_history(qtbot,
                                                                                   dash):
    d = dash
    d.doc.project.training["epochs"] = 30
    d.doc.project.training["lr"] = 0.003
    assert d.train()
    qtbot.waitUntil(lambda: (flush(d), d.project_state.run.progress is not None)[1],
                    timeout=WAIT_MS)
    d.toggle_pause()
    qtbot.waitUntil(lambda: (flush(d), d.state == "paused")[1], timeout=WAIT_MS)
    d.command("set_lr:0.01")
    d.toggle_pause()
    qtbot.waitUntil(lambda: (flush(d), d.loss_view.marker_labels() != [])[1], timeout=WAIT_MS)
    assert d.loss_view.marker_labels() == ["lr 0.003 → 0.01"]
    d.stop()
    wait_idle(qtbot, d)
    d.show_view("runs")
    qtbot.waitUntil(lambda: (flush(d), d.runs_view.table.rowCount() == 1)[1], timeout=WAIT_MS)
    run = d.runs_view.runs[0]
    assert [(e["old"], e["new"]) for e in run["events"] if e["kind"] == "lr"] == [(0.003,
                                                                                   0.01)]
    assert "changed 1×" in d.runs_view.table.item(0, 4).text()


def test_where_it_looked_for_a_drawing_and_for_an_opened_image(qtbot, dash, tmp_path):
    from PIL import Image

    from dashboard_helpers import draw_seven
    d = dash
    d.doc.project.training["epochs"] = 2
    train_and_wait(qtbot, d)
    d.show_view("predict")
    panel = d.predict_panel
    draw_seven(panel.canvas)
    panel.where_button.click()                       # "Where did it look?"
    view = d.saliency_view
    answer = lambda: d.project_state.results.extra.get("saliency")  # noqa: E731
    qtbot.waitUntil(lambda: (flush(d), answer() is not None
                             and answer().subject == "your drawing")[1], timeout=WAIT_MS)
    assert d.project_state.choices.saliency_subject == "drawing"
    qtbot.waitUntil(lambda: (flush(d), view.caption.text().startswith("your drawing"))[1],
                    timeout=WAIT_MS)
    # An image from disk: a white bar on black, at another size than the Input's.
    pixels = np.zeros((40, 40), dtype=np.uint8)
    pixels[5:35, 18:22] = 255
    path = tmp_path / "one.png"
    Image.fromarray(pixels).save(path)
    assert view.load_image(str(path))
    qtbot.waitUntil(lambda: (flush(d), answer().subject != "your drawing")[1],
                    timeout=WAIT_MS)
    assert "one.png" in answer().subject
    assert np.asarray(answer().images[0]).shape[:2] == (8, 8)
    # Not an image: said, nothing crashes.
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert not view.load_image(str(bad))


def test_histograms_are_measured_live_only_while_their_view_is_on_screen(qtbot, dash,
                                                                         monkeypatch):
    d = dash
    told = []
    call = d.binding.call
    monkeypatch.setattr(d.binding, "call", lambda name, **args: (
        told.append(args["on"]) if name == "histograms_live" else None, call(name, **args))[1])
    d.show_view("histograms")
    qtbot.waitUntil(lambda: told[-1:] == [True], timeout=WAIT_MS)
    d.show_view("features")                 # its tab group's other view in front
    qtbot.waitUntil(lambda: told[-1:] == [False], timeout=WAIT_MS)
    # And the whole run's strips still come, every epoch, once the run ends.
    d.doc.project.training["epochs"] = 3
    d.doc.project.training["snapshots"] = {"histogram_budget": 1.0}
    train_and_wait(qtbot, d)
    qtbot.waitUntil(lambda: (flush(d), d.project_state.insight.histograms is not None and
                             d.project_state.insight.histograms.weights["conv1"].epochs
                             == (0, 1, 2, 3))[1], timeout=WAIT_MS)
    # Drawn, the weights' axis reads their values (±0.5), not "−500 … 500 (x0.001)".
    d.show_view("histograms")
    qtbot.waitUntil(lambda: (flush(d), not d.histograms_view.body.empty)[1], timeout=WAIT_MS)
    axis = d.histograms_view.weights.plot.getPlotItem().getAxis("bottom")
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()


def test_the_histograms_caption_names_row_0_only_when_it_is_there():
    from layerlab.app.dashboard.views.histograms_view import rows_caption
    assert "0 = before training" in rows_caption((0, 1, 2))
    # shown mid-run after starting behind its tab: the weights before training come at
    # the run's end, so the caption must not promise them
    mid_run = rows_caption((1, 2, 3))
    assert "0 = before training" not in mid_run
    assert mid_run.startswith("epochs 1…3: each row is an epoch (the first at the top)")
    assert "measured epoch" in rows_caption((0, 3, 6))
