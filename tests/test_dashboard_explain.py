"""Explain one value in the window: a click on a feature-map cell asks the worker, and the
Explain view shows the engine's numbers for that cell (window × kernel = products, sum, bias,
activation); stepping along the map is a lookup, playing slides the window; another project
shows nothing of this one."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from layerlab.app.dashboard.views.number_grid import DIGITS
from layerlab.engine.explain.numbers import num
from layerlab.engine.templates import load_template

from dashboard_helpers import (WAIT_MS, dash, dialogs, flush, train_and_wait,  # noqa: F401
                               wait_idle)


def _explained(qtbot, d, node, index):
    view = d.explain_view
    qtbot.waitUntil(lambda: (flush(d), view.frame is not None
                             and view.frame["node"] == node
                             and tuple(view.frame["index"]) == tuple(index))[1],
                    timeout=WAIT_MS)
    return view.frame


def _count_calls(d, name):
    calls = []
    original = d.binding.call

    def counting(request, **args):
        if request == name:
            calls.append(args)
        return original(request, **args)
    d.binding.call = counting
    d.views["explain"].ctx.ask = counting
    return calls


def test_a_clicked_cell_is_explained_with_the_engines_numbers(qtbot, dash, tmp_path):
    from layerlab.engine.explain import Explainer, load_trained
    d = dash
    d.doc.project.training["epochs"] = 1
    train_and_wait(qtbot, d)
    d.selection.select(["conv1"])
    qtbot.waitUntil(lambda: (flush(d), d.feature_view.snapshot is not None
                             and "conv1" in d.feature_view.snapshot.feature_maps)[1],
                    timeout=WAIT_MS)
    d.feature_view.probe.setValue(2)                   # the sample the maps show
    qtbot.waitUntil(lambda: (flush(d), d.feature_view.snapshot.probe_index == 2)[1],
                    timeout=WAIT_MS)
    grid = d.feature_view.grid
    # Where the click lands: pixel (row 0, column 5) of map 3 (the grid lays the tiles out).
    h, w = grid._tiles.shape[1:3]
    row, col = divmod(3, grid.columns)
    pixel = QPointF(col * (w + grid.gap) + 5.5, row * (h + grid.gap) + 0.5)
    assert grid.cell_at(grid.item.mapToScene(pixel)) == (3, 0, 5)
    grid.cellClicked.emit(3, 0, 5)
    f = _explained(qtbot, d, "conv1", (3, 0, 5))
    assert d.docks["explain"].isVisible()
    # The maps clicked in stay in front of their tab group (the explainer floats over the
    # canvas when its dock is smaller than it needs), not a neighbouring tab.
    assert d.docks["explain"].isFloating()
    assert not d.docks["features"].visibleRegion().isEmpty()

    # The same numbers as the engine's, computed here from the saved weights.
    path = tmp_path / "digits.json"
    assert d.window.files.save_to(path)
    wait_idle(qtbot, d)
    trained = load_trained(path)
    x, _label = trained.sample("val", 2)
    e = Explainer(trained.model, trained.graph, x).explain("conv1", (3, 0, 5))
    assert f["value"] == pytest.approx(e.value, rel=1e-6)
    assert f["sum"] == pytest.approx(e.sum, rel=1e-6)
    assert f["bias"] == pytest.approx(e.bias, rel=1e-6)
    np.testing.assert_allclose(f["window"], e.window, rtol=1e-6)
    np.testing.assert_allclose(f["kernel"], e.kernel, rtol=1e-6)
    np.testing.assert_allclose(f["products"], e.products, rtol=1e-6, atol=1e-12)
    view = d.explain_view
    # ... and those are what the grids say, cell by cell.
    assert view.kernel_grid.texts() == [[num(v, DIGITS) for v in row] for row in e.kernel[0]]
    assert view.products_grid.texts() == [[num(v, DIGITS) for v in row]
                                          for row in e.products[0]]
    assert view.window_grid.texts()[0] == ["0", "0", "0"]          # row −1: the padding
    assert num(e.sum) in view.equation.text() and num(e.bias) in view.equation.text()
    assert "relu1" in view.equation.text()
    assert view.source_map.shape == (8, 8) and view.source_map.pad == 1
    assert view.output_map.mark.isVisible()

    # Stepping along the map is a lookup: no new request.
    calls = _count_calls(d, "explain")
    view.step(1)
    f2 = _explained(qtbot, d, "conv1", (3, 0, 6))
    view.step(2)                                          # past the row's end
    _explained(qtbot, d, "conv1", (3, 1, 0))
    assert f2["value"] == pytest.approx(float(view.state.insight.explanation.meta
                                              .output_map[0, 6]), rel=1e-6)
    assert calls == []
    # Playing slides it on by itself.
    view.speed.setCurrentIndex(view.speed.count() - 1)
    view.play.setChecked(True)
    qtbot.waitUntil(lambda: (flush(d), view.target[1][1:] >= (1, 3))[1], timeout=WAIT_MS)
    view.play.setChecked(False)
    assert calls == []

    # A vector: the Explain view's own layer picker; fc2 is a Linear.
    view.show_index("fc2", (4,))
    f3 = _explained(qtbot, d, "fc2", (4,))
    assert f3["type"] == "Linear" and view._kind == "linear"
    assert f3["sum"] + f3["bias"] == pytest.approx(f3["value"], rel=1e-5, abs=1e-6)
    assert "the other 54" in view.window_grid.row_labels

    # Another project: nothing of this one.
    d.window.files.load_into(load_template("shapes_cnn"), None)
    flush(d)
    assert d.project_state.choices.explain is None
    assert d.project_state.insight.explanation.meta is None
    assert view.frame is None and "Train the network first" in view.body.text()


def test_the_grids_sit_side_by_side_in_a_wide_short_dock_and_stack_in_a_narrow_one(qtbot):
    from PySide6.QtWidgets import QBoxLayout, QLabel

    from layerlab.app.dashboard.views.explain_view import _Flow
    from layerlab.app.dashboard.views.number_grid import NumberGrid
    grids = [NumberGrid(name) for name in ("window", "kernel", "products")]
    for g in grids:
        g.set_values(np.linspace(-1, 1, 25).reshape(5, 5), title=g.objectName() or "grid")
    flow = _Flow((grids[0], QLabel("×"), grids[1], QLabel("="), grids[2]))
    qtbot.addWidget(flow)
    flow.resize(780, 200)       # shapes_cnn's 5×5 kernels in the floating explainer
    flow.show()
    flow.sync()
    assert flow.box.direction() == QBoxLayout.Direction.LeftToRight
    flow.resize(260, 900)       # a narrow dock
    flow.sync()
    assert flow.box.direction() == QBoxLayout.Direction.TopToBottom
