"""The live training dashboard: panels, the worker thread, and the glue between them.

Data flow: the TrainingWorker (its own QThread) posts plain snapshots to a mailbox; while a
run is active the dashboard takes them once per frame, on its own timer, at a rate the frame
budget sets (up to 20 frames a second: curves each frame, one image view in turn) — so the
training thread never wakes the GUI per snapshot. Everything else (state, results, errors)
arrives as queued signals, so every slot runs on the GUI thread (checked by ``gui_only``).
Hidden views skip drawing until shown. However fast training reports, the GUI does a bounded
amount of work per second and never waits for the worker.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from .state.settings_commands import SettingsNotifier
from .training.frame_budget import FrameBudget
from .training.project_hooks import ProjectHooks
from .training.run_control import RunControl
from .training.worker import TrainingWorker, WorkerThread
from .training.worker_slots import WorkerSlots
from .views.confusion_view import ConfusionView
from .views.feature_maps_view import FeatureMapsView
from .views.filters_view import FiltersView
from .views.gradients_view import GradientsView
from .views.loss_view import LossView
from .views.predict_panel import PredictPanel
from .views.training_panel import TrainingPanel

__all__ = ["Dashboard"]

log = logging.getLogger(__name__)

QUEUED = Qt.ConnectionType.QueuedConnection
Area = Qt.DockWidgetArea


class Dashboard(RunControl, WorkerSlots, ProjectHooks, QObject):
    """Owns the panels, the worker and its thread; run control, the worker's slots and the
    project hooks live in the mixins (run_control.py, worker_slots.py, project_hooks.py)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.editor = window.editor
        self.doc = window.document
        self.selection = window.selection
        self.notifier = SettingsNotifier(self)
        # A one-click fix may change a section too (Editor.apply_fix announces it there).
        self.editor.sectionChanged.connect(self.notifier.changed)
        self.state = "idle"            # idle | preparing | running | paused | stopping
        self.session = None            # SessionInfo of the worker's trainer
        self.run_info = None
        self.probe = 0
        self.worker_busy = False
        self._framing = False          # drawing frames on our own timer (a run is active)
        self._image_turn = 0
        self._pending_batches: list = []
        self._pending_epochs: list = []
        self._last_batch = None
        self._last_epoch = None
        self._progress_dirty = False
        self._progress_at = 0.0
        self._predict_token = 0
        self._predict_inflight = False
        self._predict_next = None
        self._close_when_idle = False
        self._load_when_idle = False
        self._shut_down = False
        self.follow_dialog = None

        self._build_views()
        self._build_worker()
        self._build_actions()
        self._connect()
        self._dock()
        self.worker.submit(self.worker.find_devices)
        self.worker.submit(self.worker.warm_up)
        self._update_buttons()

    # --- construction -------------------------------------------------------------------------
    def _build_views(self) -> None:
        self.panel = TrainingPanel(self.editor, self.notifier)
        self.loss_view = LossView()
        self.filters_view = FiltersView()
        self.feature_view = FeatureMapsView()
        self.confusion_view = ConfusionView()
        self.gradients_view = GradientsView()
        self.predict_panel = PredictPanel()
        self.image_views = (self.filters_view, self.feature_view, self.gradients_view,
                            self.confusion_view)

    def _build_worker(self) -> None:
        self.thread = WorkerThread(self)
        self.worker = TrainingWorker()
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()
        # A running QThread destroyed with its parent aborts the process: end it first when
        # the window goes away without closing, or the application quits.
        thread, worker = self.thread, self.worker
        self.window.destroyed.connect(lambda *_: _end_thread(thread, worker))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        w = self.worker
        # Snapshots (batch, epoch, visuals, evaluation, run start) come through the mailbox,
        # not these signals: see _frame().
        for signal, slot in ((w.mail, self._on_mail), (w.busyChanged, self._on_busy),
                             (w.devicesFound, self._on_devices),
                             (w.sessionReady, self._on_session),
                             (w.sessionCleared, self._on_session_cleared),
                             (w.state, self._on_state),
                             (w.runEnded, self._on_run_ended), (w.failed, self._on_failed),
                             (w.predicted, self._on_predicted), (w.saved, self._on_saved),
                             (w.saveFailed, self._on_save_failed)):
            signal.connect(slot, QUEUED)
        self.frame_timer = QTimer(self)
        self.frame_timer.setSingleShot(True)
        self.frame_timer.timeout.connect(self._frame)
        self.budget = FrameBudget()

    def _build_actions(self) -> None:
        w = self.window
        menu = w.menuBar().addMenu("&Training")
        help_menu = next((a for a in w.menuBar().actions() if a.text() == "&Help"), None)
        if help_menu is not None:   # keep Help last
            w.menuBar().insertMenu(help_menu, menu)
        self.act_train = QAction("&Train", w)
        self.act_train.setShortcut("Ctrl+T")
        self.act_train.setStatusTip("Train the network on its dataset from fresh weights")
        self.act_resume = QAction("&Resume Training", w)
        self.act_pause = QAction("&Pause", w)
        self.act_step = QAction("&Step One Batch", w)
        self.act_stop = QAction("St&op", w)
        self.act_follow = QAction("Run in &Background / Follow a Run…", w)
        for action, slot in ((self.act_train, self.train), (self.act_resume, self.resume),
                             (self.act_pause, self.toggle_pause), (self.act_step, self.step),
                             (self.act_stop, self.stop), (self.act_follow, self.open_follow)):
            action.triggered.connect(lambda _c=False, s=slot: s())
            menu.addAction(action)
        self.act_train.setIconText("Train")
        self.act_stop.setIconText("Stop")
        toolbar = getattr(w, "toolbar", None)
        if toolbar is not None:
            toolbar.addAction(self.act_train)
            toolbar.addAction(self.act_stop)

    def _connect(self) -> None:
        # Where the graph does not fit its dataset: problems with fixes, like the graph's own.
        self.editor.add_problem_source(self._dataset_problems)
        self.notifier.changed.connect(lambda section: section == "dataset"
                                      and self.editor.refresh_problems())
        self.doc.pathChanged.connect(lambda _path: self.editor.refresh_problems())
        p = self.panel
        p.trainClicked.connect(self.train)
        p.resumeClicked.connect(self.resume)
        p.pauseClicked.connect(self.toggle_pause)
        p.stepClicked.connect(self.step)
        p.stopClicked.connect(self.stop)
        p.datasetDialogRequested.connect(self.open_dataset_dialog)
        p.followClicked.connect(self.open_follow)
        self.notifier.changed.connect(self._on_settings_changed)
        self.doc.projectReset.connect(self._on_project_reset)
        self.doc.analysisChanged.connect(lambda _a: self._check_session_fits())
        self.window.files.projectLoaded.connect(self._load_saved_weights)
        saved = getattr(self.window.files, "projectSaved", None)
        if saved is not None:
            saved.connect(self._on_project_saved)
        self.selection.currentChanged.connect(self._on_canvas_selection)
        self.filters_view.nodeChosen.connect(self._select_on_canvas)
        self.feature_view.nodeChosen.connect(self._select_on_canvas)
        self.feature_view.probeChanged.connect(self.set_probe)
        self.predict_panel.predictRequested.connect(self.predict)

    def _dock(self) -> None:
        """Training beside the inspector; loss, filters and feature maps side by side along
        the bottom (all three visible while training), the other views tabbed with them."""
        w = self.window
        bottom = Area.BottomDockWidgetArea
        self.docks = {
            "training": w.add_panel("training", "Training", self.panel, Area.RightDockWidgetArea,
                                    tabify_with="inspector"),
            "loss": w.add_panel("loss", "Loss", self.loss_view, bottom),
            "filters": w.add_panel("filters", "Filters", self.filters_view, bottom),
            "features": w.add_panel("features", "Feature maps", self.feature_view, bottom),
        }
        # Split before tabifying: a dock already in a tab group can only gain tabs.
        w.splitDockWidget(self.docks["loss"], self.docks["filters"], Qt.Orientation.Horizontal)
        w.splitDockWidget(self.docks["filters"], self.docks["features"],
                          Qt.Orientation.Horizontal)
        for key in ("summary", "problems"):
            if key in w.panels:
                w.tabifyDockWidget(self.docks["loss"], w.panels[key])
        self.docks["confusion"] = w.add_panel("confusion", "Confusion matrix",
                                              self.confusion_view, bottom, tabify_with="filters")
        self.docks["predict"] = w.add_panel("predict", "Predict", self.predict_panel,
                                            Area.RightDockWidgetArea, tabify_with="training")
        self.docks["gradients"] = w.add_panel("gradients", "Gradients", self.gradients_view,
                                              bottom, tabify_with="features")
        for key in ("training", "loss", "filters", "features"):
            self.docks[key].raise_()
        # Sizes need a laid-out window: applied once the event loop runs, and only when no
        # saved layout was restored (that one is the user's).
        if w.settings.value("window/state") is None:
            QTimer.singleShot(0, self._default_sizes)

    def _default_sizes(self) -> None:
        """Pixel sizes for a 1440×900 window; Qt scales them to the real one."""
        w = self.window
        side = [d for d in (w.panels.get("palette"), self.docks["training"]) if d is not None]
        w.resizeDocks(side, [200, 310][-len(side):], Qt.Orientation.Horizontal)
        w.resizeDocks([self.docks["loss"], self.docks["filters"], self.docks["features"]],
                      [360, 250, 320], Qt.Orientation.Horizontal)
        w.resizeDocks([self.docks["loss"]], [330], Qt.Orientation.Vertical)

    def _dataset_problems(self, project) -> list:
        from layerlab.engine.data.fit import dataset_problems
        path = self.doc.path
        return dataset_problems(project, path.parent if path else None, self.doc.analysis)

    # --- selection -----------------------------------------------------------------------------------
    def _on_canvas_selection(self, node_id) -> None:
        self.filters_view.select_node(node_id)
        self.feature_view.select_node(node_id)

    def _select_on_canvas(self, node_id: str) -> None:
        if node_id in self.doc.graph.nodes and self.selection.current != node_id:
            self.selection.select([node_id], reveal=True)

    # --- dialogs -----------------------------------------------------------------------------------------
    def open_dataset_dialog(self, kind: str) -> bool:
        from .dialogs.dataset_dialog import DatasetDialog
        path = self.doc.path
        dialog = DatasetDialog(kind, dict(self.doc.project.dataset or {}),
                               path.parent if path else None, self.window,
                               project=self.doc.project)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            self.panel.refresh()
            return False
        # The section and the network fixes chosen in the dialog: one undo step.
        return dialog.apply(self.editor, self.notifier, f"Use dataset {dialog.kind.name}")

    def open_follow(self) -> None:
        from .dialogs.follow_dialog import FollowDialog
        path = self.doc.path
        if path is None:
            self.panel.message_bar.show_message(
                "info", "Save the project first", "A background run trains the saved project "
                "file; save it, then start the run.")
            return
        if self.follow_dialog is None or self.follow_dialog.project_path != path:
            if self.follow_dialog is not None:
                self.follow_dialog.kill()
                self.follow_dialog.deleteLater()
            epochs = (self.doc.project.training or {}).get("epochs", 10)
            self.follow_dialog = FollowDialog(path, epochs if isinstance(epochs, int) else 10,
                                              self.window)
            self.follow_dialog.rowsFollowed.connect(self.loss_view.set_followed)
            self.follow_dialog.runFinished.connect(self._on_background_finished)
        self.follow_dialog.show()
        self.follow_dialog.raise_()

    # --- closing ------------------------------------------------------------------------------------------
    def ready_to_close(self) -> bool:
        """False while training or saving: the run is stopped (its weights saved) and the
        window closes by itself when the worker is idle — nothing waits on the GUI thread."""
        if self.state == "idle" and not self.worker_busy:
            return True
        self._close_when_idle = True
        self.stop()
        self.panel.message_bar.show_message("info", "Stopping training",
                                            "The window closes as soon as the weights are "
                                            "saved.")
        return False

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Stop everything and end the worker thread (closing the window, tests)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.frame_timer.stop()
        if self.follow_dialog is not None:
            self.follow_dialog.kill()
        trainer = self.worker.trainer
        if trainer is not None:
            trainer.stop()
        self.thread.quit()
        self.thread.wait(wait_ms)


def _end_thread(thread, worker) -> None:
    trainer = worker.trainer
    if trainer is not None:
        trainer.stop()
    thread.quit()
    thread.wait(5000)
