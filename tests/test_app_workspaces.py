"""Workspaces: Build (the canvas large) and Train (the plots large), switched from the
toolbar and the View menu, each remembering its dock layout; a run that starts shows the
training views; a dock added later lands in both without code of its own."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from layerlab.app.workspaces import WORKSPACES, Workspaces

from layerlab.engine.templates import load_template

from app_helpers import click, dialogs, make_window, window  # noqa: F401
from dashboard_helpers import WAIT_MS, dash, train_and_wait  # noqa: F401


def on_screen(dock) -> bool:
    """Shown and not behind another tab."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def settle(qtbot, window) -> None:
    qtbot.wait(50)          # the layout's deferred sizes (one turn of the event loop)


def test_build_gives_the_canvas_most_of_the_window(qtbot, tmp_path, dialogs):
    window = make_window(tmp_path, qtbot, size=(1440, 900))
    settle(qtbot, window)
    assert window.workspaces.current == "build"
    assert window.workspaces.actions["build"].isChecked()
    panels = window.panels
    for key in ("palette", "inspector", "summary"):
        assert on_screen(panels[key]), key
    for key in ("loss", "filters", "features"):          # tabs below, not half the height
        assert panels[key].isVisible() and not on_screen(panels[key]), key
    canvas = window.view.geometry()
    assert canvas.height() > 0.6 * window.height() and canvas.width() > 0.55 * window.width()
    window.editor.mark_saved()


def test_train_shows_the_plots_large_and_the_canvas_small(window, qtbot):
    window.resize(1440, 900)
    window.workspaces.switch("train")
    settle(qtbot, window)
    panels = window.panels
    for key in ("loss", "filters", "features", "training", "inspector"):
        assert on_screen(panels[key]), key
    assert not panels["palette"].isVisible()
    assert window.view.geometry().height() < 0.5 * window.height()
    assert panels["loss"].height() > 0.45 * window.height()
    # side by side as the views registry declares them
    assert panels["loss"].x() < panels["filters"].x() < panels["features"].x()
    assert window.workspaces.actions["train"].isChecked()


@pytest.mark.parametrize("workspace", ["build", "train"])
def test_no_dock_tab_title_is_cut(tmp_path, qtbot, dialogs, workspace):
    from PySide6.QtWidgets import QTabBar
    window = make_window(tmp_path, qtbot, size=(1440, 900))
    window.workspaces.switch(workspace)
    settle(qtbot, window)
    bars = [b for b in window.findChildren(QTabBar) if b.isVisible() and b.parent() is window]
    assert bars
    for bar in bars:
        for i in range(bar.count()):
            title = bar.tabText(i)
            room = bar.tabRect(i).width() - 2 * bar.style().pixelMetric(
                bar.style().PixelMetric.PM_TabBarTabHSpace) // 2
            assert bar.fontMetrics().horizontalAdvance(title) <= room + 1, (workspace, title)
    window.editor.mark_saved()


def test_each_workspace_restores_its_remembered_layout(tmp_path, qtbot, dialogs):
    window = make_window(tmp_path, qtbot, size=(1440, 900))
    panels, spaces = window.panels, window.workspaces
    panels["problems"].hide()                            # Build: no Problems
    spaces.switch("train")
    settle(qtbot, window)
    assert panels["problems"].isVisible()                # Train's own (default) layout
    panels["gradients"].hide()                           # Train: no Gradients
    window.resizeDocks([panels["loss"]], [300], Qt.Orientation.Vertical)
    settle(qtbot, window)
    train_height = panels["loss"].height()
    spaces.actions["build"].trigger()                    # the toolbar's toggle
    settle(qtbot, window)
    assert spaces.current == "build"
    assert not panels["problems"].isVisible() and panels["gradients"].isVisible()
    spaces.actions["train"].trigger()
    settle(qtbot, window)
    assert panels["problems"].isVisible() and not panels["gradients"].isVisible()
    assert abs(panels["loss"].height() - train_height) <= 2
    window.close()

    # the next start: the workspace last shown, as it was left; the other one remembered too
    again = make_window(tmp_path, qtbot, size=None)
    assert again.workspaces.current == "train"
    assert not again.panels["gradients"].isVisible() and again.panels["problems"].isVisible()
    again.workspaces.switch("build")
    assert not again.panels["problems"].isVisible()
    again.editor.mark_saved()


def test_build_keeps_its_low_row_of_tabs_after_a_visit_to_train(tmp_path, qtbot, dialogs):
    """The plots, once shown large in Train, need more height than Build gives its row of
    tabs: behind the Summary they must not hold that row high (Qt sizes a tab group by its
    largest minimum); brought to the front, they get their room."""
    window = make_window(tmp_path, qtbot, size=(1440, 900))
    window.files.load_into(load_template("lenet5"), None)
    settle(qtbot, window)
    panels, spaces = window.panels, window.workspaces
    build_height, canvas_height = panels["summary"].height(), window.view.height()
    spaces.switch("train")
    settle(qtbot, window)
    qtbot.waitUntil(lambda: panels["features"].minimumSizeHint().height() > build_height,
                    timeout=10_000)              # its view built (once on screen)
    spaces.switch("build")
    settle(qtbot, window)
    assert abs(panels["summary"].height() - build_height) <= 2
    assert abs(window.view.height() - canvas_height) <= 2
    panels["features"].raise_()                          # its tab chosen
    features = panels["features"]
    qtbot.waitUntil(lambda: features.height() >= features.widget().minimumSizeHint().height(),
                    timeout=5000)
    window.editor.mark_saved()


