"""The training service: one project's model, trained and inspected on request.

A :class:`TrainingService` holds what the worker knows about the open project — its dataset,
its Trainer (trained, training, paused or loaded from disk) — and answers the declared
requests (requests.py, handlers.py). It speaks plain data only: every answer and every
snapshot goes to ``emit`` (the worker process sends them down the pipe; a script or a test
may just collect them). Qt-free; torch is imported on the model thread when first needed.

Threads: the caller's thread hands requests in (``handle``) and runs CONTROL ones at once;
one *model thread* runs jobs in order — loading, training (``Trainer.run()`` holds it for
the whole run) — and MODEL requests while no run is active; during a run, MODEL requests run
on the training thread between two batches (``Trainer.call_soon``, or the observer's own
batch boundary), so nothing races the optimizer.
"""
from __future__ import annotations

import collections
import gc
import json
import logging
import queue
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from .histogram_stack import HistogramStack
from .protocol import WORKER_GENERATION, Call, Event, Reply, Rescued, SessionInfo
from .requests import CONTROL, JOB, REQUESTS

__all__ = ["TrainingService", "GUI_SNAPSHOTS", "RESCUE_EVERY_S", "RESCUE_BUDGET"]

log = logging.getLogger(__name__)

#: Snapshot rates a window wants (a project's own "snapshots" settings win): the curves and
#: the image views redraw at display rates (≥ 20 and ≥ 10 a second), the looks inside at a
#: few per cent of the training time at most; the confusion matrix and the predictions
#: change once an epoch, and nobody reads more than a few of them a second.
GUI_SNAPSHOTS = {"batch_hz": 30.0, "visual_hz": 12.0, "visual_budget": 0.04,
                 "evaluation_hz": 5.0}
#: The last good weights go to the rescue folder at epoch ends (and when a run ends): what a
#: crash of the worker cannot take away — from RESCUE_EVERY_S seconds into a run, at most
#: that often, and spaced so writing them takes at most RESCUE_BUDGET of the time (a large
#: model's checkpoint takes a while; a small one's a few milliseconds).
RESCUE_EVERY_S = 2.0
RESCUE_BUDGET = 0.05
#: Datasets kept loaded (a project's, and the one before while switching back and forth).
KEEP_DATASETS = 2


class Forwarder:
    """The Trainer's observer in the worker: each snapshot becomes an Event of the run's
    generation; the last good weights rescued at epoch ends; the histograms of every epoch
    measured so far sent stacked (a strip per epoch); the markers (a learning rate changed
    mid-run, a hint near chance) as they happen. Runs on the training thread."""

    def __init__(self, service: "TrainingService", generation: int) -> None:
        self.service, self.generation = service, generation
        self.trainer = None
        self.project = None
        self.rescue_dir: Path | None = None
        self.run_token: int | None = None
        #: The trainer's histograms so far, stacked (a continued trainer keeps adding).
        self.histograms = HistogramStack()
        #: The run history's recorder (RunRecorder) of this trainer's runs, when recording.
        self.recorder = None
        self._rescue_next = -float("inf")
        self._holding = False       # measuring the backlog: send the strips once, at its end

    def _emit(self, kind: str, payload: Any) -> None:
        self.service.emit(Event(kind, payload, self.generation))

    def on_start(self, info) -> None:
        # The first rescue after RESCUE_EVERY_S of this run (a run's first seconds are not
        # worth a checkpoint's time; its end is rescued anyway).
        self._rescue_next = max(self._rescue_next, time.monotonic() + RESCUE_EVERY_S)
        self._emit("run_started", info)
        if self.run_token is not None and self.run_token in self.service.cancelled:
            self.trainer.stop()             # Stop pressed while the data was loading
        self.service.drain()

    def on_batch(self, snap) -> None:
        self._emit("batch", snap)
        self.service.drain()

    def on_epoch(self, snap) -> None:
        self._emit("epoch", snap)
        if time.monotonic() >= self._rescue_next:
            self.rescue()

    def on_evaluation(self, snap) -> None:
        self._emit("evaluation", snap)

    def on_visuals(self, snap) -> None:
        self._emit("visuals", snap)

    def on_state(self, snap) -> None:
        self._emit("state", snap)

    def on_histograms(self, snap) -> None:
        # One per epoch (a later one of the same epoch — a loaded model measured again —
        # replaces it).
        self.histograms.add(snap)
        if not self._holding:
            self._send_strips()

    def backfill(self) -> None:
        """Measure the epochs the trainer kept for after the run (Trainer.measure_backlog;
        the model thread, no run active) and send every strip once — not for a project no
        longer open (its strips would be dropped; the next project's jobs wait)."""
        if self.generation < self.service.latest_generation:
            return
        self._holding = True
        try:
            measured = self.trainer.measure_backlog()
        finally:
            self._holding = False
        if measured:
            self._send_strips()

    def _send_strips(self) -> None:
        self._emit("histograms", self.histograms.strips(self.service.serial_of(self.trainer)))

    def on_event(self, event) -> None:
        self._emit("marker", event)

    def rescue(self) -> None:
        """Write the trainer's state to the rescue folder (from the training thread, or
        when no run is active)."""
        if (self.rescue_dir is None or self.trainer is None
                or self.generation < self.service.latest_generation):
            return                      # nowhere to write, or a project no longer open
        from ..training import TrainingError, save_checkpoint
        start = time.monotonic()
        try:
            save_checkpoint(self.rescue_dir, self.trainer, self.project)
        except TrainingError as exc:
            log.warning("rescue checkpoint not written: %s", exc)
            return
        took = time.monotonic() - start
        self._rescue_next = start + max(RESCUE_EVERY_S, took / RESCUE_BUDGET)
        self._emit("rescued", Rescued(str(self.rescue_dir), int(self.trainer.epoch),
                                      int(self.trainer.global_step)))


