"""The training worker: one QThread that owns the model.

Everything that touches the model runs on that thread — training (``Trainer.run()`` blocks
it), loading saved weights, saving checkpoints, predictions and probe changes. The GUI never
runs the model itself: the model is trained in place, so reading it from the GUI thread
mid-step would race the optimizer (and switching it to eval mode would change training).

The GUI talks to it through :meth:`TrainingWorker.call` (a function to run where the model
lives) and the job methods; the worker answers with plain-data snapshots, posted to a
mailbox the GUI empties once per frame, and queued signals for everything else. While a run
is active the worker thread's own event loop is blocked inside ``run()``, so calls go
through ``Trainer.call_soon`` (run by the training loop between batches, also while paused)
instead.
"""
from __future__ import annotations

import collections
import logging
import os
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Qt, Signal

from .mailbox import Mailbox
from ..state.session import LoadRequest, RunRequest, SessionInfo

__all__ = ["TrainingWorker", "QtObserver", "limit_torch_threads"]

log = logging.getLogger(__name__)


def limit_torch_threads() -> int:
    """Leave one core to the GUI: torch's intra-op pool would otherwise take every core and
    the event loop would stutter (on 2 cores, 2 torch threads also fight each other)."""
    import torch
    cores = os.cpu_count() or 1
    wanted = max(1, min(torch.get_num_threads(), cores - 1))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


class QtObserver:
    """Trainer observer (called on the training thread). Snapshots go to the worker's
    :class:`~.mailbox.Mailbox`, which the GUI empties once per frame (a signal only wakes
    an idle GUI); the per-snapshot signals are emitted too, for whoever wants every one
    (tests, tools) — the dashboard does not connect them. Also runs the calls the GUI
    queued while no batch boundary took them."""

    def __init__(self, worker: "TrainingWorker") -> None:
        self.worker = worker

    def _wake(self, needed: bool) -> None:
        if needed:
            self.worker.mail.emit()

    def on_start(self, info) -> None:
        self._wake(self.worker.mailbox.begin_run(info))
        self.worker.runStarted.emit(info)
        self.worker.drain()

    def on_batch(self, snap) -> None:
        self._wake(self.worker.mailbox.post_batch(snap))
        self.worker.batch.emit(snap)
        self.worker.drain()

    def on_epoch(self, snap) -> None:
        self._wake(self.worker.mailbox.post_epoch(snap))
        self.worker.epoch.emit(snap)

    def on_evaluation(self, snap) -> None:
        self._wake(self.worker.mailbox.post_evaluation(snap))
        self.worker.evaluation.emit(snap)

    def on_visuals(self, snap) -> None:
        self._wake(self.worker.mailbox.post_visuals(snap))
        self.worker.visuals.emit(snap)

    def on_state(self, snap) -> None:
        self.worker.state.emit(snap)


