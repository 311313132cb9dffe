"""Live views: snapshots reach the loss curve, the filter grid and the feature maps; the views
follow the canvas selection (and select on the canvas); slots only ever run on the GUI thread;
every view has a designed empty state, sized to the open project."""
from __future__ import annotations

import threading

import numpy as np

from layerlab.app.dashboard import threads
from layerlab.app.dashboard.views.filters_view import CHANNELS, MEAN, filter_tiles
from layerlab.engine.templates import load_template

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, train_and_wait,  # noqa: F401
                               wait_idle)


def test_training_streams_snapshots_into_the_views(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 50           # keeps running while we look
    calls_before = threads.CALLS["count"]
    violations_before = list(threads.VIOLATIONS)
    assert d.train()
    qtbot.waitUntil(lambda: d.project_state.curves["batch_ema"].n >= 3, timeout=WAIT_MS)
    assert d.doc.lock_reason                        # structure locked, with a reason
    qtbot.waitUntil(lambda: d.project_state.results.visuals is not None
                    and "conv1" in d.project_state.results.visuals.filters, timeout=WAIT_MS)
    flush(d)

    x, y = d.loss_view.curve("batch_ema")           # what the curve item really holds
    assert len(x) >= 3 and len(x) == len(y)
    assert np.all(np.isfinite(y)) and np.all(np.diff(x) >= 0)
    assert d.panel.progress.value() > 0 and "samples/s" in d.panel.progress.format()

    # conv1: 16 filters over 1 input channel → 16 grey tiles of 3×3
    d.selection.select(["conv1"])
    flush(d)
    assert d.filters_view.node == "conv1"
    assert d.filters_view.grid.tile_count == 16
    assert d.filters_view.grid._tiles.shape == (16, 3, 3)
    assert "16 filters of 3×3" in d.filters_view.caption.text()

    # conv2 (32 filters over 16 channels): one row per filter, one tile per input channel
    d.selection.select(["conv2"])
    flush(d)
    assert d.filters_view.node == "conv2"
    assert d.filters_view.grid.tile_count == 32 * 16
    assert d.filters_view.grid.columns == 16

    # feature maps follow the selected node: relu1 is 16×8×8, fc2 a vector of 10 scores
    d.selection.select(["relu1"])
    qtbot.waitUntil(lambda: (flush(d), "relu1" in d.feature_view.snapshot.feature_maps)[1],
                    timeout=WAIT_MS)
    assert d.feature_view.node == "relu1"
    assert d.feature_view.grid.tile_count == 16
    assert d.feature_view.grid._tiles.shape[1:] == (8, 8)
    d.selection.select(["fc2"])
    qtbot.waitUntil(lambda: (flush(d), "fc2" in d.feature_view.snapshot.feature_maps)[1],
                    timeout=WAIT_MS)
    assert d.feature_view.node == "fc2"
    assert d.feature_view.stack.currentWidget() is d.feature_view.bars
    bx, by = d.feature_view.bar_item.getData()
    assert len(by) == 10 and len(bx) == 11         # step plot: edges around 10 bars
    assert d.filters_view.node == "conv2"          # a non-convolution leaves the filters alone

    # choosing in a view's combo selects on the canvas
    d.filters_view.combo.setCurrentText("conv1")
    assert d.selection.current == "conv1"
    d.feature_view.combo.setCurrentText("pool2")
    assert d.selection.current == "pool2"

    d.stop()
    wait_idle(qtbot, d)
    assert d.doc.lock_reason is None
    assert threads.CALLS["count"] > calls_before + 10      # the thread check really ran
    assert threads.VIOLATIONS == violations_before          # ... and never failed


def test_filters_change_while_training(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 3
    seen = []

    def keep(_topics):
        v = d.project_state.results.visuals
        if v is not None and "conv1" in v.filters:
            seen.append(v.filters["conv1"])
    d.project_state.subscribe(keep, ("visuals",))
    train_and_wait(qtbot, d)
    assert len(seen) >= 2, "no visual snapshots arrived"
    last = d.filters_view._weights() if d.filters_view.node == "conv1" else seen[-1]
    assert seen[0].shape == (16, 1, 3, 3)
    assert not np.allclose(seen[-1], seen[0])            # the filters learned something
    image = d.filters_view.grid.image()
    assert last is not None and image is not None and image.dtype == np.uint8


def test_gui_only_records_calls_from_other_threads(qapp):
    ran = []

    @threads.gui_only
    def slot():
        ran.append(threading.current_thread().name)

    before = len(threads.VIOLATIONS)
    slot()
    worker = threading.Thread(target=slot, name="not-gui")
    worker.start()
    worker.join()
    assert ran == [threading.current_thread().name]   # the off-thread call was dropped
    assert len(threads.VIOLATIONS) == before + 1
    del threads.VIOLATIONS[before:]


def test_filter_tiles_modes():
    w = np.random.default_rng(0).normal(size=(4, 3, 5, 5)).astype(np.float32)
    rgb, cols, tip = filter_tiles(w, "Colour (RGB)")
    assert rgb.shape == (4, 5, 5, 3) and cols is None and tip(3).startswith("filter 3:")
    assert rgb.min() >= 0 and rgb.max() <= 1
    # per filter symmetric: each filter reaches 0 or 1 at its largest |weight|
    assert all(np.isclose(t.min(), 0) or np.isclose(t.max(), 1) for t in rgb)
    per_channel, cols, tip = filter_tiles(w, CHANNELS)
    assert per_channel.shape == (12, 5, 5) and cols == 3
    assert tip(5).startswith("filter 1, input channel 2:")
    mean, cols, _ = filter_tiles(w, MEAN)
    assert mean.shape == (4, 5, 5) and cols is None


def test_probe_sample_changes_feature_maps(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    before = d.feature_view.snapshot
    assert before is not None and before.probe_index == 0
    d.feature_view.next_button.click()             # idle: a fresh snapshot at once
    qtbot.waitUntil(lambda: (flush(d), d.feature_view.snapshot.probe_index == 1)[1],
                    timeout=WAIT_MS)
    after = d.feature_view.snapshot
    assert not np.allclose(after.feature_maps["conv1"], before.feature_maps["conv1"])
    qtbot.waitUntil(lambda: (flush(d), d.feature_view.probe_image.tile_count == 1)[1],
                    timeout=WAIT_MS)                # the sample itself, fetched from the worker
    assert "true:" in d.feature_view.probe_label.text()


def test_confusion_matrix_and_gallery(qtbot, dash):
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    d.docks["confusion"].raise_()
    qtbot.waitUntil(lambda: d.confusion_view.isVisible(), timeout=WAIT_MS)
    flush(d)
    view = d.confusion_view
    snap = view.snapshot
    assert snap is not None and snap.confusion.shape == (10, 10)
    assert snap.confusion.sum() == d.session.num_val
    assert view.table.rowCount() == 10
    assert view.table.item(0, 3).text() == str(int(snap.support[0]))
    assert view.counts.counts is not None and view.counts.counts.sum() == snap.confusion.sum()
    cm = snap.confusion.copy()
    np.fill_diagonal(cm, 0)
    true, pred = np.unravel_index(int(cm.argmax()), cm.shape)
    assert cm[true, pred] > 0, "one epoch should leave some mistakes"
    view.show_cell(int(true), int(pred))
    qtbot.waitUntil(lambda: (flush(d), view.gallery.tile_count > 0)[1], timeout=WAIT_MS)
    assert view.gallery.tile_count == min(int(cm[true, pred]), 60)
    assert f"predicted {snap.class_names[pred]}" in view.gallery_label.text()


def test_every_view_has_an_empty_state_sized_to_the_project(qtbot, dash):
    """No axes drawn around nothing ("x0.001", −500…500): each view says what will appear."""
    d = dash
    d.window.resize(1400, 900)
    flush(d)
    for key in ("confusion", "gradients"):
        d.docks[key].raise_()
    qtbot.waitUntil(lambda: d.confusion_view.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: d.project_state.dataset is not None, timeout=WAIT_MS)
    flush(d)
    assert "Press Train" in d.loss_view.empty_text()
    assert "conv1" in d.filters_view.body.text()
    assert "feature" not in d.feature_view.body.text().lower() or d.feature_view.body.empty
    assert "each of the 10 classes (0, 1, 2" in d.confusion_view.body.text()
    assert d.confusion_view.body.empty and d.confusion_view.caption.isHidden()
    n_weights = len(d.project_state.project.param_ids)
    assert f"each of the {n_weights} layers with weights" in d.gradients_view.body.text()
    d.docks["predict"].raise_()
    qtbot.waitUntil(lambda: d.predict_panel.isVisible(), timeout=WAIT_MS)
    flush(d)
    assert "Train the model" in d.predict_panel.status.text()

    # a regression project: no confusion matrix to promise, no filters to show
    project = load_template("house_mlp")
    d.window.files.load_into(project, None)
    qtbot.waitUntil(lambda: d.project_state.dataset is not None, timeout=WAIT_MS)
    flush(d)
    assert "predicts price (regression)" in d.confusion_view.body.text()
    assert "no convolution layer" in d.filters_view.body.text()


def test_the_loss_summary_leaves_out_what_does_not_fit_rather_than_cutting_it(qtbot, dash):
    from PySide6.QtCore import QRect, Qt
    view = dash.loss_view
    train_and_wait(qtbot, dash)                  # the plots and their summary are shown
    dock = dash.docks["loss"]
    dock.setFloating(True)
    dock.resize(380, 400)
    dock.show()
    qtbot.waitExposed(dock)
    text = ("Epoch 150 · loss train 0.016 / validation 0.050 · MAE 30,540 (price) · "
            "validation − training loss 0.0341")
    view._show_summary(text)
    label = view.summary
    needed = label.fontMetrics().boundingRect(QRect(0, 0, label.width(), 1000),
                                              Qt.TextFlag.TextWordWrap, label.text()).height()
    assert needed <= label.height()                           # nothing cut at the bottom
    assert label.text() != text and label.text().endswith(" …")
    assert label.toolTip() == text                            # the whole of it, on hover
    assert label.text().startswith("Epoch 150 · loss train 0.016")
    dock.resize(1400, 400)                                    # room again: all of it
    qtbot.waitUntil(lambda: label.text() == text, timeout=2000)
    assert label.toolTip() == ""