class TrainingService:
    def __init__(self, emit: Callable[[object], Any],
                 cores: frozenset[int] | None = None, capture=None) -> None:
        self.emit = emit
        #: The worker's capture process (capture.py), which takes the periodic visual
        #: snapshots of the runs; None: the training thread takes them.
        self.capture = capture
        #: The cores the model thread keeps to (placement.py); None: wherever the system
        #: puts it (an in-process service: a script's, a test's).
        self.cores = cores
        #: The open project's generation: jobs and answers of any other are dropped.
        self.generation = WORKER_GENERATION
        #: The newest generation announced (the switch to it may still wait in the queue).
        self.latest_generation = WORKER_GENERATION
        self.trainer = None
        self.forwarder: Forwarder | None = None
        self.session: SessionInfo | None = None
        self.project = None              # the Project the session trained (for project.json)
        self.dataset = None              # the project's Dataset (facts, samples), when loaded
        self.rescue_dir: Path | None = None
        self.watch: tuple[str, ...] | None = None
        #: Whether the window shows the histograms: live passes at epoch ends while it does
        #: (request "histograms_live"); the epochs without one are measured after the run.
        self.histograms_live = True
        self.probe = 0
        #: Run tokens stopped before they began. Kept across projects: the window numbers
        #: its runs once for its whole life, and a Stop may come before the switch.
        self.cancelled: set[int] = set()
        self.warm = False
        #: (which trainer, its step) names a set of weights: a new trainer, a new serial.
        self.serial = 0
        self._serial_trainer = None
        from .insight import ExplainerCache
        self.explainers = ExplainerCache()
        self._datasets: collections.OrderedDict = collections.OrderedDict()
        self._jobs: queue.Queue = queue.Queue()
        self._pending: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._job_loop, name="layerlab-model",
                                        daemon=True)
        self._closed = False

    # --- life ----------------------------------------------------------------------------------
    def start(self, boot: bool = True) -> None:
        """Start the model thread; with ``boot``, its first job imports torch, reports the
        devices (event "ready") and pays torch's one-time costs (event "warm")."""
        self._thread.start()
        if boot:
            self._jobs.put(self._boot)

    def close(self, timeout: float = 5.0) -> None:
        self._closed = True
        trainer = self.trainer
        if trainer is not None:
            trainer.stop()
        self._jobs.put(None)
        self._thread.join(timeout)

    def _boot(self) -> None:
        try:
            self._load_torch()
        except Exception as exc:  # noqa: BLE001 — said in the window; the editor still works
            log.exception("PyTorch could not be loaded")
            self.emit(Event("failed", ("PyTorch could not be loaded",
                                       f"{type(exc).__name__}: {exc}. Training is not "
                                       f"available; editing works as before.")))

    def _load_torch(self) -> None:
        import os

        from . import model_facts
        threads = model_facts.use_training_cores(self.cores)
        import torch
        try:
            from ..data import DATASET_KINDS
            kinds = dict(DATASET_KINDS)
        except Exception:  # noqa: BLE001 — tooltips only
            kinds = {}
        from .protocol import WorkerInfo
        self.emit(Event("ready", WorkerInfo(os.getpid(), str(torch.__version__),
                                            model_facts.devices(), kinds, threads)))
        # The first optimizer imports torch._dynamo: seconds, paid now, not at the first Train.
        import layerlab.engine.training  # noqa: F401
        from ..training import Trainer  # noqa: F401
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        self.warm = True
        self.emit(Event("warm"))

    def _job_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # noqa: BLE001 — a job's bug must not end the worker
                log.exception("worker job failed")

    # --- requests ------------------------------------------------------------------------------
    def handle(self, call: Call) -> None:
        """Run ``call`` where its declaration says (CONTROL now, JOB queued, MODEL where the
        model may be read)."""
        spec = REQUESTS.get(call.name)
        if spec is None:
            self.emit(Reply(call.id, call.name, None, error=f"unknown request {call.name!r}",
                            generation=call.generation))
            return
        answer = lambda: self._answer(spec, call)  # noqa: E731
        if spec.runs == CONTROL:
            answer()
        elif spec.runs == JOB:
            self._jobs.put(answer)
        else:
            self.call_model(answer)

    def _answer(self, spec, call: Call) -> None:
        if spec.runs != CONTROL and call.generation != WORKER_GENERATION:
            if call.generation < self.generation:
                return                  # asked for a project that is no longer open
            if call.generation > self.generation:
                # Asked for the next project before the switch to it ran (it is queued
                # behind the last project's jobs, e.g. saving its weights): after it.
                self._jobs.put(lambda: self._answer(spec, call))
                return
        try:
            value = spec.handler(self, **call.args)
        except Exception as exc:  # noqa: BLE001 — every failure is an answer, not a crash
            from ..training import TrainingError
            if not isinstance(exc, (TrainingError, ValueError, OSError)):
                log.error("request %s failed:\n%s", call.name, traceback.format_exc())
            error = str(exc) if isinstance(exc, (TrainingError, ValueError)) else \
                f"{type(exc).__name__}: {exc}"
            self.emit(Reply(call.id, call.name, spec.store, error=error,
                            generation=call.generation))
            return
        self.emit(Reply(call.id, call.name, spec.store, value, generation=call.generation))

    def call_model(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` where the model may be read, soon: between two batches of the active
        run (also while paused), else on the model thread. Never blocks the caller."""
        with self._lock:
            self._pending.append(fn)
        trainer = self.trainer
        if trainer is None or not trainer.call_soon(self.drain):
            self._jobs.put(self.drain)

    def drain(self) -> None:
        """Run the waiting MODEL calls (whichever thread holds the model now)."""
        while True:
            with self._lock:
                if not self._pending:
                    return
                fn = self._pending.popleft()
            fn()

    # --- the session ---------------------------------------------------------------------------
    def new_generation(self, generation: int, rescue_dir: str | None) -> None:
        """A new project: stop what runs, then — after the jobs already asked for the last
        project (saving its weights) — forget its model (its memory, GPU memory too, goes
        at once) and answer for the new one. The loaded datasets are kept."""
        self.latest_generation = max(self.latest_generation, int(generation))
        # Forgotten now, not at the switch: the window "watch"es the new project's first
        # layer right after this (a CONTROL request, applied at once), and the switch, queued
        # behind the jobs, would forget that again — every node's maps would go out. (Nor
        # does the switch forget the stopped run tokens: a Stop can come before it too.)
        self.watch = None
        trainer = self.trainer
        if trainer is not None:
            trainer.stop()
        self._jobs.put(lambda: self._switch(int(generation), rescue_dir))

    def _switch(self, generation: int, rescue_dir: str | None) -> None:
        self.generation = generation
        self.rescue_dir = Path(rescue_dir) if rescue_dir else None
        self.probe = 0
        self.trainer = self.forwarder = self.session = self.project = self.dataset = None
        self.explainers.clear()
        gc.collect()
        import sys
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    @staticmethod
    def _dataset_key(project, base_dir) -> str:
        from ..data.fit import dataset_spec
        return json.dumps([dataset_spec(project), str(base_dir or "")], sort_keys=True,
                          default=str)

    def _keep_dataset(self, key: str, dataset) -> None:
        self._datasets[key] = dataset
        self._datasets.move_to_end(key)
        while len(self._datasets) > KEEP_DATASETS:
            self._datasets.popitem(last=False)
        self.dataset = dataset

    def load_dataset(self, project, base_dir):
        """The project's dataset, loaded once per spec (training reuses it). Without a
        dataset section, the default that fits the Input (as training would load it)."""
        from ..data import describe, load_dataset
        from ..data.fit import dataset_spec
        spec = dataset_spec(project)
        key = self._dataset_key(project, base_dir)
        dataset = self._datasets.get(key)
        if dataset is None:
            dataset = load_dataset(spec, base_dir)
        self._keep_dataset(key, dataset)
        return dataset, describe(spec)

    def new_trainer(self, project, base_dir, **overrides):
        """A Trainer for ``project`` whose snapshots flow to the app (GUI_SNAPSHOTS unless
        the project sets its own rates), on the dataset already loaded for it when there is
        one (generated datasets take a while: Train starts at once)."""
        from ..training import Trainer, parse_training
        from ..training.histogram_backlog import HistogramBacklog
        forwarder = Forwarder(self, self.generation)
        snapshots = {**GUI_SNAPSHOTS, **((project.training or {}).get("snapshots") or {})}
        key = self._dataset_key(project, base_dir)
        dataset = self._datasets.get(key) if project.dataset else None
        if dataset is None:     # (without a dataset section, from_project explains a misfit)
            trainer = Trainer.from_project(project, base_dir, observers=[forwarder],
                                           snapshots=snapshots, **overrides)
            self._keep_dataset(key, trainer.dataset)
        else:
            config = parse_training(project.training, snapshots=snapshots, **overrides)
            trainer = Trainer(project.graph, dataset, config,
                              augment=(project.dataset or {}).get("augment"),
                              observers=[forwarder])
            self.dataset = dataset
        forwarder.trainer, forwarder.project = trainer, project
        forwarder.rescue_dir = self.rescue_dir
        if self.capture is not None:
            trainer.visual_offload = self.capture.link(forwarder.generation)
        self.watch_on(trainer)
        trainer.histograms_live = self.histograms_live
        trainer.histogram_backlog = HistogramBacklog()
        return trainer, forwarder

    def watch_on(self, trainer) -> None:
        """Visual snapshots of ``trainer`` carry the feature maps of the watched nodes only."""
        if trainer is not None:
            trainer.feature_map_nodes = None if self.watch is None else frozenset(self.watch)

    def serial_of(self, trainer) -> int:
        """The serial of ``trainer``'s weights: a new number for each new trainer."""
        if trainer is not self._serial_trainer:
            self._serial_trainer = trainer
            self.serial += 1
        return self.serial

    def publish(self, trainer, forwarder, project, graph_key: str, settings_key: str, *,
                notes=(), loaded_from: str | None = None) -> SessionInfo:
        from .model_facts import dataset_facts
        from ..data import describe
        ds, parts = trainer.dataset, trainer.parts
        norm = ds.normalization if ds.task == "regression" else {}
        self.dataset = ds
        info = SessionInfo(
            graph_key=graph_key, settings_key=settings_key,
            dataset=dataset_facts(ds, describe(project.dataset or {})),
            node_ids=tuple(trainer.model.order),
            node_types={n: trainer.graph.nodes[n].type for n in trainer.model.order},
            conv_ids=tuple(parts.conv_ids), relu_ids=tuple(parts.relu_ids),
            device=trainer.device_info.device, device_name=trainer.device_info.name,
            epoch=int(trainer.epoch), step=int(trainer.global_step),
            epochs_target=int(trainer.config.epochs), history=tuple(trainer.history),
            loaded_from=loaded_from, notes=tuple(trainer.notes) + tuple(notes),
            serial=self.serial_of(trainer), standardized_targets="target_mean" in norm,
            loss=str(trainer.objective.loss))
        self.trainer, self.forwarder, self.project, self.session = (trainer, forwarder,
                                                                    project, info)
        self.emit(Event("session", info, forwarder.generation))
        return info

    def emit_event(self, kind: str, payload: Any = None, generation: int | None = None) -> None:
        self.emit(Event(kind, payload, self.generation if generation is None else generation))

    def failed(self, title: str, message: str) -> None:
        self.emit_event("failed", (title, message))

    def refresh_visuals(self) -> None:
        """A fresh visual snapshot of the current probe (when no run is active, or paused:
        a running one sends its own)."""
        trainer = self.trainer
        if trainer is not None and 0 <= self.probe < len(trainer.dataset.y_val):
            trainer.set_probe(self.probe)
