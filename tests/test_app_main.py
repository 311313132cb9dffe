"""Start-up (``layerlab FILE``), the last-guard exception hook, theme, and window odds and ends."""
from __future__ import annotations

import logging
import signal
import sys

import pytest

from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import QApplication

from layerlab.engine import save_project
from layerlab.engine.templates import load_template

from app_helpers import dialogs, drag_mouse, window  # noqa: F401


@pytest.fixture
def launch(tmp_path, monkeypatch, qapp):
    """``launcher.main(argv)`` as ``layerlab ARGS`` runs it, up to the event loop: returns
    the window it opened (settings, autosave and log in tmp_path); closed afterwards."""
    import layerlab.app.autosave as autosave
    import layerlab.app.error_guard as guard
    import layerlab.app.main_window as main_window
    from layerlab.app import launcher
    monkeypatch.setattr(main_window, "QSettings", lambda: QSettings(
        str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    handlers = list(logging.getLogger("layerlab").handlers)
    old_sigint = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(main_window, "default_autosave_dir", lambda: tmp_path / "autosave")
    monkeypatch.setattr(autosave, "default_autosave_dir", lambda: tmp_path / "autosave")
    monkeypatch.setattr(guard, "log_path", lambda: tmp_path / "log" / "layerlab.log")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)      # restored afterwards
    opened = []

    def run(argv):
        before = set(QApplication.topLevelWidgets())
        monkeypatch.setattr(QApplication, "exec",
                            lambda *a: opened.extend(w for w in QApplication.topLevelWidgets()
                                                     if isinstance(w, main_window.MainWindow)
                                                     and w not in before) or 0)
        assert launcher.main(argv) == 0
        assert len(opened) == 1
        QApplication.processEvents()    # the first turn of the loop opens the file (after
        return opened[0]                # the window's first paint)
    run.old_sigint = old_sigint
    yield run
    signal.signal(signal.SIGINT, old_sigint)
    for window in opened:
        window.editor.mark_saved()
        window.close()
    root = logging.getLogger("layerlab")
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()


def test_layerlab_file_opens_the_project(tmp_path, launch, dialogs):
    import layerlab.app.error_guard as guard
    path = tmp_path / "lenet.json"
    save_project(load_template("lenet5"), path)
    window = launch([str(path)])
    assert window.document.path == path
    assert window.document.analysis.total_params == 61_706
    assert window.windowTitle().startswith("lenet.json")
    # its own icon in every size we ship, and the .desktop file's name (dock grouping)
    from layerlab.app.icons import APP_ICON_SIZES
    sizes = {s.width() for s in QApplication.windowIcon().availableSizes()}
    assert sizes == set(APP_ICON_SIZES) and not window.windowIcon().isNull()
    assert QApplication.desktopFileName() == "layerlab"
    assert sys.excepthook is guard._hook
    assert signal.getsignal(signal.SIGINT) is not launch.old_sigint   # Ctrl+C closes it


def test_layerlab_template_name_opens_the_template(launch, dialogs):
    """`layerlab lenet5`, as every command accepts a template's name: a new, unsaved project
    named after it (like File ▸ New from the gallery), not "cannot be opened"."""
    window = launch(["lenet5"])
    assert not dialogs.shown
    doc = window.document
    assert doc.path is None and doc.project.name == "LeNet-5"
    assert doc.graph == load_template("lenet5").graph
    assert window.windowTitle().startswith("LeNet-5") and not window.isWindowModified()


def test_layerlab_unknown_name_says_what_it_is_not(launch, dialogs):
    window = launch(["lenet6"])
    text = dialogs.texts()
    assert "lenet6 is neither a project file nor the name of a bundled template" in text
    assert "lenet5" in text                       # the names there are
    assert window.document.path is None and len(window.document.graph) == 0


def test_excepthook_logs_and_shows_a_message(dialogs, caplog):
    from layerlab.app import error_guard
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    with caplog.at_level(logging.ERROR, logger="layerlab.app"):
        error_guard._hook(*exc_info)
    assert "boom" in caplog.text
    assert dialogs.shown and "ValueError: boom" in dialogs.shown[-1]["text"]
    assert "Traceback" in dialogs.shown[-1]["details"]


def test_space_drag_pans_without_editing(window):
    window.files.load_into(load_template("lenet5"), None)
    start = window.document.graph.nodes["conv1"].position
    view = window.view
    view.setFocus()
    QApplication.sendEvent(view, QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_Space,
                                           Qt.KeyboardModifier.NoModifier))
    assert view.space_held
    node = window.scene.node_items["conv1"].sceneBoundingRect().center()
    view.centerOn(node)
    before = view.center_scene_pos()
    drag_mouse(view, node, node + QPointF(-120, 0))       # starts on a node: still a pan
    QApplication.sendEvent(view, QKeyEvent(QKeyEvent.Type.KeyRelease, Qt.Key.Key_Space,
                                           Qt.KeyboardModifier.NoModifier))
    assert view.center_scene_pos().x() > before.x() + 60
    assert window.document.graph.nodes["conv1"].position == start
    assert window.editor.undo_stack.count() == 0


def test_theme_follows_the_palette(window, qapp):
    light = window.scene.theme
    old = qapp.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    try:
        qapp.setPalette(dark)
        window.apply_theme()
        if qapp.styleHints().colorScheme() == Qt.ColorScheme.Unknown:
            assert window.scene.theme.dark and not light.dark
        assert window.scene.backgroundBrush().color() == window.scene.theme.canvas
    finally:
        qapp.setPalette(old)
        window.apply_theme()


def test_title_shows_the_dirty_marker(window):
    window.files.load_into(load_template("lenet5"), None)
    assert window.windowTitle() == "LeNet-5[*] — LayerLab"
    assert not window.isWindowModified()
    window.editor.set_param("conv1", "out_channels", 7)
    assert window.isWindowModified()
    window.editor.undo()
    assert not window.isWindowModified()


def test_summary_table_rows_select_layers(window):
    window.files.load_into(load_template("lenet5"), None)
    panel = window.summary_panel
    assert panel.model.rowCount() == 13
    index = panel.model.index(1, 0)
    assert index.data() == "conv1"
    assert panel.model.index(1, 3).data() == "156"
    panel.table.clicked.emit(index)
    assert window.selection.current == "conv1"
    panel.batch.setValue(1)
    assert "batch 1," in panel.totals.text()


def test_hidden_summary_catches_up_when_shown(window):
    window.files.load_into(load_template("lenet5"), None)
    window.panels["problems"].raise_()
    QApplication.processEvents()
    window.editor.set_param("conv1", "out_channels", 8)
    window.panels["summary"].raise_()
    QApplication.processEvents()
    assert window.summary_panel.model.index(1, 2).data() == "8×28×28"


def test_right_click_selects_the_layer_and_offers_the_edit_actions(window, monkeypatch):
    from PySide6.QtGui import QContextMenuEvent
    from layerlab.app import window_menus
    window.files.load_into(load_template("lenet5"), None)
    shown = []
    monkeypatch.setattr(window_menus, "popup",
                        lambda w, at: shown.append(window_menus.canvas_menu(w).actions()))
    view = window.view
    centre = window.scene.node_items["pool1"].sceneBoundingRect().center()
    view.centerOn(centre)
    pos = view.mapFromScene(centre)
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos)))
    assert window.selection.current == "pool1"
    assert shown and window.act_delete in shown[0] and window.act_duplicate in shown[0]