def test_workspaces_are_in_the_toolbar_and_the_view_menu(window):
    toolbar = window.toolbar.actions()
    menu = window.workspace_menu.actions()
    for key, ws in WORKSPACES.items():
        action = window.workspaces.actions[key]
        assert action in menu
        assert (action in toolbar) == ws.in_toolbar
    assert window.workspaces.act_reset in menu


def test_a_dock_added_later_lands_in_both_workspaces(tmp_path, qtbot, dialogs):
    window = make_window(tmp_path, qtbot, size=(1440, 900))
    spaces = window.workspaces
    spaces.switch("train")
    window.close()                                       # both layouts remembered without it

    again = make_window(tmp_path, qtbot, size=(1440, 900))
    extra = again.add_panel("notes", "Notes", QLabel("notes"),
                            Qt.DockWidgetArea.BottomDockWidgetArea)
    spaces = again.workspaces
    for key in ("build", "train"):
        spaces.switch(key)
        settle(qtbot, again)
        anchor = again.panels[WORKSPACES[key].anchors["bottom"]]
        assert extra.isVisible(), key
        assert extra in again.tabifiedDockWidgets(anchor), key    # with its area's group
    spaces.reset()                                       # and in the derived default
    assert extra in again.tabifiedDockWidgets(again.panels["loss"])
    again.editor.mark_saved()


def test_a_run_that_starts_shows_the_training_views(qtbot, dash):
    d = dash
    window = d.window
    window.resize(1440, 900)
    window.workspaces.switch("build")
    settle(qtbot, window)
    assert not on_screen(d.docks["loss"])
    d.doc.project.training["epochs"] = 1
    window.dashboard.act_train.trigger()                  # Ctrl+T
    qtbot.waitUntil(lambda: window.workspaces.current == "train", timeout=WAIT_MS)
    settle(qtbot, window)
    for key in ("loss", "filters", "features", "training"):
        assert on_screen(d.docks[key]), key
    qtbot.waitUntil(lambda: d.idle, timeout=WAIT_MS)
    # the person goes back to Build: the run's end does not pull them away again
    window.workspaces.switch("build")
    qtbot.wait(100)
    assert window.workspaces.current == "build"


def test_clicking_a_node_brings_the_inspector_forward(window, qtbot):
    window.files.load_into(load_template("lenet5"), None)
    window.panels["training"].raise_()                    # the Training tab in front
    settle(qtbot, window)
    assert not on_screen(window.panels["inspector"])
    item = window.scene.node_items["conv1"]
    window.view.centerOn(item)
    click(window.view, item.sceneBoundingRect().center())
    qtbot.waitUntil(lambda: on_screen(window.panels["inspector"]), timeout=5000)
    assert window.selection.current == "conv1"


def test_a_new_message_brings_the_training_panel_forward(window, qtbot):
    """In Build the Training panel is a tab behind the Inspector: news it shows (here: a
    background run asked of an unsaved project) comes to the front; the same message again
    does not take the front back from the Inspector."""
    window.files.load_into(load_template("lenet5"), None)
    window.panels["inspector"].raise_()
    settle(qtbot, window)
    assert not on_screen(window.panels["training"])
    window.dashboard.open_follow()                        # "Save the project first"
    qtbot.waitUntil(lambda: on_screen(window.panels["training"]), timeout=5000)
    assert "Save the project first" in window.dashboard.project_state.message.title
    window.panels["inspector"].raise_()
    window.dashboard.project_state.touch("message")      # republished, nothing new
    window.dashboard.project_state.publish()
    settle(qtbot, window)
    assert on_screen(window.panels["inspector"])
    window.editor.mark_saved()


def test_a_window_deleted_right_after_a_switch_leaves_no_work_behind(tmp_path, qtbot,
                                                                     dialogs):
    """The layout's deferred work (sizes, which tab sizes its group) is tied to the window:
    a window closed and deleted before the event loop runs again leaves none of it to run
    against deleted panels (seen in the suite as an error in the next test's set-up)."""
    import shiboken6
    from PySide6.QtCore import QSettings
    from layerlab.app.main_window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autosave_dir=tmp_path / "autosave",
                        autosave_interval_s=3600)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    window.workspaces.switch("train")          # work for the next turn of the event loop
    window.editor.mark_saved()
    window.close()
    shiboken6.delete(window)
    qtbot.wait(100)                            # pytest-qt fails the test on an exception


def test_unknown_workspace_is_refused(window):
    with pytest.raises(KeyError, match="no workspace 'nope'"):
        window.workspaces.switch("nope")
    assert isinstance(window.workspaces, Workspaces)