class TrainingWorker(QObject):
    # Everything is emitted on the worker thread; the dashboard connects with queued
    # connections, so its slots run on the GUI thread.
    mail = Signal()                      # the mailbox has snapshots and the GUI is not polling
    busyChanged = Signal(bool)
    devicesFound = Signal(object)        # [(value, label)]
    sessionReady = Signal(object)        # SessionInfo
    sessionCleared = Signal()
    runStarted = Signal(object)          # RunInfo
    batch = Signal(object)               # BatchSnapshot
    epoch = Signal(object)               # EpochSnapshot
    evaluation = Signal(object)          # EvalSnapshot
    visuals = Signal(object)             # VisualSnapshot
    state = Signal(object)               # StateSnapshot
    runEnded = Signal(object)            # RunResult, or None when the run never started
    failed = Signal(str, str)            # title, message (no traceback: the engine's words)
    predicted = Signal(int, object)      # request token, probabilities/values (np) or None
    saved = Signal(str)                  # checkpoint folder
    saveFailed = Signal(str)
    _invoke = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.trainer = None
        self.session: SessionInfo | None = None
        self.mailbox = Mailbox()
        self.warmed = False               # warm_up() has run: Train starts without delay
        self.observer = QtObserver(self)
        #: Where the checkpoint goes when a run ends (the GUI updates it on Save As).
        self.weights_dir: Path | None = None
        self.project = None           # the project copy the session trained (for project.json)
        #: Set by the GUI: stop before the run begins (Stop pressed while loading data).
        self.cancel_requested = False
        self._pending: collections.deque[Callable[[], None]] = collections.deque()
        self._lock = threading.Lock()
        self._invoke.connect(self._run_callable, Qt.ConnectionType.QueuedConnection)

    # --- from the GUI thread ------------------------------------------------------------------
    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the worker thread once it is free (queued behind other jobs)."""
        self._invoke.emit(fn)

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` where the model lives, soon: between two batches of the active run (also
        while paused), else on the worker thread. Never blocks the caller."""
        with self._lock:
            self._pending.append(fn)
        trainer = self.trainer
        if trainer is None or not trainer.call_soon(self.drain):
            self._invoke.emit(self.drain)

    def running(self) -> bool:
        trainer = self.trainer
        return trainer is not None and trainer.running

    # --- on the worker (or training) thread --------------------------------------------------
    def drain(self) -> None:
        """Run the calls queued by :meth:`call`; whichever of the paths reaches here first."""
        while True:
            with self._lock:
                if not self._pending:
                    return
                fn = self._pending.popleft()
            try:
                fn()
            except Exception as exc:  # a view's request must never end training
                log.exception("dashboard call failed")
                self.failed.emit("Something went wrong", f"{type(exc).__name__}: {exc}")

    def _run_callable(self, fn: Callable[[], None]) -> None:
        self.busyChanged.emit(True)
        try:
            fn()
        except Exception as exc:
            log.exception("dashboard job failed")
            self.failed.emit("Something went wrong", f"{type(exc).__name__}: {exc}")
        finally:
            self.busyChanged.emit(False)

    def find_devices(self) -> None:
        """Import torch here, not on the GUI thread (seconds on a cold start)."""
        import torch
        from layerlab.engine.training import available_devices
        labels = []
        cuda_name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        mps = "mps" in available_devices()
        auto = (f"GPU: {cuda_name}" if cuda_name else "Apple GPU (MPS)" if mps else
                "CPU — no GPU found")
        labels.append(("auto", f"auto ({auto})"))
        labels.append(("cpu", f"CPU ({os.cpu_count() or 1} cores)"))
        if cuda_name:
            labels.append(("cuda", f"cuda ({cuda_name})"))
        if mps:
            labels.append(("mps", "mps (Apple GPU)"))
        self.devicesFound.emit(labels)

    def warm_up(self) -> None:
        """Pay torch's one-time costs now, while the person looks at the canvas, not when
        they press Train: the first optimizer imports torch._dynamo (~3 s on a 2-core CPU,
        in stretches of 100+ ms that hold the interpreter lock, so the GUI stalls)."""
        import torch

        import layerlab.engine.training  # noqa: F401  (the trainer's own modules)
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        self.warmed = True

    def run_training(self, req: RunRequest) -> None:
        from layerlab.engine.training import TrainingError
        limit_torch_threads()
        try:
            trainer, notes = self._trainer_for(req)
        except TrainingError as exc:
            self.failed.emit("Training cannot start", str(exc))
            self.runEnded.emit(None)
            return
        self.project = req.project
        self._publish(trainer, req.graph_key, req.settings_key, notes=notes)
        if self.cancel_requested:
            self.runEnded.emit(None)
            return
        if req.start_paused:
            trainer.pause()
            if req.steps:
                trainer.step(req.steps)
        if 0 <= req.probe < len(trainer.dataset.y_val):  # the view's current sample
            trainer.set_probe(req.probe)
        result = trainer.run()
        if result.status == "failed" and trainer.last_error is not None:
            log.error("training failed:\n%s", "".join(traceback.format_exception(
                trainer.last_error)))
        if self.weights_dir is not None:
            self._save(self.weights_dir)
        self._publish(trainer, req.graph_key, req.settings_key)
        self.runEnded.emit(result)

    def _trainer_for(self, req: RunRequest):
        """The session's trainer continued, or a new one (from its weights when they fit)."""
        from layerlab.engine.training import Trainer
        old, notes = self.trainer, []
        same_graph = self.session is not None and self.session.graph_key == req.graph_key
        if (req.resume and old is not None and same_graph
                and self.session.settings_key == req.settings_key):
            lr = (req.project.training or {}).get("lr")
            if lr is not None:
                old.set_lr(float(lr))
            old.set_epochs(req.epochs)
            return old, notes
        trainer = Trainer.from_project(req.project, req.base_dir, epochs=req.epochs,
                                       observers=[self.observer])
        if req.resume and old is not None and same_graph:
            # Settings changed since: keep the learned weights, start a fresh optimizer.
            trainer.model.load_state_dict(old.model.state_dict())
            notes.append("the settings changed since the last run, so training continues "
                         "from the trained weights with a fresh optimizer and history")
        return trainer, notes

    def load_session(self, req: LoadRequest) -> None:
        """Saved weights of an opened project: a trainer positioned where they stopped."""
        from layerlab.engine.training import Trainer, TrainingError, load_checkpoint
        limit_torch_threads()
        try:
            checkpoint = load_checkpoint(req.checkpoint_dir)
            trainer = Trainer.from_project(req.project, req.base_dir,
                                           observers=[self.observer])
            trainer.resume_from(checkpoint)
        except TrainingError as exc:
            self.failed.emit("Saved weights not loaded",
                             f"{exc}. The project opened without them; train again to "
                             f"replace them.")
            return
        self.project = req.project
        self.weights_dir = req.checkpoint_dir
        self._publish(trainer, req.graph_key, req.settings_key, loaded_from=req.checkpoint_dir)
        if 0 <= req.probe < len(trainer.dataset.y_val):
            trainer.set_probe(req.probe)   # idle: emits a visual snapshot now, on this thread

    def clear_session(self) -> None:
        self.trainer, self.session, self.project = None, None, None
        self.sessionCleared.emit()

    def _publish(self, trainer, graph_key: str, settings_key: str, *, notes=(),
                 loaded_from: Path | None = None) -> None:
        ds, parts = trainer.dataset, trainer.parts
        info = SessionInfo(
            graph_key=graph_key, settings_key=settings_key, dataset=ds, task=ds.task,
            class_names=tuple(ds.class_names), feature_names=tuple(ds.feature_names),
            target_names=tuple(ds.target_names), input_shape=tuple(ds.input_shape),
            node_ids=tuple(trainer.model.order),
            node_types={n: trainer.graph.nodes[n].type for n in trainer.model.order},
            conv_ids=tuple(parts.conv_ids), relu_ids=tuple(parts.relu_ids),
            device=trainer.device_info.device, device_name=trainer.device_info.name,
            epoch=trainer.epoch, step=trainer.global_step, history=tuple(trainer.history),
            num_val=len(ds.y_val),
            loaded_from=loaded_from, notes=tuple(trainer.notes) + tuple(notes))
        self.trainer, self.session = trainer, info
        self.sessionReady.emit(info)

    # --- jobs the GUI sends through call() -------------------------------------------------------
    def save_now(self, directory: Path) -> None:
        """Save the session's checkpoint (on the training thread mid-run: no race)."""
        self._save(directory)

    def _save(self, directory: Path) -> None:
        from layerlab.engine.training import TrainingError, save_checkpoint
        trainer = self.trainer
        if trainer is None:
            return
        try:
            save_checkpoint(directory, trainer, self.project)
        except TrainingError as exc:
            self.saveFailed.emit(str(exc))
            return
        self.saved.emit(str(directory))

    def predict(self, token: int, x: Any) -> None:
        """Class probabilities (or regression values, standardized) for one model-input
        sample, in eval mode without gradients, then back to the mode training needs."""
        import numpy as np
        import torch
        trainer = self.trainer
        if trainer is None:
            self.predicted.emit(token, None)
            return
        model = trainer.parts.train_model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                xt = torch.as_tensor(np.asarray(x, dtype=np.float32)).unsqueeze(0)
                out = model(xt.to(trainer.device))
                values = trainer.objective.probabilities(out.float())[0]
        finally:
            model.train(was_training)
        self.predicted.emit(token, values.detach().cpu().numpy().copy())

    def set_probe(self, index: int) -> None:
        trainer = self.trainer
        if trainer is not None and 0 <= index < len(trainer.dataset.y_val):
            trainer.set_probe(index)


class WorkerThread(QThread):
    """The worker's thread, named for debuggers and logs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerlab-training")
