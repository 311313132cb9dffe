"""Projector mode (View menu, Ctrl+Shift+P): text, canvas labels, plot fonts and line widths
×1.6 in full contrast, remembered across restarts; the presenter layout keeps the canvas and
the loss plot."""
from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from layerlab.app import theme
from layerlab.app.canvas.node_item import LOD_SIMPLE, simple_below
from layerlab.engine.templates import load_template

from app_helpers import dialogs, make_window  # noqa: F401


@pytest.fixture
def app_font():
    """Projector mode changes the application's font and palette: put them back."""
    app = QApplication.instance()
    font, palette = app.font(), app.palette()
    yield font
    theme.set_projector(False)
    app.setFont(font)
    app.setPalette(palette)


def test_projector_mode_scales_text_plots_and_canvas_and_is_remembered(qtbot, tmp_path,
                                                                       dialogs, app_font):
    window = make_window(tmp_path, qtbot)
    window.files.load_into(load_template("digits_cnn"), None)
    QApplication.processEvents()
    action = window.act_projector
    assert action.shortcut() == QKeySequence("Ctrl+Shift+P") and not action.isChecked()
    loss = window.dashboard.loss_view
    plot = loss.findChildren(pg.PlotWidget)[0]
    curve = plot.getPlotItem().listDataItems()[0]
    width = curve.opts["pen"].widthF()
    window.editor.selection.select(["conv1"])
    inspector_arithmetic = window.inspector.arithmetic.font().pointSizeF()
    title = window.dashboard.views["lessons"].view.lesson_title.font().pointSizeF()
    right = window.panels["inspector"]                 # in front of its tab group
    right_width = right.width()

    action.trigger()                                   # View ▸ Projector Mode
    QApplication.processEvents()
    assert right.width() > right_width + 40            # wider for the larger text
    base = app_font.pointSizeF()
    assert QApplication.font().pointSizeF() == pytest.approx(base * theme.PROJECTOR_SCALE)
    assert window.dashboard.views["lessons"].view.lesson_title.font().pointSizeF() == \
        pytest.approx(title * theme.PROJECTOR_SCALE)          # a font sized on purpose too
    assert window.inspector.arithmetic.font().pointSizeF() == \
        pytest.approx(inspector_arithmetic * theme.PROJECTOR_SCALE)
    assert curve.opts["pen"].widthF() == pytest.approx(width * theme.PROJECTOR_SCALE)
    axis = plot.getPlotItem().getAxis("left")
    assert axis.style["tickFont"].pointSizeF() >= base * 1.5
    assert window.scene.theme.scale == theme.PROJECTOR_SCALE
    assert simple_below(window.scene.theme.scale) > 1.0      # large-type cards up to 100%
    assert window.scene.theme.text.name() == "#000000"       # full contrast
    assert window.settings.value("view/projector") in (True, "true")

    window.settings.sync()
    again = make_window(tmp_path, qtbot)              # a restart: the same settings file
    qtbot.waitUntil(lambda: again.workshop.projector.on)     # remembered at start
    assert again.act_projector.isChecked() and again.scene.theme.scale > 1
    assert QApplication.font().pointSizeF() == pytest.approx(base * theme.PROJECTOR_SCALE)
    again.workshop.projector.set_on(False, remember=False)
    again.editor.mark_saved()
    again.close()

    from PySide6.QtWidgets import QLabel
    born = QLabel("built in projector mode", window.dashboard.views["lessons"].view)
    font = born.font()
    font.setPointSizeF(font.pointSizeF() * 1.2)        # sized from the large font, on purpose
    born.setFont(font)
    born.show()
    born_pt = born.font().pointSizeF()
    axis_title = plot.getPlotItem().getAxis("bottom").label
    axis_title.setFont(QApplication.font())            # as a plot built in projector mode has
    action.trigger()                                   # off again: everything as it was
    assert axis_title.font().pointSizeF() == pytest.approx(base)
    assert born.font().pointSizeF() == pytest.approx(born_pt / theme.PROJECTOR_SCALE)
    assert QApplication.font().pointSizeF() == pytest.approx(base)
    assert curve.opts["pen"].widthF() == pytest.approx(width)
    assert window.dashboard.views["lessons"].view.lesson_title.font().pointSizeF() == \
        pytest.approx(title)
    assert window.scene.theme.scale == 1.0 and simple_below(1.0) == LOD_SIMPLE
    QApplication.processEvents()
    assert abs(right.width() - right_width) <= 2       # the docks as wide as they were
    assert window.settings.value("view/projector") in (False, "false")
    window.editor.mark_saved()


def test_the_presenter_layout_keeps_the_canvas_and_the_loss_plot(qtbot, tmp_path, dialogs):
    window = make_window(tmp_path, qtbot)
    QApplication.processEvents()
    shown = {k for k, d in window.panels.items() if d.isVisible()}
    assert {"palette", "inspector", "loss"} <= shown
    window.act_presenter.trigger()
    QApplication.processEvents()
    assert {k for k, d in window.panels.items() if d.isVisible()} == {"loss"}
    assert window.dashboard.docks["loss"].height() > window.height() * 0.3
    assert window.view.isVisible()
    window.act_presenter.trigger()
    QApplication.processEvents()
    assert {k for k, d in window.panels.items() if d.isVisible()} == shown
