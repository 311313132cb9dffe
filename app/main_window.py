"""The main window: canvas in the middle, panels docked around it, menus, status bar, files,
autosave and window layout. ``run_app(argv)`` is what ``layerlab [FILE]`` runs.

Hooks for later panels (the training dashboard):
  * ``window.add_panel(key, title, widget, area, tabify_with)`` registers a dock (remembered
    in the window layout, listed in View ▸ Panels);
  * ``window.editor.set_locked(reason, editable_params)`` locks structural edits with a
    visible reason (canvas banner + status bar); ``None`` unlocks;
  * ``window.selection.currentChanged(node_id | None)`` / ``changed(list)``;
  * ``window.document`` signals (nodeAdded … analysisChanged, projectReset, lockChanged).
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox,
                               QWidget)

from layerlab.engine import ProjectLoadError

from .autosave import Autosave, default_autosave_dir, find_recoveries
from .canvas.scene import GraphScene
from .canvas.view import CanvasView
from .dashboard import Dashboard
from .editor import Editor
from .file_actions import FileController
from .model_files import ModelFiles
from .icons import app_icon
from .panels.inspector import InspectorPanel
from .panels.palette import PalettePanel
from .panels.problems_panel import ProblemsPanel
from .panels.summary_panel import SummaryPanel
from .theme import current_theme, watch_color_scheme
from .workshop.controller import Workshop
from .workspaces import Workspaces
from . import window_menus

__all__ = ["MainWindow", "run_app"]

AUTOSAVE_SECONDS = 60
Area = Qt.DockWidgetArea


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, autosave_dir: Path | None = None,
                 autosave_interval_s: float = AUTOSAVE_SECONDS) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings()
        self.editor = Editor(parent=self)
        self.document = self.editor.document
        self.selection = self.editor.selection
        self.scene = GraphScene(self.editor, parent=self)
        self.view = CanvasView(self.scene)
        self.setCentralWidget(self.view)
        self.panels: dict[str, QDockWidget] = {}
        self._layout_restored = False
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        self.setCorner(Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)

        self.autosave = Autosave(self.editor, autosave_dir or default_autosave_dir(),
                                 autosave_interval_s, self)
        self.files = FileController(self, self.editor, self.settings, self.autosave)
        window_menus.build_menus(self)
        window_menus.build_toolbar(self)
        self._build_panels()
        self.dashboard = Dashboard(self)   # training views, Training menu, worker process
        self.workspaces = Workspaces(self)     # Build / Train: remembered dock layouts
        window_menus.add_workspace_actions(self)
        self.model_files = ModelFiles(self)    # File ▸ Export / Import (outside this process)
        self.inspector.sections.append(self.dashboard.inspector_section)   # activation plot
        self.workshop = Workshop(self)     # lessons, packs, projector mode (app/workshop)
        self._build_status_bar()
        self._connect()
        self._restore_layout()
        self._update_title()
        watch_color_scheme(self, self.apply_theme)

    # --- panels --------------------------------------------------------------------------------
    def add_panel(self, key: str, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea = Area.RightDockWidgetArea,
                  tabify_with: str | None = None) -> QDockWidget:
        """Dock ``widget`` as a panel; its place and visibility are remembered by key."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if tabify_with in self.panels:
            self.tabifyDockWidget(self.panels[tabify_with], dock)
        self.panels[key] = dock
        self.panels_menu.addAction(dock.toggleViewAction())
        if self._layout_restored:
            # Where the remembered layout had it, else where the workspace puts it (Qt's
            # restoreDockWidget says True also for a dock it never saw).
            if self.workspaces.knows(key):
                self.restoreDockWidget(dock)
            else:
                self.workspaces.place([key])
        return dock

    def _build_panels(self) -> None:
        self.palette_panel = PalettePanel()
        self.inspector = InspectorPanel(self.editor)
        self.summary_panel = SummaryPanel(self.editor)
        self.problems_panel = ProblemsPanel(self.editor)
        self.add_panel("palette", "Layers", self.palette_panel, Area.LeftDockWidgetArea)
        self.add_panel("inspector", "Inspector", self.inspector, Area.RightDockWidgetArea)
        self.add_panel("summary", "Summary", self.summary_panel, Area.BottomDockWidgetArea)
        self.add_panel("problems", "Problems", self.problems_panel, Area.BottomDockWidgetArea,
                       tabify_with="summary")
        self.panels["summary"].raise_()

    # --- status bar ----------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.lock_label = QLabel()
        self.lock_label.setObjectName("lockLabel")
        self.lock_label.setStyleSheet("QLabel { color: #8A5A00; font-weight: bold; }")
        self.lock_label.hide()
        self.stats_label = QLabel()
        self.zoom_label = QLabel("100%")
        status.addPermanentWidget(self.lock_label)
        status.addPermanentWidget(self.stats_label)
        status.addPermanentWidget(self.zoom_label)

    def _update_stats(self) -> None:
        analysis = self.document.analysis
        n = len(self.document.graph.nodes)
        # Counted as the Problems tab counts them: errors, the dataset's fit included.
        problems = sum(p.is_error for p in self.editor.problems())
        total = "?" if self.editor.concealed is not None else f"{analysis.total_params:,}"
        self.stats_label.setText(
            f"{n} layer{'s' if n != 1 else ''} · {total} parameters · "
            + ("no problems" if not problems else
               f"{problems} problem{'s' if problems != 1 else ''}"))

    # --- wiring it together -------------------------------------------------------------------
    def _connect(self) -> None:
        ed, doc = self.editor, self.document
        ed.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.scene.hintChanged.connect(
            lambda text: self.statusBar().showMessage(text, 4000) if text else (
                self.statusBar().currentMessage() == self.scene.last_hint
                and self.statusBar().clearMessage()))
        ed.modifiedChanged.connect(lambda _m: self.update_modified())
        doc.pathChanged.connect(lambda _p: self._update_title())
        doc.projectReset.connect(self._update_title)
        doc.projectReset.connect(self.statusBar().clearMessage)   # nothing of the last one
        # (problemsChanged follows every analysisChanged: the counts are of both)
        ed.problemsChanged.connect(lambda _p: self._update_stats())
        ed.concealedChanged.connect(self._update_stats)
        doc.lockChanged.connect(self._apply_lock)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.palette_panel.layerActivated.connect(ed.append_node)
        self.view.contextMenuRequested.connect(lambda at: window_menus.popup(self, at))
        self.problems_panel.countChanged.connect(
            lambda n: self.panels["problems"].setWindowTitle(f"Problems ({n})" if n
                                                             else "Problems"))
        self.files.projectLoaded.connect(lambda: QTimer.singleShot(0, self.view.show_graph))
        self.files.recentChanged.connect(lambda: window_menus.rebuild_recent_menu(self))
        stack = ed.undo_stack
        stack.undoTextChanged.connect(lambda t: self.act_undo.setText(f"&Undo {t}".strip()))
        stack.redoTextChanged.connect(lambda t: self.act_redo.setText(f"&Redo {t}".strip()))
        stack.canUndoChanged.connect(lambda _c: self._update_history_actions())
        stack.canRedoChanged.connect(lambda _c: self._update_history_actions())
        self._update_history_actions()
        self._update_stats()
        self.problems_panel.refresh(doc.analysis)

    def _update_history_actions(self) -> None:
        stack = self.editor.undo_stack
        try:
            self.act_undo.setEnabled(stack.canUndo())
            self.act_redo.setEnabled(stack.canRedo())
        except RuntimeError:   # the stack goes before the window at shutdown
            pass

    def _apply_lock(self, reason: str | None) -> None:
        # Plain text: a lock emoji renders as an empty box where no emoji font is installed
        # (seen under Xvfb; common on workshop Linux laptops).
        self.view.set_banner(f"{reason} — the network's structure can't change now"
                             if reason else None)
        self.lock_label.setText(f"Locked: {reason.lower()}" if reason else "")
        self.lock_label.setVisible(bool(reason))
        for action in (self.act_cut, self.act_paste, self.act_duplicate, self.act_delete,
                       self.act_new, self.act_open):
            action.setEnabled(not reason)
        self.recent_menu.setEnabled(not reason and bool(self.files.recent.paths()))
        self.palette_panel.setEnabled(not reason)

    def _update_title(self) -> None:
        name = self.files.display_name()
        self.setWindowTitle(f"{name}[*] — LayerLab")
        self.update_modified()

    def update_modified(self) -> None:
        """The title's [*]: the document or the trained weights are unsaved."""
        self.setWindowModified(self.files.is_modified())

    def apply_theme(self) -> None:
        self.scene.set_theme(current_theme())
        self.view.apply_theme()
        window_menus.refresh_action_icons(self)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            QTimer.singleShot(0, self.apply_theme)
        super().changeEvent(event)

    # --- commands that need the window ---------------------------------------------------------
    def select_all(self) -> None:
        with self.scene.batched_selection():
            for item in self.scene.node_items.values():
                item.setSelected(True)

    def rename_current(self) -> None:
        if self.selection.current is None:
            self.statusBar().showMessage("Select one layer to rename it", 4000)
            return
        self.panels["inspector"].show()
        self.panels["inspector"].raise_()
        edit = getattr(self.inspector, "id_edit", None)
        if edit is not None:
            edit.setFocus()
            edit.selectAll()

    # --- recovery, layout, closing --------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """If a previous session died with unsaved work, offer to restore it."""
        recoveries = find_recoveries(self.autosave.directory)
        if not recoveries:
            return False
        rec = recoveries[0]
        where = rec.original.name if rec.original else "an unsaved project"
        weights = " and its trained weights" if rec.weights is not None else ""
        answer = QMessageBox.question(
            self, "Recover unsaved work?",
            f"LayerLab did not close properly last time. Recover the unsaved work on "
            f"{where}{weights}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            rec.discard()
            return False
        try:
            project = rec.load()
        except ProjectLoadError as exc:
            self.files.show_load_error(exc)
            return False
        self.files.load_into(project, rec.original)
        if rec.weights is not None:
            self.dashboard.recover_weights(rec.weights)   # loaded as this session's, unsaved
        rec.discard()
        self.editor.mark_modified()
        self.autosave.save_now()
        return True

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        restored = state is not None and self.restoreState(state)
        self.workspaces.start(restored)       # the current workspace's, or its default
        self._layout_restored = True

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.workspaces.remember()
        self.settings.sync()

    def closeEvent(self, event) -> None:  # noqa: N802
        # A run stops first (its weights are then part of the question); weights being
        # saved are waited for. Either way the window closes again by itself when done.
        if not self.dashboard.ready_to_close() or not self.files.confirm_discard() \
                or not self.dashboard.ready_to_close():
            event.ignore()
            return
        self.save_layout()
        self.autosave.close()
        self.dashboard.shutdown()
        event.accept()


def run_app(argv: list[str] | None = None) -> int:
    """Open the main window (and ``argv``'s first file or template name, if any); return the
    exit code."""
    from .error_guard import install_excepthook, setup_logging
    argv = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "layerlab"] + argv)
        argv = app.arguments()[1:]          # Qt's own options (-platform …) removed
    app.setOrganizationName("LayerLab")
    app.setApplicationName("LayerLab")
    app.setApplicationDisplayName("LayerLab")
    # The .desktop file's name (packaging/layerlab.desktop): Linux docks group the window
    # with its launcher and show its icon.
    app.setDesktopFileName("layerlab")
    app.setWindowIcon(app_icon())
    setup_logging()
    install_excepthook()
    window = MainWindow()
    window.show()
    files = [a for a in argv if not a.startswith("-")]

    def first_project() -> None:    # after the first paint: the window is there at once
        if not window.offer_recovery() and files:
            window.files.open_argument(files[0])     # a file, or a bundled template's name
        window.view.show_graph()
    QTimer.singleShot(0, first_project)
    _close_on_interrupt(window)
    return app.exec()


def _close_on_interrupt(window: MainWindow) -> None:
    """Ctrl+C in the terminal closes the window the normal way (asking about unsaved work,
    removing the autosave) instead of being ignored while Qt's loop runs."""
    import signal
    try:
        signal.signal(signal.SIGINT, lambda *_: window.close())
    except ValueError:       # not the main thread (embedded use)
        return
    timer = QTimer(window)   # wakes the interpreter so the Python handler can run
    timer.timeout.connect(lambda: None)
    timer.start(300)
