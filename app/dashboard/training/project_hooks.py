"""The dashboard and the open project (a mixin of :class:`~.dashboard.Dashboard`): settings
edits reaching a live run, a new or opened project, saved weights loaded with the project and
saved with it (engine/locations.py has the layout)."""
from __future__ import annotations

from pathlib import Path

from layerlab.engine.locations import checkpoint_dir, has_checkpoint

from ..state.session import LoadRequest, graph_key, settings_key
from .worker_slots import TERMINAL

__all__ = ["ProjectHooks"]


class ProjectHooks:
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

    def _on_background_finished(self, status: str) -> None:
        if status in TERMINAL and has_checkpoint(self.doc.path):
            self.panel.message_bar.show_message(
                "info", "Background run ended", f"Status: {status}. Its weights are beside the "
                "project; they were loaded, so Resume training and Predict use them.")
            self._load_saved_weights()
