"""The main window's menus, toolbar, recent-files menu and canvas context menu.

Each builder stores its QActions on the window (``window.act_undo`` …) so that other parts
(the lock, tests, a later dashboard) can enable, trigger or extend them.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QToolBar

from .canvas.diagram import export_diagram_dialog
from .icons import action_icon
from .workspaces import WORKSPACES

__all__ = ["build_menus", "build_toolbar", "refresh_action_icons", "rebuild_recent_menu",
           "canvas_menu", "popup", "add_workspace_actions"]

CONTROLS = (
    "Add a layer: drag it from the Layers panel (onto a wire to insert it there), or "
    "double-click it to add it after the selected layer.\n"
    "Wire: drag from a layer's right-hand port onto another layer.\n"
    "Select: click, or drag a rectangle on empty canvas (Shift adds).\n"
    "Move: drag layers; drop an unwired layer on a wire to insert it.\n"
    "Zoom: mouse wheel. Pan: middle-drag, or hold Space and drag.\n"
    "Fit: Ctrl+0 or F. Arrange: Ctrl+L. Delete: Del. Duplicate: Ctrl+D. Rename: F2.")


def _action(window, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(k) for k in keys])
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(w) -> None:
    bar, keys = w.menuBar(), QKeySequence.StandardKey
    ed, files, view = w.editor, w.files, w.view
    f = bar.addMenu("&File")
    w.act_new = _action(w, f, "&New…", files.new, keys.New,
                        "Start a new project from an empty canvas or a template")
    w.act_open = _action(w, f, "&Open…", files.open, keys.Open)
    w.recent_menu = f.addMenu("Open &Recent")
    f.addSeparator()
    w.act_save = _action(w, f, "&Save", files.save, keys.Save)
    w.act_save_as = _action(w, f, "Save &As…", files.save_as, keys.SaveAs)
    f.addSeparator()
    # Import and export run outside the window's process (app/model_files.py).
    w.import_menu = f.addMenu("&Import")
    w.act_import_onnx = _action(w, w.import_menu, "&ONNX Model (.onnx)…",
                                lambda: w.model_files.import_onnx(),
                                tip="Open an ONNX model as a new project, with its weights")
    w.act_import_torch = _action(w, w.import_menu, "&PyTorch Module (runs its code)…",
                                 lambda: w.model_files.import_torch(),
                                 tip="Open a torch.nn.Module made by your own Python code as a "
                                     "new project (the code runs in a separate process)")
    w.export_menu = f.addMenu("&Export")
    w.act_export_pytorch = _action(w, w.export_menu, "&PyTorch Code (.py)…",
                                   lambda: w.model_files.export("pytorch"),
                                   tip="A standalone PyTorch file with the trained weights")
    w.act_export_onnx = _action(w, w.export_menu, "&ONNX (.onnx)…",
                                lambda: w.model_files.export("onnx"),
                                tip="An ONNX model with the trained weights, taking samples as "
                                    "the dataset stores them")
    w.act_export_diagram = _action(w, w.export_menu, "&Diagram (PNG, SVG)…",
                                   lambda: export_diagram_dialog(w),
                                   tip="The whole network as a picture, for slides")
    f.addSeparator()
    w.act_open_pack = _action(w, f, "Open &Pack…", lambda: w.workshop.open_pack_dialog(),
                              tip="Start workshop mode from a teacher's pack (.llpack)")
    w.act_new_pack = _action(w, f, "New &Workshop Pack…", lambda: w.workshop.new_pack(),
                             tip="Projects, lessons, a fixed seed and locked parameters in one "
                                 "file to hand out (open it with File ▸ Open Pack…)")
    f.addSeparator()
    _action(w, f, "&Quit", w.close, keys.Quit)

    e = bar.addMenu("&Edit")
    w.act_undo = _action(w, e, "&Undo", ed.undo, keys.Undo)
    w.act_redo = _action(w, e, "&Redo", ed.redo, [keys.Redo, "Ctrl+Y"])
    e.addSeparator()
    w.act_cut = _action(w, e, "Cu&t", ed.cut_selection, keys.Cut)
    w.act_copy = _action(w, e, "&Copy", ed.copy_selection, keys.Copy)
    w.act_paste = _action(w, e, "&Paste", ed.paste, keys.Paste)
    w.act_duplicate = _action(w, e, "&Duplicate", ed.duplicate_selection, "Ctrl+D")
    w.act_delete = _action(w, e, "De&lete", ed.delete_selection, [keys.Delete, "Backspace"])
    e.addSeparator()
    w.act_select_all = _action(w, e, "Select &All", w.select_all, keys.SelectAll)
    w.act_rename = _action(w, e, "&Rename Layer", w.rename_current, "F2")
    w.act_layout = _action(w, e, "Arrange (&Auto-layout)", ed.auto_layout, "Ctrl+L",
                           "Arrange the layers left to right by depth")

    v = w.view_menu = bar.addMenu("&View")
    _action(w, v, "Zoom &In", lambda: view.zoom_by(1.25), [keys.ZoomIn, "Ctrl+="])
    _action(w, v, "Zoom &Out", lambda: view.zoom_by(0.8), keys.ZoomOut)
    w.act_fit = _action(w, v, "&Fit to View", view.fit_to_view, ["Ctrl+0", "F"])
    _action(w, v, "Actual &Size", lambda: view.set_zoom(1.0), "Ctrl+1")
    v.addSeparator()
    w.act_projector = _action(w, v, "P&rojector Mode", lambda: w.workshop.projector.set_on(
        w.act_projector.isChecked()), "Ctrl+Shift+P", "Large text, thick lines, full contrast: "
        "readable from the back of a room (remembered)")
    w.act_projector.setCheckable(True)
    w.act_presenter = _action(w, v, "Presenter &Layout", lambda: w.workshop.presenter.set_on(
        w.act_presenter.isChecked()), "Ctrl+Shift+L", "Only the canvas and the loss plot, "
        "both large")
    w.act_presenter.setCheckable(True)
    w.act_lessons = _action(w, v, "&Lessons", lambda: w.workshop.show_panel(), "Ctrl+Shift+E",
                            "The workshop lessons: follow one step by step")
    v.addSeparator()
    w.panels_menu = v.addMenu("&Panels")

    h = bar.addMenu("&Help")
    _action(w, h, "Canvas &Controls", lambda: QMessageBox.information(w, "Canvas controls",
                                                                      CONTROLS))
    _action(w, h, "&About LayerLab", lambda: QMessageBox.about(
        w, "About LayerLab", "LayerLab — build, train and look inside neural networks by hand."))
    rebuild_recent_menu(w)


def build_toolbar(w) -> QToolBar:
    bar = w.addToolBar("Main")
    bar.setObjectName("toolbar_main")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    bar.setIconSize(QSize(18, 18))
    w.toolbar = bar
    groups = (((w.act_new, "New"), (w.act_open, "Open"), (w.act_save, "Save")),
              ((w.act_undo, "Undo"), (w.act_redo, "Redo")),
              ((w.act_fit, "Fit"), (w.act_layout, "Arrange")))
    for group in groups:
        for action, label in group:
            action.setIconText(label)
            bar.addAction(action)
        bar.addSeparator()
    refresh_action_icons(w)
    return bar


def add_workspace_actions(w) -> None:
    """The workspaces (app/workspaces.py): View ▸ Workspace, and their toggles at the end
    of the toolbar."""
    menu = w.view_menu.addMenu("&Workspace")
    w.workspace_menu = menu
    bar = w.toolbar
    bar.addSeparator()
    label = QLabel(" Workspace: ")
    label.setObjectName("workspaceLabel")
    bar.addWidget(label)
    for key, action in w.workspaces.actions.items():
        menu.addAction(action)
        if WORKSPACES[key].in_toolbar:
            bar.addAction(action)
    menu.addSeparator()
    menu.addAction(w.workspaces.act_reset)


def refresh_action_icons(w) -> None:
    """(Re)draw the toolbar glyphs in the palette's text colour (light or dark)."""
    color = w.palette().color(QPalette.ColorRole.WindowText)
    for kind, action in (("new", w.act_new), ("open", w.act_open), ("save", w.act_save),
                         ("undo", w.act_undo), ("redo", w.act_redo), ("fit", w.act_fit),
                         ("arrange", w.act_layout)):
        action.setIcon(action_icon(kind, color))


def rebuild_recent_menu(w) -> None:
    menu, recent = w.recent_menu, w.files.recent
    menu.clear()
    paths = recent.paths()
    for path in paths:
        action = menu.addAction(path.name)
        action.setToolTip(str(path))
        action.setStatusTip(str(path))
        action.triggered.connect(lambda _c=False, p=path: w.files.open_path(p))
    if paths:
        menu.addSeparator()
        menu.addAction("Clear List", lambda: (recent.clear(), rebuild_recent_menu(w)))
    menu.setEnabled(bool(paths))


def canvas_menu(w) -> QMenu:
    """The right-click menu of the canvas: the Edit actions that act on the selection."""
    menu = QMenu(w)
    for action in (w.act_cut, w.act_copy, w.act_paste, w.act_duplicate, w.act_delete, None,
                   w.act_rename, w.act_layout, w.act_fit):
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)
    return menu


def popup(w, at) -> None:
    canvas_menu(w).exec(at)
