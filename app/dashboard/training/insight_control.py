"""What the looks inside ask of the dashboard (a mixin of :class:`~..dashboard.Dashboard`):
bring a view to the front, tell the worker whether the histograms are on screen, use a
suggested learning rate (an undoable edit), run the learning-rate range test, slow motion,
what "Where it looked" explains — and where the run history is kept.

**The run history.** Every run the window starts is recorded by the worker (engine
RunRecorder) in a run folder's ``runs/``, as ``layerlab train`` records its runs:

* a saved project's runs go beside it (``<project>-run/runs/``, engine/locations.run_dir);
* an unsaved project's runs go to this session's own folder in the autosave directory; when
  the project is saved they move beside it (at once when no run is going on, else when it
  ends), so saving keeps the runs as it keeps the trained weights. Opening or creating
  another project, or quitting without saving, throws them away with the unsaved weights.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import shiboken6

from layerlab.engine.locations import run_dir
from layerlab.engine.project import project_to_dict

from ..settings_commands import set_setting
from ..views.deferred_draw import on_screen
from ..views.registry import VIEWS
from ..state.project_state import Message
from ..state.session import graph_key, settings_key

__all__ = ["InsightControl", "SESSION_RUNS"]

log = logging.getLogger(__name__)

#: The session's run folder for an unsaved project, in the autosave directory.
SESSION_RUNS = "autosave-{session}-runs"


class InsightControl:
    # --- views -----------------------------------------------------------------------------------
    def tell_histograms_shown(self, shown: bool | None = None) -> None:
        """Tell the worker whether the Histograms view is on screen (default: look). While it
        is not, training measures no histograms; the worker keeps each epoch's weights and
        measures them once the run ends (engine/training/histogram_backlog.py) — the strips
        come complete, and nobody's training pays for a view nobody watches."""
        view = self.views.get("histograms")
        if view is None:
            return
        if shown is None:
            shown = on_screen(view)
        self.binding.call("histograms_live", on=bool(shown))

    def show_view(self, key: str) -> bool:
        """Bring a view's dock to the front (a clicked cell shows its explanation). A view
        that needs room (ViewSpec.min_size) and got a dock smaller than that floats over
        the canvas at that size — a double click on its title docks it again."""
        dock = self.docks.get(key)
        if dock is None:
            return False
        # The tab in front of its group now (the Feature maps the person clicked in): when
        # this dock floats out of the group, that one stays in front — not a neighbour.
        front = next((d for d in self.window.tabifiedDockWidgets(dock)
                      if d.isVisible() and not d.visibleRegion().isEmpty()), None)
        if not dock.isVisible():
            dock.show()
        dock.raise_()
        spec = next((s for s in VIEWS if s.key == key), None)
        wanted = getattr(spec, "min_size", None)
        if wanted and not dock.isFloating() and (dock.width() < wanted[0]
                                                 or dock.height() < wanted[1]):
            self._float(dock, wanted)
            if front is not None:
                front.raise_()
        self.binding.schedule()
        return True

    def _float(self, dock, size: tuple[int, int]) -> None:
        window = self.window
        geometry = window.geometry()
        w = min(size[0], int(geometry.width() * 0.9))
        h = min(size[1], int(geometry.height() * 0.8))
        dock.setFloating(True)
        dock.resize(w, h)
        dock.move(geometry.x() + (geometry.width() - w) // 2,
                  geometry.y() + max(0, (geometry.height() - h) // 3))

    def insight_command(self, name: str):
        if name.startswith("set_lr:"):
            return self.use_lr(float(name.split(":", 1)[1]))
        if name == "lr_find":
            return self.lr_find()
        if name.startswith("delay:"):
            return self.set_delay(float(name.split(":", 1)[1]))
        if name.startswith("saliency:"):
            return self.explain_where(name.split(":", 1)[1])
        return None

    # --- the learning rate -----------------------------------------------------------------------
    def use_lr(self, lr: float) -> bool:
        """Set the learning rate (one undoable edit); a running or paused run takes it."""
        if not (0 < lr <= 10):
            return False
        changed = set_setting(self.editor, self.notifier, "training", "lr",
                              float(f"{lr:.3g}"))
        if self.project_state.message is not None and \
                self.project_state.message.title == "Accuracy is near chance":
            self.project_state.set_message(None)
        self.binding.schedule()
        return changed

    def lr_find(self, batches: int = 100) -> bool:
        """The learning-rate range test: from the project's initial weights, or — while
        paused — from the run's (everything is put back)."""
        state = self.project_state
        if not state.worker.ready or state.run.status not in ("idle", "paused"):
            state.set_message(Message(
                "info", "The range test needs a quiet model",
                "Pause or stop the training first: the range test trains up to 100 batches "
                "of its own and puts everything back afterwards."))
            self.binding.schedule()
            return False
        project = self.doc.project.copy()
        path = self.doc.path
        state.begin_lr_find(batches)
        self.binding.call("lr_find", project=project_to_dict(project),
                          base_dir=str(path.parent) if path else None, batches=int(batches),
                          graph_key=graph_key(project.graph),
                          settings_key=settings_key(project))
        self.binding.schedule()
        return True

    # --- slow motion -----------------------------------------------------------------------------
    def set_delay(self, seconds: float) -> None:
        """Wait ``seconds`` after every batch (0: full speed) — now, and in later runs."""
        seconds = max(0.0, min(float(seconds), 60.0))
        self.project_state.choose(delay=seconds)
        if self.project_state.run.active:
            self.binding.call("set_delay", seconds=seconds)
        self.binding.schedule()

    # --- where it looked -------------------------------------------------------------------------
    def explain_where(self, subject: str) -> None:
        """Show "Where it looked" for ``subject``: "probe", or "drawing" (the Predict
        panel's input)."""
        changes = {"saliency_subject": subject}
        if subject == "drawing":
            panel = self.views["predict"].view
            raw = panel.model_input()
            if raw is None:
                return
            changes.update(saliency_raw=raw, saliency_name="your drawing")
        self.choose(**changes)
        self.show_view("saliency")

    # --- the inspector's activation plot -------------------------------------------------------
    def inspector_section(self, node_id: str, node_type: str, group: str):
        """The inspector of an element-wise activation: f and f′ over the range its inputs
        take (asked of the worker now, and again when the weights or the graph change)."""
        from ..views.activation_plot import NOT_A_CURVE
        if group != "Activation" or node_type in NOT_A_CURVE:
            return None
        from ..views.activation_plot import ActivationPlot
        plot = ActivationPlot(self.project_state, node_id, graph_key(self.doc.project.graph))
        if not getattr(self, "_activation_subscribed", False):
            self._activation_subscribed = True
            self.project_state.subscribe(self._activation_changed,
                                         ("activation_curve", "session", "project"))
        self._activation_plot = plot
        self._ask_activation(plot)
        return plot

    def _ask_activation(self, plot) -> None:
        project = self.doc.project.copy()
        path = self.doc.path
        self.binding.call("activation_curve", project=project_to_dict(project),
                          base_dir=str(path.parent) if path else None, node=plot.node,
                          graph_key=plot.graph_key)
        self.binding.schedule()

    def _activation_changed(self, topics: frozenset) -> None:
        plot = self._activation_plot
        if plot is None or not shiboken6.isValid(plot):
            self._activation_plot = None
            return
        key = graph_key(self.doc.project.graph)
        if "session" in topics or key != plot.graph_key:
            if plot.node not in self.doc.project.graph.nodes:
                return
            plot.graph_key = key              # new weights, or an edited graph: measure again
            self._ask_activation(plot)
        plot.draw()

    # --- the run history -------------------------------------------------------------------------
    def _session_runs(self) -> Path | None:
        autosave = self.autosave
        if autosave is None:
            return None
        return Path(autosave.directory) / SESSION_RUNS.format(session=autosave.session)

    def run_folder(self) -> Path | None:
        """Where this project's runs are recorded (see the module's docstring)."""
        path = self.doc.path
        return run_dir(path) if path is not None else self._session_runs()

    def ask_runs(self) -> None:
        folder = self.run_folder()
        self.binding.call("runs", folder=str(folder) if folder is not None else None)

    def adopt_session_runs(self) -> None:
        """The project was saved: the runs recorded while it was unsaved move beside it
        (when a run is going on, once it ends)."""
        session, path = self._session_runs(), self.doc.path
        if session is None or path is None or self.project_state.run.active:
            return
        source = session / "runs"
        if source.is_dir():
            target = run_dir(path) / "runs"
            try:
                target.mkdir(parents=True, exist_ok=True)
                for record in sorted(source.iterdir()):
                    shutil.move(str(record), str(target / record.name))
            except OSError as exc:
                log.warning("runs not moved beside %s: %s", path, exc)
                self.project_state.set_message(Message(
                    "warning", "Runs not moved", f"The runs recorded before saving could not "
                    f"be moved to {target}: {exc.strerror or exc}. They stay in {source}."))
                self.ask_runs()
                return
        self.discard_session_runs()
        self.ask_runs()

    def discard_session_runs(self) -> None:
        session = self._session_runs()
        if session is not None:
            shutil.rmtree(session, ignore_errors=True)
