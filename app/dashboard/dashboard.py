"""The live training dashboard: its views, the training worker, and the open project's state.

Composition: one :class:`~.state.project_state.ProjectState` (Qt-free) owns what the views
show; :class:`~.state_binding.StateBinding` (the thin Qt adapter) feeds it the worker's
messages and draws the views in frames; the views are declared once in views/registry.py;
the worker is a child process (engine/service) holding the model — PyTorch is never imported
in the window's process. This class wires them to the window: docks, menu and toolbar
actions, the document's signals (a new project → a new state), files (trained weights are
saved, loaded and asked about like the document), autosave, and closing.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from layerlab.engine.data.fit import dataset_problems, dataset_spec
from layerlab.engine.locations import checkpoint_dir, has_checkpoint
from layerlab.engine.project import project_to_dict
from layerlab.engine.service import process as worker_process
from layerlab.engine.service.protocol import Reply

from .settings_commands import SettingsNotifier, replace_section
from .state.project_state import Message, ProjectFacts, ProjectState
from .state.session import graph_key
from .state_binding import StateBinding
from .training.insight_control import InsightControl
from .training.run_control import RunControl
from .views.lazy_view import LazyView, after_first_paint
from .views.registry import VIEWS, ViewContext

__all__ = ["Dashboard"]

log = logging.getLogger(__name__)

Area = Qt.DockWidgetArea
AREAS = {"bottom": Area.BottomDockWidgetArea, "right": Area.RightDockWidgetArea}
#: Workers that die before they are ready, in a row, before the dashboard gives up.
MAX_FAILED_STARTS = 3
#: The worker starts when the window has painted, or after this long (a window not shown).
WORKER_START_AT_LATEST_MS = 1000
#: Main-window panels that share the loss view's tab group.
TABBED_WITH_LOSS = ("summary", "problems")
#: Attribute names of the views (``dashboard.panel``…: tests and tools reach them by these).
VIEW_ATTRS = {"training": "panel", "loss": "loss_view", "filters": "filters_view",
              "features": "feature_view", "confusion": "confusion_view",
              "gradients": "gradients_view", "predict": "predict_panel",
              "explain": "explain_view", "saliency": "saliency_view",
              "histograms": "histograms_view", "runs": "runs_view", "batch": "batch_view",
              "regression": "regression_view"}


class Dashboard(RunControl, InsightControl, QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.editor = window.editor
        self.doc = window.document
        self.selection = window.selection
        self.autosave = getattr(window, "autosave", None)
        self.project_state = ProjectState()
        self.binding = StateBinding(self.project_state, self)
        self.notifier = SettingsNotifier(self)
        self.notifier.held = self.project_state.held_refusal
        # A one-click fix may change a section too (Editor.apply_fix announces it there).
        self.editor.sectionChanged.connect(self.notifier.changed)
        self.follow_dialog = None
        self._shut_down = False
        self._close_when_idle = False
        self._pending: dict[int, str] = {}        # call id → "load:<purpose>" | "save"
        self._ending_worker: str | None = None    # why we ended the worker ourselves
        self._train_when_ready: tuple | None = None   # Train pressed while PyTorch loaded
        self._worker_was_ready = False
        self._failed_starts = 0                   # workers that died before they were ready
        self._stop_timer = self._make_stop_timer()
        self._asked_dataset: dict | None = None   # the dataset the worker last described
        self._dataset_timer = QTimer(self)
        self._dataset_timer.setSingleShot(True)
        self._dataset_timer.timeout.connect(self._request_dataset)

        self._build_views()
        self._build_actions()
        self._dock()
        self._connect()
        self._start_worker()
        self._new_project()
        self._state_changed()

    # --- construction ----------------------------------------------------------------------------
    def _build_views(self) -> None:
        ctx = ViewContext(state=self.project_state, editor=self.editor, notifier=self.notifier,
                          ask=self.binding.call, command=self.command,
                          select=self._select_on_canvas, choose=self.choose)
        self.view_context = ctx     # what every view is built with (extras: app/workshop)
        # Each view is built the first time its dock is shown (views/lazy_view.py).
        self.views: dict = {}
        for spec in VIEWS:
            widget = LazyView(spec, ctx)
            widget.window_painted = False
            self.views[spec.key] = widget
            self.binding.add_view(spec, widget)
        central = self.window.centralWidget()
        after_first_paint(getattr(central, "viewport", lambda: central)(), self._window_painted)

    def _window_painted(self) -> None:
        """The window is on screen: now the worker starts (PyTorch loads there), and the
        views on show fill their docks."""
        self._start_worker_now()
        for widget in self.views.values():
            widget.window_painted = True
            widget.build_if_shown()

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
        for action, name in ((self.act_train, "train"), (self.act_resume, "resume"),
                             (self.act_pause, "toggle_pause"), (self.act_step, "step"),
                             (self.act_stop, "stop"), (self.act_follow, "follow")):
            action.triggered.connect(lambda _c=False, n=name: self.command(n))
            menu.addAction(action)
        self.act_train.setIconText("Train")
        self.act_stop.setIconText("Stop")
        toolbar = getattr(w, "toolbar", None)
        if toolbar is not None:
            toolbar.addAction(self.act_train)
            toolbar.addAction(self.act_stop)

    def _dock(self) -> None:
        """Each view's dock as its declaration says: splits first (a dock already in a tab
        group can only gain tabs), then tabs; the raised ones in front."""
        w = self.window
        self.docks = {spec.key: w.add_panel(spec.key, spec.title, self.views[spec.key],
                                            AREAS[spec.area]) for spec in VIEWS}
        for spec in VIEWS:
            if spec.split_from:
                w.splitDockWidget(self.docks[spec.split_from], self.docks[spec.key],
                                  Qt.Orientation.Horizontal)
        for spec in VIEWS:
            if spec.key == "loss":
                for key in TABBED_WITH_LOSS:
                    if key in w.panels:
                        w.tabifyDockWidget(self.docks["loss"], w.panels[key])
            if spec.tab_with and spec.tab_with in w.panels:
                w.tabifyDockWidget(w.panels[spec.tab_with], self.docks[spec.key])
        for spec in VIEWS:
            if spec.raised:
                self.docks[spec.key].raise_()
        # A dock brought to the front (its tab, or shown again) builds or redraws its view.
        for key, dock in self.docks.items():
            dock.visibilityChanged.connect(
                lambda shown, view=self.views[key]: shown and QTimer.singleShot(
                    0, view.build_if_shown))
        if "histograms" in self.docks:     # measured live only while on screen
            self.docks["histograms"].visibilityChanged.connect(self.tell_histograms_shown)
        # Where each dock starts and how large: the workspaces (app/workspaces.py).

    def _connect(self) -> None:
        # Where the graph does not fit its dataset: problems with fixes, like the graph's own.
        self.editor.add_problem_source(self._dataset_problems)
        self.notifier.changed.connect(lambda section: section == "dataset"
                                      and self.editor.refresh_problems())
        self.doc.pathChanged.connect(lambda _path: self.editor.refresh_problems())
        self.notifier.changed.connect(self._on_settings_changed)
        self.doc.projectReset.connect(self._new_project)
        self.doc.analysisChanged.connect(lambda _a: self._update_facts())
        self.doc.pathChanged.connect(lambda _p: (self._update_facts(),
                                                 self._dataset_timer.start(0)))
        files = self.window.files
        files.projectLoaded.connect(self._on_project_loaded)
        files.projectSaved.connect(self._save_weights)
        files.projectSaved.connect(lambda _path: self.adopt_session_runs())
        self.doc.pathChanged.connect(lambda _path: self.ask_runs())
        files.unsaved_work.append(self.unsaved_weights)
        self.selection.currentChanged.connect(self._on_canvas_selection)
        self.project_state.subscribe(self._on_state, ("run", "worker", "weights", "session",
                                                      "project"))
        self.binding.after_apply.append(self._after_apply)
        # A window destroyed without closing (tests, embedding) hands its worker back too;
        # the handler holds the binding, not this half-destroyed object.
        binding = self.binding
        self.window.destroyed.connect(lambda *_: _release(binding))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _dataset_problems(self, project) -> list:
        path = self.doc.path
        return dataset_problems(project, path.parent if path else None, self.doc.analysis)

    # --- the worker ----------------------------------------------------------------------------------
    def _start_worker(self) -> None:
        """The worker: a warm one left by a closed window, or a new one that starts once the
        window has painted (on a small machine, PyTorch loading beside the window's own
        start would delay the window). Requests made before it runs wait for it."""
        self.binding.attach(worker_process.acquire(start=False))
        self.tell_histograms_shown()
        QTimer.singleShot(WORKER_START_AT_LATEST_MS, self._start_worker_now)

    def _start_worker_now(self) -> None:
        worker = self.binding.worker
        if worker is not None and not worker.started and not self._shut_down:
            worker.start()

    def _rescue_dir(self) -> str | None:
        return str(self.autosave.weights_dir) if self.autosave is not None else None

    def _after_apply(self, messages: list) -> None:
        for message in messages:
            if type(message).__name__ == "WorkerExited":
                self._worker_exited(message)
                continue
            purpose = self._pending.pop(message.id, None) if isinstance(message, Reply) \
                else None
            if purpose is not None and purpose.startswith("load:"):
                self._weights_loaded(purpose[5:], message)
            if getattr(message, "kind", None) == "run_ended" and \
                    message.generation == self.project_state.generation:
                # The run is in the run history now (and runs recorded before a save move
                # beside the project).
                QTimer.singleShot(0, self.adopt_session_runs if self.doc.path is not None
                                  else self.ask_runs)

    def _worker_exited(self, exited) -> None:
        if self._shut_down:
            return
        state = self.project_state
        if not self._worker_was_ready:
            self._failed_starts += 1
        self._worker_was_ready = False
        if self._failed_starts >= MAX_FAILED_STARTS:
            state.set_message(Message(
                "error", "The training process cannot start",
                f"It ended before PyTorch was loaded, {self._failed_starts} times "
                f"({exited.how}). Training is not available in this session; editing works "
                f"as before. The log has the details."))
            self.binding.worker = None
            return
        why = self._ending_worker or f"The training process stopped unexpectedly: {exited.how}."
        self._ending_worker = None
        self._pending.clear()
        state.weights.saving.clear()
        rescued = state.weights.rescued
        session = state.session
        state.session = None           # that model is gone with its process
        state.touch("session", "weights")
        self.binding.attach(worker_process.acquire())
        self.binding.call("reset", generation=state.generation, rescue_dir=self._rescue_dir())
        self.tell_histograms_shown()
        self._request_dataset()
        if rescued is not None and has_checkpoint_dir(Path(rescued.directory)):
            self._load_checkpoint(Path(rescued.directory), "rescue")
            kept = (f" The weights after step {rescued.step:,} (epoch {rescued.epoch}) were "
                    f"kept: Resume training continues from there, Save keeps them.")
        elif session is not None and session.loaded_from and not state.weights.unsaved:
            self._load_checkpoint(Path(session.loaded_from), "project")
            kept = " The saved weights are loaded again."
        else:
            kept = " No trained weights were kept: press Train to start again."
        state.set_message(Message("error", "Training process ended", f"{why}{kept} A new "
                                  f"training process is starting (Loading PyTorch…)."))

    # --- the project ---------------------------------------------------------------------------------
    def _facts(self) -> ProjectFacts:
        doc = self.doc
        analysis = doc.analysis
        task = str((doc.project.dataset or {}).get("task", ""))
        return ProjectFacts(
            name=doc.project.name or "Untitled", path=str(doc.path) if doc.path else None,
            graph_key=graph_key(doc.graph), node_ids=tuple(doc.graph.nodes),
            node_types={n: node.type for n, node in doc.graph.nodes.items()},
            param_ids=tuple(n for n, info in analysis.nodes.items() if info.params),
            task_hint="regression" if task == "regression" else "")

    def _new_project(self) -> None:
        """Opened or created: a new state — every view shows its empty state for it."""
        state = self.project_state
        if state.run.active:
            self.binding.call("stop", token=state.run.token)
        generation = state.new_project(self._facts())
        self._pending.clear()
        self._train_when_ready = None
        self._close_when_idle = False
        if self.autosave is not None:
            self.autosave.discard_weights()
        self.discard_session_runs()        # an unsaved project's runs go with its weights
        self.binding.call("reset", generation=generation, rescue_dir=self._rescue_dir())
        QTimer.singleShot(0, self.ask_runs)  # once the path is set (after projectReset)
        self._dataset_timer.start(0)         # once the path is set (after projectReset)
        # The feature maps shown, and so sent (the worker sends only the watched node's: a
        # whole network's outputs several times a second would cost training time).
        facts = state.project
        first = (facts.conv_ids or facts.layer_ids or (None,))[0]
        if first is not None:
            self.choose(feature_node=first)
        self._on_canvas_selection(self.selection.current)
        self._state_changed()

    def _update_facts(self) -> None:
        self.project_state.update_project(self._facts())
        # Without a dataset section the dataset follows the Input: a new shape, a new dataset.
        if self._asked_dataset is not None and dataset_spec(self.doc.project) != \
                self._asked_dataset:
            self.project_state.forget_dataset()
            self._dataset_timer.start(300)
        self.binding.schedule()

    def _request_dataset(self) -> None:
        path = self.doc.path
        self._asked_dataset = dataset_spec(self.doc.project)
        self.binding.call("dataset", project=project_to_dict(self.doc.project.copy()),
                          base_dir=str(path.parent) if path else None)

    def _on_project_loaded(self) -> None:
        self._dataset_timer.start(0)
        path = self.doc.path
        if has_checkpoint(path):
            self._load_checkpoint(checkpoint_dir(path), "project")

    def _load_checkpoint(self, directory: Path, purpose: str) -> int:
        project = self.doc.project.copy()
        path = self.doc.path
        from .state.session import settings_key
        call_id = self.binding.call(
            "load", project=project_to_dict(project),
            base_dir=str(path.parent) if path else None, checkpoint_dir=str(directory),
            probe=self.project_state.choices.probe, graph_key=graph_key(project.graph),
            settings_key=settings_key(project))
        self._pending[call_id] = f"load:{purpose}"
        self._state_changed()
        return call_id

    def _weights_loaded(self, purpose: str, reply) -> None:
        state = self.project_state
        if reply.error is not None:
            return                              # the worker's "failed" event said why
        if purpose in ("rescue", "recovery"):
            state.mark_weights_unsaved()       # on disk only in the autosave folder
            return
        s = state.session
        if s is None:
            return
        last = s.history[-1] if s.history else None
        acc = (f", validation accuracy {100 * last.val_acc:.1f} %" if last is not None
               and last.val_acc is not None else "")
        state.set_message(Message(
            "info", "Trained weights loaded",
            f"{s.epoch} epoch{'s' if s.epoch != 1 else ''} trained{acc} (from "
            f"{s.loaded_from}). Resume training continues from there."))

    def recover_weights(self, directory: Path) -> None:
        """Autosaved weights of a session that died: this session's now, loaded, unsaved."""
        if self.autosave is None or not has_checkpoint_dir(directory):
            return
        target = self.autosave.weights_dir
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(directory), str(target))
        self._load_checkpoint(target, "recovery")

    def _on_settings_changed(self, section: str) -> None:
        state = self.project_state
        if section == "training" and state.run.status in ("running", "paused"):
            lr = (self.doc.project.training or {}).get("lr")
            if isinstance(lr, (int, float)) and not isinstance(lr, bool) and 0 < lr <= 10:
                self.binding.call("set_lr", lr=float(lr))
        if section == "dataset":
            self._dataset_timer.start(300)      # typing a path: once it settles
        self._update_facts()
        self._state_changed()

    def _save_weights(self, path) -> None:
        """The project was saved: its trained weights go beside it (when they still fit)."""
        state = self.project_state
        if state.session is None:
            return
        if not state.session_fits:
            self.window.statusBar().showMessage(
                "Trained weights not saved: the network changed since they were trained", 8000)
            return
        directory = checkpoint_dir(Path(path))
        call_id = self.binding.call("save", directory=str(directory),
                                    project=project_to_dict(self.doc.project.copy()))
        self._pending[call_id] = "save"
        state.weights_saving(call_id, str(directory))
        self._state_changed()

    def discard_weights(self) -> None:
        """Let the trained weights go unsaved without asking (the self-test, scripts)."""
        self.project_state.weights.unsaved = False
        self.project_state.touch("weights")
        self.binding.schedule()

    def unsaved_weights(self) -> str | None:
        """A sentence for the "unsaved changes" question, when trained weights are unsaved."""
        state = self.project_state
        s = state.session
        if not state.weights.unsaved or s is None:
            return None
        if state.weights.imported_from and s.step == 0:
            return (f"The weights imported from {state.weights.imported_from} are not saved "
                    f"yet: saving the project saves them beside it.")
        return (f"The trained weights ({s.epoch} epoch{'s' if s.epoch != 1 else ''}, step "
                f"{s.step:,}) are not saved yet: saving the project saves them beside it.")

    # --- the state changed ---------------------------------------------------------------------------
    def _state_changed(self) -> None:
        """Something was asked on the GUI thread: publish it in the next frame."""
        self.binding.schedule()

    def _on_state(self, topics: frozenset) -> None:
        state = self.project_state
        if state.worker.ready:
            self._worker_was_ready, self._failed_starts = True, 0
        if "worker" in topics and state.worker.ready and self._train_when_ready is not None:
            QTimer.singleShot(0, self._train_if_queued)
        self._update_lock_and_actions()
        if "weights" in topics:
            update = getattr(self.window, "update_modified", None)
            if update is not None:
                update()
            rescued = state.weights.rescued
            if rescued is not None and state.weights.unsaved and self.autosave is not None:
                self.autosave.save_now()       # so a crash of the app finds the weights
        if self._close_when_idle and self.idle:
            self._close_when_idle = False
            QTimer.singleShot(0, self.window.close)

    # --- selection and choices -----------------------------------------------------------------------
    def choose(self, **changes) -> None:
        self.project_state.choose(**changes)
        if "feature_node" in changes:
            self.binding.call("watch", nodes=[changes["feature_node"]])
        self.binding.schedule()

    def _on_canvas_selection(self, node_id) -> None:
        state = self.project_state
        if node_id is None:
            return
        node_type = state.project.node_types.get(node_id)
        if node_type == "Conv2d":
            state.choose(filter_node=node_id)
        if node_type is not None and node_type != "Input":
            self.choose(feature_node=node_id)
        self.binding.schedule()

    def _select_on_canvas(self, node_id: str) -> None:
        if node_id in self.doc.graph.nodes and self.selection.current != node_id:
            self.selection.select([node_id], reveal=True)

    # --- commands (buttons, actions, message remedies) -----------------------------------------------
    def command(self, name: str):
        if name.startswith("dataset_dialog:"):
            return self.open_dataset_dialog(name.split(":", 1)[1])
        if name.startswith("show:"):
            return self.show_view(name.split(":", 1)[1])
        if name.startswith(("set_lr:", "lr_find", "delay:", "saliency:")):
            return self.insight_command(name)
        if name == "dismiss_message":
            self.project_state.set_message(None)
            return self.binding.schedule()
        handler = {"train": self.train, "resume": self.resume,
                   "toggle_pause": self.toggle_pause, "step": self.step, "stop": self.stop,
                   "follow": self.open_follow, "train_more": self.train_more}.get(name)
        if handler is None:
            log.warning("unknown dashboard command %r", name)
            return None
        return handler()

    # --- compatibility and status -------------------------------------------------------------------
    @property
    def state(self) -> str:
        """The run's status: idle | preparing | running | paused | stopping."""
        return self.project_state.run.status

    @property
    def session(self):
        return self.project_state.session

    @property
    def idle(self) -> bool:
        """No run, and no weights being loaded or saved."""
        return not self.project_state.run.active and not self._pending

    @property
    def worker(self):
        """The worker process (WorkerProcess)."""
        return self.binding.worker

    def draw_now(self) -> None:
        """Apply what arrived and draw everything at once (tests)."""
        self.binding.draw_now()

    # --- dialogs -------------------------------------------------------------------------------------
    def open_dataset_dialog(self, kind: str) -> bool:
        from .dialogs.dataset_dialog import DatasetDialog
        path = self.doc.path
        dialog = DatasetDialog(kind, dict(self.doc.project.dataset or {}),
                               path.parent if path else None, self.window,
                               project=self.doc.project, locks=self.editor.locked_value)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            self.panel.refresh()
            return False
        # The section and the network fixes chosen in the dialog: one undo step.
        return dialog.apply(self.editor, self.notifier, f"Use dataset {dialog.kind.name}")

    def open_follow(self) -> None:
        from .dialogs.follow_dialog import FollowDialog
        path = self.doc.path
        if path is None:
            self.project_state.set_message(Message(
                "info", "Save the project first", "A background run trains the saved project "
                "file; save it, then start the run."))
            self.binding.schedule()
            return
        if self.follow_dialog is None or self.follow_dialog.project_path != path:
            if self.follow_dialog is not None:
                self.follow_dialog.kill()
                self.follow_dialog.deleteLater()
            self.follow_dialog = FollowDialog(path, self._epochs_setting(), self.window)
            self.follow_dialog.rowsFollowed.connect(self._on_followed)
            self.follow_dialog.runFinished.connect(self._on_background_finished)
        self.follow_dialog.show()
        self.follow_dialog.raise_()

    def _on_followed(self, rows: list, reset: bool) -> None:
        self.project_state.set_followed(rows, reset)
        self.binding.schedule()

    def _on_background_finished(self, status: str) -> None:
        path = self.doc.path
        if status in ("finished", "stopped", "diverged", "failed") and has_checkpoint(path):
            self.project_state.set_message(Message(
                "info", "Background run ended", f"Status: {status}. Its weights are beside the "
                "project; they were loaded, so Resume training and Predict use them."))
            self._load_checkpoint(checkpoint_dir(path), "background")

    # --- closing ---------------------------------------------------------------------------------------
    def ready_to_close(self) -> bool:
        """False while a run is active or weights are being saved: the run is stopped and
        the window closes by itself once it is idle — nothing waits on the GUI thread."""
        if self._shut_down or self.idle:
            return True
        self._close_when_idle = True
        if self.project_state.run.active:
            self.stop()
            self.project_state.set_message(Message(
                "info", "Stopping training", "The window closes as soon as the run has "
                "stopped."))
        self.binding.schedule()
        return False

    def shutdown(self) -> None:
        """Stop everything and hand the worker back (closing the window, tests)."""
        if self._shut_down:
            return
        self._shut_down = True
        self._stop_timer.stop()
        self._dataset_timer.stop()
        if self.follow_dialog is not None:
            self.follow_dialog.kill()
        if self.project_state.run.active:
            self.binding.call("stop", token=self.project_state.run.token)
        self.discard_session_runs()
        _release(self.binding)


for _key, _attr in VIEW_ATTRS.items():
    if _key not in {spec.key for spec in VIEWS}:
        continue
    setattr(Dashboard, _attr, property(lambda self, key=_key: self.views[key].view,
                                       doc=f"The {_key} view (built if it was not yet)."))


def _release(binding: StateBinding) -> None:
    binding.close()
    worker, binding.worker = binding.worker, None
    if worker is not None:
        worker_process.release(worker)


def has_checkpoint_dir(directory: Path) -> bool:
    return (Path(directory) / "weights.safetensors").is_file()
