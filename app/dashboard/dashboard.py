"""The live training dashboard: panels, the worker thread, and the glue between them.

Data flow: the TrainingWorker (its own QThread) emits plain snapshots; they arrive here via
queued connections, so every slot runs on the GUI thread (checked by ``gui_only``). Slots only
store what arrived; two timers draw the latest of it — curves at ~20 Hz, images at ~4 Hz —
and hidden views skip drawing until shown. So however fast training reports, the GUI does a
bounded amount of work per second and never waits for the worker.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from .confusion_view import ConfusionView
from .feature_maps_view import FeatureMapsView
from .filters_view import FiltersView
from .frame_budget import FrameBudget
from .gradients_view import GradientsView
from .loss_view import LossView
from .predict_panel import PredictPanel
from .session import LoadRequest, RunRequest, graph_key, settings_key
from .settings_commands import SettingsNotifier, replace_section
from .threads import gui_only
from .training_panel import TrainingPanel
from .weights_store import checkpoint_dir, has_checkpoint
from .worker import TrainingWorker, WorkerThread

__all__ = ["Dashboard", "CURVE_MS", "IMAGE_MS"]

log = logging.getLogger(__name__)

CURVE_MS = 50     # ~20 Hz: the loss curves
IMAGE_MS = 250    # ~4 Hz: each of filters, feature maps, gradients, confusion, progress text
QUEUED = Qt.ConnectionType.QueuedConnection
Area = Qt.DockWidgetArea
TERMINAL = ("finished", "stopped", "diverged", "failed")


class Dashboard(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.editor = window.editor
        self.doc = window.document
        self.selection = window.selection
        self.notifier = SettingsNotifier(self)
        self.state = "idle"            # idle | preparing | running | paused | stopping
        self.session = None            # SessionInfo of the worker's trainer
        self.run_info = None
        self.probe = 0
        self.worker_busy = False
        self._pending_batches: list = []
        self._pending_epochs: list = []
        self._last_batch = None
        self._last_epoch = None
        self._progress_dirty = False
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
        for signal, slot in ((w.busyChanged, self._on_busy), (w.devicesFound, self._on_devices),
                             (w.sessionReady, self._on_session),
                             (w.sessionCleared, self._on_session_cleared),
                             (w.runStarted, self._on_run_started), (w.batch, self._on_batch),
                             (w.epoch, self._on_epoch), (w.evaluation, self._on_evaluation),
                             (w.visuals, self._on_visuals), (w.state, self._on_state),
                             (w.runEnded, self._on_run_ended), (w.failed, self._on_failed),
                             (w.predicted, self._on_predicted), (w.saved, self._on_saved),
                             (w.saveFailed, self._on_save_failed)):
            signal.connect(slot, QUEUED)
        self.curve_timer = QTimer(self)
        self.curve_timer.setInterval(CURVE_MS)
        self.curve_timer.timeout.connect(self._curve_tick)
        # Whatever the load: curves at least 2 Hz, each image view at least every 2 s.
        self.budget = FrameBudget(min_interval_s={"curves": 0.5, **{
            f"image{i}": 2.0 for i in range(len(self.image_views) + 1)}})
        # One image view per tick, in turn: each still gets ~4 Hz, but no tick does all of
        # them at once (that would be one long stall of the event loop).
        self.image_timer = QTimer(self)
        self.image_timer.setInterval(IMAGE_MS // (len(self.image_views) + 1))
        self.image_timer.timeout.connect(self._image_tick)
        self._image_turn = 0

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

    # --- commands -----------------------------------------------------------------------------------
    def can_resume(self) -> bool:
        s = self.session
        return s is not None and s.step > 0 and s.graph_key == graph_key(self.doc.graph)

    def train(self) -> bool:
        return self._start(resume=False)

    def resume(self) -> bool:
        return self._start(resume=True) if self.can_resume() else False

    def _start(self, resume: bool, start_paused: bool = False, steps: int = 0) -> bool:
        if self.state != "idle" or self._shut_down:
            return False
        project = self.doc.project.copy()
        epochs = int((project.training or {}).get("epochs", 10)) if isinstance(
            (project.training or {}).get("epochs", 10), int) else 10
        if resume and self.session is not None and self.session.epoch >= epochs:
            epochs = self.session.epoch + epochs     # a finished run: train that much more
        path = self.doc.path
        req = RunRequest(project=project, base_dir=path.parent if path else None,
                         resume=resume, epochs=epochs, start_paused=start_paused, steps=steps,
                         probe=self.probe, graph_key=graph_key(project.graph),
                         settings_key=settings_key(project))
        self.worker.weights_dir = checkpoint_dir(path) if path else None
        self.worker.cancel_requested = False
        self.worker.pause_requested = False
        self.panel.message_bar.hide()
        self.panel.progress.setFormat("Loading the dataset…")
        self.panel.run_text.setText("")
        self._set_state("preparing")
        self.worker.submit(lambda: self.worker.run_training(req))
        return True

    def toggle_pause(self) -> None:
        trainer = self.worker.trainer
        if trainer is None:
            return
        if self.state == "running":
            trainer.pause()
        elif self.state == "paused":
            trainer.resume()

    def step(self) -> bool:
        """One batch: pauses a running run; from idle, starts a run paused and steps it."""
        if self.state in ("running", "paused") and self.worker.trainer is not None:
            self.worker.trainer.step(1)
            return True
        if self.state == "idle":
            s = self.session
            unfinished = self.can_resume() and s.epoch < int(
                (self.doc.project.training or {}).get("epochs", 10))
            return self._start(resume=unfinished, start_paused=True, steps=1)
        return False

    def stop(self) -> None:
        if self.state == "preparing":
            self.worker.cancel_requested = True
        if self.state in ("preparing", "running", "paused"):
            trainer = self.worker.trainer
            if trainer is not None:
                trainer.stop()
            self._set_state("stopping")

    def set_probe(self, index: int) -> None:
        self.probe = int(index)
        self.worker.call(lambda: self.worker.set_probe(index))

    def predict(self, x) -> None:
        """Coalesced: one prediction in flight; the newest input waits, older ones are
        dropped (a fast drawer never builds a queue)."""
        if self._predict_inflight:
            self._predict_next = x
            return
        self._predict_token += 1
        token = self._predict_token
        self._predict_inflight = True
        self.worker.call(lambda: self.worker.predict(token, x))

    # --- state, lock, buttons -------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        reason = {"preparing": "Training is starting", "running": "Training in progress",
                  "paused": "Training is paused", "stopping": "Training is stopping"}.get(state)
        if reason != self.doc.lock_reason:
            self.editor.set_locked(reason)
        self._update_buttons()
        if state != "idle":
            self._start_timers()

    def _update_buttons(self) -> None:
        can_resume = self.can_resume()
        self.panel.set_run_state(self.state, can_resume)
        idle = self.state == "idle"
        self.act_train.setEnabled(idle)
        self.act_resume.setEnabled(idle and can_resume)
        self.act_pause.setEnabled(self.state in ("running", "paused"))
        self.act_pause.setText("&Resume" if self.state == "paused" else "&Pause")
        self.act_step.setEnabled(self.state in ("idle", "running", "paused"))
        self.act_stop.setEnabled(self.state in ("preparing", "running", "paused"))
        self.act_follow.setEnabled(idle)

    def _start_timers(self) -> None:
        if not self.curve_timer.isActive():
            self.budget.reset()
            self.curve_timer.start()
        if not self.image_timer.isActive():
            self.image_timer.start()

    # --- slots for the worker (GUI thread) ----------------------------------------------------------
    @gui_only
    def _on_busy(self, busy: bool) -> None:
        self.worker_busy = busy
        if not busy and self.state == "idle":
            self._after_idle()

    @gui_only
    def _on_devices(self, devices) -> None:
        self.panel.set_devices(devices)

    @gui_only
    def _on_session(self, info) -> None:
        new = self.session is None or info.dataset is not self.session.dataset
        self.session = info
        if new:
            self.filters_view.set_layers(info.conv_ids)
            self.feature_view.set_session(info)
            self.confusion_view.set_session(info)
            self.gradients_view.set_order(info.node_ids)
            if info.loaded_from is not None:
                self.loss_view.set_history(info.task, info.history)
                last = info.history[-1] if info.history else None
                acc = (f", validation accuracy {100 * last.val_acc:.1f} %"
                       if last is not None and last.val_acc is not None else "")
                self.panel.message_bar.show_message(
                    "info", "Trained weights loaded",
                    f"{info.epoch} epoch{'s' if info.epoch != 1 else ''} trained{acc} "
                    f"(from {info.loaded_from}). Resume training continues from there.")
            self._on_canvas_selection(self.selection.current)
        self._check_session_fits()
        self._update_buttons()

    @gui_only
    def _on_session_cleared(self) -> None:
        self.session = None
        self.predict_panel.set_session(None)
        self._update_buttons()

    @gui_only
    def _on_run_started(self, info) -> None:
        self.run_info = info
        if info.start_step == 0 and info.start_epoch == 0:
            self.loss_view.reset(info.task, info.epochs)
        else:
            self.loss_view.set_epochs_target(info.epochs)
        self._pending_batches.clear()
        self._pending_epochs.clear()
        if self.state == "preparing":
            self._set_state("running")
        where = info.device_name + (f" ({info.device_reason})" if info.device_reason else "")
        self.panel.run_text.setText(f"Training on {where}: {info.num_train:,} samples, "
                                    f"{info.batches_per_epoch} batches per epoch")
        notes = [n for n in info.notes]
        if notes:
            self.panel.message_bar.show_message("info", "Note", "\n".join(notes))

    @gui_only
    def _on_batch(self, snap) -> None:
        self._pending_batches.append(snap)

    @gui_only
    def _on_epoch(self, snap) -> None:
        self._pending_epochs.append(snap)
        self._last_epoch = snap

    @gui_only
    def _on_evaluation(self, snap) -> None:
        self.confusion_view.set_evaluation(snap)

    @gui_only
    def _on_visuals(self, snap) -> None:
        for view in (self.filters_view, self.feature_view, self.gradients_view):
            view.set_visuals(snap)
        if self.state == "idle":     # e.g. a probe change or loaded weights: draw once
            QTimer.singleShot(0, self._draw_images)

    @gui_only
    def _on_state(self, snap) -> None:
        if snap.state == "paused":
            self._set_state("paused")
        elif snap.state == "running" and self.state in ("preparing", "paused"):
            self._set_state("running")
        elif snap.state in TERMINAL:
            self.editor.set_locked(None)   # the weights are final; saving happens meanwhile
            self._report_end(snap.state, snap.message)

    def _report_end(self, status: str, message: str) -> None:
        bar = self.panel.message_bar
        if status == "diverged":
            bar.show_message("error", "Training stopped: the loss blew up", message
                             + " Lower the learning rate and press Resume training.")
        elif status == "failed":
            bar.show_message("error", "Training failed", message + ". Nothing was lost: the "
                             "weights of the last completed step are kept.")
        elif status == "stopped":
            bar.show_message("info", "Training stopped", f"{message}. Resume training "
                             "continues from there.")
        elif status == "finished":
            last = self._last_epoch
            acc = (f": validation accuracy {100 * last.val_acc:.1f} %"
                   if last is not None and last.val_acc is not None else "")
            bar.show_message("info", "Training finished", f"{message}{acc}.")

    @gui_only
    def _on_run_ended(self, result) -> None:
        self._draw_curves()
        self._draw_images()
        if result is not None:
            self.panel.progress.setFormat(f"{result.status.capitalize()} · "
                                          f"{result.epochs_completed} epochs · "
                                          f"{result.samples_per_s:,.0f} samples/s")
            if self.doc.path is None and result.steps:
                self.window.statusBar().showMessage(
                    "Save the project to keep the trained weights beside it", 8000)
        else:
            self.panel.progress.setFormat("Ready")
        self._set_state("idle")
        self.editor.set_locked(None)
        self._after_idle()

    def _after_idle(self) -> None:
        if self.state != "idle" or self.worker_busy:
            return
        self.curve_timer.stop()
        self.image_timer.stop()
        if self._close_when_idle:
            self._close_when_idle = False
            QTimer.singleShot(0, self.window.close)
        elif self._load_when_idle:
            self._load_when_idle = False
            self._load_saved_weights()

    @gui_only
    def _on_failed(self, title: str, message: str) -> None:
        self.panel.message_bar.show_message("error", title, message)
        self.window.statusBar().showMessage(f"{title}: {message.splitlines()[0]}", 8000)

    @gui_only
    def _on_predicted(self, token: int, values) -> None:
        self._predict_inflight = False
        if token == self._predict_token:
            self.predict_panel.show_result(values)
        if self._predict_next is not None:
            x, self._predict_next = self._predict_next, None
            self.predict(x)

    @gui_only
    def _on_saved(self, directory: str) -> None:
        self.window.statusBar().showMessage(f"Trained weights saved in {directory}", 5000)

    @gui_only
    def _on_save_failed(self, message: str) -> None:
        self.panel.message_bar.show_message("error", "Weights not saved", message)

    # --- drawing (timers) ---------------------------------------------------------------------------
    def _curve_tick(self) -> None:
        if self._pending_batches or self._pending_epochs:
            if self.budget.may_draw("curves"):
                self._draw_curves()

    def _image_tick(self) -> None:
        turn = self._image_turn % (len(self.image_views) + 1)
        if self.budget.may_draw(f"image{turn}"):    # a skipped view keeps its turn
            self._draw_next_image()

    @gui_only
    def _draw_curves(self) -> None:
        batches, self._pending_batches = self._pending_batches, []
        epochs, self._pending_epochs = self._pending_epochs, []
        if batches:
            self.loss_view.add_batches(batches)
            self._last_batch = batches[-1]
            self._progress_dirty = True
        if epochs:
            self.loss_view.add_epochs(epochs)
        self.loss_view.flush()

    def _draw_progress(self) -> None:
        if self._progress_dirty and self._last_batch is not None:
            self._progress_dirty = False
            total = self.run_info.epochs if self.run_info else self._last_batch.epoch
            self.panel.show_batch(self._last_batch, total)

    @gui_only
    def _draw_next_image(self) -> None:
        """The next view in turn (the progress text counts as one)."""
        turn = self._image_turn % (len(self.image_views) + 1)
        self._image_turn += 1
        if turn == len(self.image_views):
            self._draw_progress()
        else:
            self.image_views[turn].flush()

    @gui_only
    def _draw_images(self) -> None:
        """Everything at once: after a run, a pause or a probe change (not per frame)."""
        for view in self.image_views:
            view.flush()
        self._draw_progress()

    # --- the project ---------------------------------------------------------------------------------
    def _on_settings_changed(self, section: str) -> None:
        self.panel.refresh()
        if section == "training" and self.state in ("running", "paused"):
            lr = (self.doc.project.training or {}).get("lr")
            trainer = self.worker.trainer
            if trainer is not None and isinstance(lr, (int, float)) and lr > 0:
                trainer.set_lr(float(lr))
        self._update_buttons()

    def _on_project_reset(self) -> None:
        self.panel.refresh()
        self.panel.message_bar.hide()
        if self.state != "idle":
            self.stop()                 # the run's weights still go to its own project folder
        self.loss_view.reset()
        self.loss_view.summary.setText("Press Train to see the loss fall.")
        self.predict_panel.set_session(None)
        self.worker.submit(self.worker.clear_session)

    def _check_session_fits(self) -> None:
        """Predictions need weights that fit the graph on the canvas."""
        s = self.session
        fits = s is not None and s.graph_key == graph_key(self.doc.graph)
        if fits and self.predict_panel.session is not s:
            self.predict_panel.set_session(s)
        elif not fits and self.predict_panel.session is not None:
            self.predict_panel.set_session(None)
            if s is not None:
                self.predict_panel.status.setText("The network changed since it was trained: "
                                                  "train again to try it.")
        self._update_buttons()

    def _load_saved_weights(self) -> None:
        path = self.doc.path
        if not has_checkpoint(path):
            return
        if self.state != "idle" or self.worker_busy:
            self._load_when_idle = True
            return
        project = self.doc.project.copy()
        req = LoadRequest(project=project, base_dir=path.parent,
                          checkpoint_dir=checkpoint_dir(path), probe=self.probe,
                          graph_key=graph_key(project.graph), settings_key=settings_key(project))
        self.worker.submit(lambda: self.worker.load_session(req))

    def _on_project_saved(self, path) -> None:
        s = self.session
        if s is None or self.worker.trainer is None:
            return
        if s.graph_key != graph_key(self.doc.graph):
            self.window.statusBar().showMessage(
                "Trained weights not saved: the network changed since they were trained", 8000)
            return
        directory = checkpoint_dir(Path(path))
        self.worker.weights_dir = directory
        self.worker.project = self.doc.project.copy()
        self.worker.call(lambda: self.worker.save_now(directory))

    # --- selection -----------------------------------------------------------------------------------
    def _on_canvas_selection(self, node_id) -> None:
        self.filters_view.select_node(node_id)
        self.feature_view.select_node(node_id)

    def _select_on_canvas(self, node_id: str) -> None:
        if node_id in self.doc.graph.nodes and self.selection.current != node_id:
            self.selection.select([node_id], reveal=True)

    # --- dialogs -----------------------------------------------------------------------------------------
    def open_dataset_dialog(self, kind: str) -> bool:
        from .dataset_dialog import DatasetDialog
        path = self.doc.path
        dialog = DatasetDialog(kind, dict(self.doc.project.dataset or {}),
                               path.parent if path else None, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            self.panel.refresh()
            return False
        return replace_section(self.editor, self.notifier, "dataset", dialog.spec(),
                               f"Use dataset {kind}")

    def open_follow(self) -> None:
        from .follow_dialog import FollowDialog
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

    def _on_background_finished(self, status: str) -> None:
        if status in TERMINAL and has_checkpoint(self.doc.path):
            self.panel.message_bar.show_message(
                "info", "Background run ended", f"Status: {status}. Its weights are beside the "
                "project; they were loaded, so Resume training and Predict use them.")
            self._load_saved_weights()

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
        self.curve_timer.stop()
        self.image_timer.stop()
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
