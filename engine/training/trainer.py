"""The Trainer: the one training loop, with live control, observers and its own state.

Threading model: ``run()`` blocks and is meant for a worker thread (``start()`` makes one; a
GUI may use its own QThread and call ``run()`` there). Every other public method may be called
from any thread: pause/resume/stop/step flip flags in the Controller, and anything that touches
the model or optimizer while a run is active (set_lr, set_probe) is queued and executed by the
training thread at the next batch boundary — also while paused. Observers are called on the
training thread with plain-data snapshots.

Processes: the loop is written once; a Strategy (strategy.py) says how it is shared out — one
process by default, or DDP under torchrun (distributed.DDPStrategy): each process trains its
shard of every global batch, the epoch's sums and predictions are combined over all of them,
and the history is the same in every process. Observers work the same either way.

State: ``state_dict()`` / ``load_state_dict()`` hold everything a checkpoint needs (weights,
optimizer, position, history, random states); checkpoint.py only writes and reads files.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from ..builder import GraphModule
from ..graph import Graph, Project
from .batches import BatchSource, has_batchnorm, num_batches
from .config import TrainingConfig, parse_training
from .control import Controller
from .device import DeviceInfo, apply_determinism, resolve_device
from .errors import CheckpointError, DataMismatchError, TrainingError
from .loop import apply_update, evaluate, evaluation_batch, forward_loss, make_amp
from .metrics import confusion_matrix, misclassified_cells, per_class_scores, regression_errors
from .observers import ObserverSet, RateLimiter
from .optim import implementation_flags, lr_factor, set_optimizer_lr
from .recovery import LastGood
from .rng import (AUGMENT_STREAM, DROPOUT_STREAM, LR_FIND_STREAM, SHUFFLE_STREAM, capture_global,
                  derive_seed, restore_global, seed_global)
from .setup import prepare
from .hints import RunSigns, lr_hint, near_chance, near_chance_below, round_down, weights_norm
from .histogram_backlog import HistogramBacklog
from .histograms import Grid, layer_histograms
from .snapshots import (BatchSnapshot, EpochSnapshot, EvalSnapshot, HistogramSnapshot, RunInfo,
                        RunResult, StateSnapshot, TrainingEvent, VisualSnapshot)
from .offload import VisualOffload
from .strategy import SingleProcess, Strategy
from .sums import EpochSums
from .visuals import dead_relu_fractions, look_inside

__all__ = ["Trainer", "reads_every_loss"]

#: Last-good weight copies (for NaN recovery): at most once a second, and at most 0.5 % of
#: the time for models so large that copying them is slow. One more at every epoch's start.
GOOD_COPY_HZ = 1.0
GOOD_COPY_BUDGET = 0.005
#: Dead-ReLU fractions in periodic visual snapshots are re-measured at most this often.
DEAD_RELU_HZ = 1.0
#: Slow motion: the longest wait after a batch, in seconds.
MAX_DELAY_S = 60.0


def reads_every_loss(device: torch.device) -> bool:
    """Whether the loop reads every batch's loss: free on the CPU (and it catches a NaN at
    once); on a GPU it would sync every batch, so there the sums stay on the device and the
    loss is read on the rate-limited ticks, the epoch's sums catching the rest."""
    return device.type == "cpu"


class Trainer:
    """Train ``graph`` on ``dataset`` with ``config`` (a TrainingConfig or the project's
    "training" dict). Construction checks everything and raises a TrainingError subclass with
    the fix in its message; see docs/training.md. ``strategy``: how the loop is shared over
    processes (default: one process)."""

    def __init__(self, graph: Graph, dataset, config: TrainingConfig | dict | None = None, *,
                 augment: dict | None = None, model: GraphModule | None = None,
                 observers: Iterable[Any] = (), device: DeviceInfo | None = None,
                 strategy: Strategy | None = None) -> None:
        cfg = config if isinstance(config, TrainingConfig) else parse_training(config or {})
        self.config = cfg
        self.graph = graph
        self.dataset = dataset
        self.strategy = strategy or SingleProcess()
        self.device_info = device or resolve_device(cfg.device)
        self.device = self.device_info.torch_device
        if model is not None:
            torch.manual_seed(cfg.seed)  # dropout's stream still follows the seed
        self.parts = prepare(graph, dataset, cfg, self.device, model)
        self.model = self.parts.model
        #: Samples per forward pass of a validation pass (loop.evaluation_batch): sized to
        #: the cache on the CPU; on a GPU at least a training batch.
        self.eval_batch = evaluation_batch(self.parts.analysis.activation_elements(),
                                           self.device, cfg.batch_size)
        self.optimizer = self.parts.optimizer
        self.objective = self.parts.objective
        self.notes = list(self.parts.notes)
        self.amp, note = make_amp(self.device, cfg.mixed_precision)
        if note:
            self.notes.append(note)
        layout = None
        if cfg.channels_last:
            if len(dataset.input_shape) == 3:
                layout = torch.channels_last
                self.model.to(memory_format=layout)
            else:
                self.notes.append("channels_last is for image inputs (channels × height × "
                                  "width); ignored")
        apply_determinism(self.device, cfg.deterministic)
        cores = os.cpu_count() or 1
        if cfg.threads > cores:
            self.notes.append(f"training.threads is {cfg.threads} but this machine has {cores} "
                              f"cores: more threads than cores only makes them wait for "
                              f"each other")

        strategy = self.strategy
        self._train = BatchSource(dataset.x_train, dataset.y_train, self.device, layout=layout)
        self._val = BatchSource(dataset.x_val, dataset.y_val, self.device, layout=layout)
        a, b = strategy.val_range(self._val.n)
        # This process's validation slice: views of the whole set (no second copy).
        self._val_part = (self._val if (a, b) == (0, self._val.n) else
                          BatchSource(self._val.x[a:b], self._val.y[a:b], self.device,
                                      layout=layout))
        self.local_batch = strategy.local_batch(cfg.batch_size)
        shard = -(-self._train.n // strategy.world_size)
        self.batches_per_epoch = num_batches(shard, self.local_batch, has_batchnorm(self.model))
        self._shuffle_gen = torch.Generator().manual_seed(derive_seed(cfg.seed, SHUFFLE_STREAM))
        self._augment_gen = torch.Generator().manual_seed(derive_seed(cfg.seed, AUGMENT_STREAM))
        aug = augment or {}
        self._augment = aug if (aug.get("flip") or aug.get("shift")) else None
        self._host_sums = reads_every_loss(self.device)

        # Position and results. epoch = epochs completed; batch = batches done in the current.
        self.epoch = 0
        self.batch = 0
        self.global_step = 0
        self.history: list[EpochSnapshot] = []
        #: Markers: settings changed by hand mid-run, hints (kept in the checkpoint).
        self.events: list[TrainingEvent] = []
        self.base_lr = cfg.lr
        self.state = "idle"
        self.result: RunResult | None = None
        self.last_error: BaseException | None = None
        self._order: torch.Tensor | None = None
        self._valid = 0                                # real samples in this epoch's shard
        self._epoch_rng: torch.Tensor | None = None   # shuffle state before this epoch's draw
        self._sums = self._new_sums()
        self._epoch_active_start = 0.0
        self._active_before = 0.0     # active seconds of earlier runs
        self._last_loss: torch.Tensor | None = None
        self._last_batch: torch.Tensor | None = None   # indices of the last batch trained
        self._delay = 0.0                               # slow motion: seconds after a batch
        # For the near-chance hint (hints.py): this run's first and this epoch's largest
        # batch loss, the weights' norm at the run's start, and whether it was given.
        self._first_loss: float | None = None
        self._epoch_max_loss = -math.inf
        self._norm_start: float | None = None
        self._hinted = False
        self._run_start_step = 0
        self._chance: float | None = None
        self._good = LastGood(self.model, self.optimizer)
        self._rng = capture_global(self.device)

        self._control = Controller()
        self._observers = ObserverSet()
        for obs in observers:
            self._observers.add(obs)
        self._thread: threading.Thread | None = None
        self._worker_ident: int | None = None
        self._done = threading.Event()   # set when a run has fully ended (result available)
        self._done.set()
        self._probe_index: int | None = 0 if self._val.n > 0 else None
        #: The nodes whose feature maps visual snapshots carry (None: every node's) — a
        #: window shows one or two; copying the others off the device costs for nothing.
        self.feature_map_nodes: frozenset[str] | None = None
        self._probe_x: torch.Tensor | None = None
        #: Takes the periodic visual snapshots of a run off the training thread (offload.py:
        #: the worker's capture process); None, or when it declines: taken here, inline.
        #: Forced ones (pause, step, a new probe, the end) are always taken here.
        self.visual_offload: VisualOffload | None = None
        self._dead_x: torch.Tensor | None = None
        self._dead_cache: dict[str, float] | None = None   # None whenever the weights are
        self._dead_step = -1                               # replaced other than by a step
        self._dead_rate = RateLimiter(DEAD_RELU_HZ)
        #: (kind, node) → the histogram bins, kept for the trainer's life so strips line up.
        self._hist_grids: dict[tuple[str, str], Grid] = {}
        self._reset_snapshot_rates()
        self._hist_epoch: int | None = None    # the epoch of the latest histograms sent
        #: Histogram passes at epoch ends while a run is active (a window turns them off while
        #: its histograms view is off screen). With a backlog, the epochs without a pass keep
        #: their weights for measure_backlog() (histogram_backlog.py).
        self.histograms_live = True
        self.histogram_backlog: HistogramBacklog | None = None
        #: The latest epoch's evaluation when evaluation_hz skipped it: sent if the run ends
        #: or parks before the next one (the views end on the last evaluated epoch).
        self._eval_skipped: tuple | None = None
        self._clock = time.perf_counter
        self._run_start: float | None = None
        self._paused_total = 0.0
        self._park_start = 0.0
        self._samples = 0

    # --- construction from a project ----------------------------------------------------
    @classmethod
    def from_project(cls, project: Project, base_dir: str | Path | None = None, *,
                     observers: Iterable[Any] = (), strategy: Strategy | None = None,
                     **overrides: Any) -> "Trainer":
        """Load the project's dataset and settings (``overrides`` replace training keys:
        epochs=3, device="cpu", seed=1) and build the trainer."""
        from ..data import DatasetError, load_dataset
        from ..data.fit import dataset_spec
        config = parse_training(project.training, **overrides)
        try:
            # No dataset section: the default that fits the Input (engine/data/fit.py).
            dataset = load_dataset(dataset_spec(project), base_dir)
        except DatasetError as exc:
            raise DataMismatchError(f"the dataset cannot be loaded: {exc}") from None
        augment = (project.dataset or {}).get("augment")
        try:
            return cls(project.graph, dataset, config, augment=augment, observers=observers,
                       strategy=strategy)
        except DataMismatchError as exc:
            if project.dataset:
                raise
            # No dataset section and no built-in dataset fits the Input; say that the real
            # fix is choosing a dataset, not reshaping the model for the default one.
            raise DataMismatchError(
                f"the project has no dataset section, and no built-in dataset gives what its "
                f"Input expects: {exc}. Choose a dataset that fits the model — for images of your "
                f'own: "dataset": {{"kind": "image_folder", "path": "FOLDER", "size": H, '
                f'"channels": C}}') from None

    # --- what the data looks like -----------------------------------------------------------
    @property
    def num_train(self) -> int:
        return self._train.n

    @property
    def num_val(self) -> int:
        return self._val.n

    @property
    def global_batch(self) -> int:
        """Samples of one optimizer step over all processes (the config's batch_size, rounded
        up to a multiple of the number of processes)."""
        return self.local_batch * self.strategy.world_size

    @property
    def data_on_device(self) -> bool:
        """The training split lives on the device (each batch is one index_select there)."""
        return self._train.resident

    # --- observers ----------------------------------------------------------------------
    def add_observer(self, observer: Any) -> None:
        self._observers.add(observer)

    def remove_observer(self, observer: Any) -> None:
        self._observers.remove(observer)

    # --- control from any thread ----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._control.active

    @property
    def paused(self) -> bool:
        """Parked at a batch boundary (weights and optimizer state kept)."""
        return self._control.parked

    def start(self, max_batches: int | None = None) -> threading.Thread:
        """Run in a new daemon thread; returns it. ``join()`` waits for the end."""
        if not self._control.begin():
            raise TrainingError("this trainer is already running")
        self._done.clear()
        self._thread = threading.Thread(target=self._run_begun, args=(max_batches,),
                                        name="layerlab-trainer", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> RunResult | None:
        """Wait for the run to end; returns its result (None if still running). Waits on an
        Event rather than Thread.join, which a Ctrl+C can leave broken."""
        self._done.wait(timeout)
        return self.result if self._done.is_set() else None

    def pause(self, wait: bool = False, timeout: float | None = None) -> bool:
        """Pause at the next batch boundary. Asked before a run starts, the run starts paused.
        With ``wait``, block until parked; returns whether it is."""
        self._control.pause()
        return self._control.wait_parked(timeout) if wait else self._control.parked

    def resume(self) -> None:
        self._control.resume()

    def stop(self, wait: bool = False, timeout: float | None = None) -> None:
        """Stop at the next batch boundary (also when paused). The position is kept: a later
        run() continues, and a checkpoint saved now resumes exactly."""
        self._control.stop()
        if wait:
            self.join(timeout)

    def step(self, count: int = 1, wait: bool = False, timeout: float | None = None) -> bool:
        """While paused, train exactly ``count`` more batches, then park again (pauses first
        if running). With ``wait``, block until parked again; returns whether it is."""
        parks = self._control.parks
        self._control.step(count)
        return self._control.wait_parked(timeout, after=parks) if wait else False

    def set_lr(self, lr: float) -> None:
        """Set the learning rate now (on the training thread at the next batch boundary if a
        run is active). The schedule continues relative to it."""
        lr = float(lr)
        if not (math.isfinite(lr) and 0 < lr <= 10):
            raise ValueError(f"learning rate must be > 0 and ≤ 10 (found {lr:g})")
        self._apply(lambda: self._set_lr_now(lr))

    def set_probe(self, probe: int | np.ndarray | torch.Tensor) -> None:
        """The sample whose feature maps the visual snapshots show: a validation index, or one
        sample in model-input units (normalized, shape = the Input node's). While paused, a
        fresh visual snapshot follows at once."""
        if isinstance(probe, (int, np.integer)) and not isinstance(probe, bool):
            if not 0 <= int(probe) < self._val.n:
                raise ValueError(f"probe index {probe} is outside the validation set "
                                 f"(0 to {self._val.n - 1})")
            index, x = int(probe), None
        else:
            x = torch.as_tensor(np.asarray(probe, dtype=np.float32))
            shape = tuple(self.dataset.input_shape)
            if tuple(x.shape) != shape:
                raise ValueError(f"a probe sample must have shape {list(shape)}; "
                                 f"found {list(x.shape)}")
            index, x = None, x.unsqueeze(0)

        def apply() -> None:
            self._probe_index, self._probe_x = index, x
            if self._control.paused or not self._control.active:
                self._emit_visuals(forced=True)
        self._apply(apply)

    def set_epochs(self, epochs: int) -> None:
        """Change the target number of epochs (e.g. to continue a finished run)."""
        epochs = int(epochs)
        if not 1 <= epochs <= 100_000:
            raise ValueError(f"epochs must be from 1 to 100,000 (found {epochs})")

        def apply() -> None:
            old = self.config.epochs
            self.config = self.config.with_overrides(epochs=epochs)
            if epochs != old:
                self._mark("epochs", f"epochs {old} → {epochs}", old, epochs)
        self._apply(apply)

    @staticmethod
    def check_delay(seconds: Any) -> float:
        """A slow-motion delay as a float, or ValueError saying what is allowed."""
        try:
            value = float(seconds)
        except (TypeError, ValueError):
            raise ValueError(f"the delay per batch must be a number of seconds "
                             f"(found {seconds!r})") from None
        if not (math.isfinite(value) and 0 <= value <= MAX_DELAY_S):
            raise ValueError(f"the delay per batch must be from 0 to {MAX_DELAY_S:g} seconds "
                             f"(found {value:g})")
        return value

    @property
    def delay(self) -> float:
        """Slow motion: seconds waited after every batch (0: full speed)."""
        return self._delay

    def set_delay(self, seconds: float) -> None:
        """Slow motion, so a one-second run can be watched: wait ``seconds`` after every
        batch (0 turns it off). Pause, stop and queued calls answer during the wait; the
        waits count neither as training time nor in samples/s. Every batch waited after is
        sent to observers (``batch_hz`` permitting) with the samples it trained on."""
        value = self.check_delay(seconds)
        self._apply(lambda: setattr(self, "_delay", value))

    def call_soon(self, fn) -> bool:
        """Queue ``fn()`` to run on the training thread at its next batch boundary (also while
        paused), for callers that must touch the model between optimizer steps (a GUI's
        prediction, a checkpoint saved mid-run). Returns False, queueing nothing, when no run
        is active: then nothing races the optimizer and the caller runs ``fn`` where it likes."""
        return self._control.submit(fn)

    def _apply(self, fn) -> None:
        # Queued to the training thread when a run is active; else done here and now.
        if not self._control.submit(fn):
            fn()

    # --- running ------------------------------------------------------------------------
    def run(self, max_batches: int | None = None) -> RunResult:
        """Train up to config.epochs from the current position, blocking. Returns how it
        ended: finished, stopped, diverged (NaN/inf loss; last good weights restored) or
        failed (an unexpected error; see ``last_error``). ``max_batches``: stop after that
        many batches of this run (a quick smoke test), with status "stopped"."""
        if not self._control.begin():
            raise TrainingError("this trainer is already running")
        self._done.clear()
        return self._run_begun(max_batches)

    def _run_begun(self, max_batches: int | None = None) -> RunResult:
        self._worker_ident = threading.get_ident()
        self.last_error = None
        result: RunResult | None = None
        threads_before = torch.get_num_threads()
        try:
            if self.config.threads:   # pinned for this run, on the thread that computes
                torch.set_num_threads(self.config.threads)
            result = self._loop(max_batches)
        except Exception as exc:  # reported, not raised: a worker thread has no caller
            self.last_error = exc
            message = f"training failed: {type(exc).__name__}: {exc}"
            try:
                result = self._finish("failed", message)
            except Exception:  # an observer failing again while told about the failure
                self.state = "failed"
                result = RunResult("failed", message, self.epoch, self.global_step,
                                   tuple(self.history), 0.0, 0.0, self.device_info.device)
        finally:
            if result is None:  # KeyboardInterrupt/SystemExit: keep the state consistent
                self._rng = capture_global(self.device)
                self._active_before += self._active_now()
                self.state = "stopped"
            if torch.get_num_threads() != threads_before:
                torch.set_num_threads(threads_before)
            self._control.end()
            self._worker_ident = None
            if self.visual_offload is not None:
                self.visual_offload.end()
        self.result = result
        try:
            self._observers.emit("on_finish", result)
        finally:
            self._done.set()
        return result

    def _loop(self, max_batches: int | None) -> RunResult:
        cfg, ctl, strategy = self.config, self._control, self.strategy
        snaps = cfg.snapshots
        restore_global(self._rng, self.device)
        clock = self._clock
        # The run's clock (seconds, samples/s, ETA) runs from its first batch to its last
        # epoch's end: what observers do before (the run record, the first histograms) and
        # after (the last looks inside) is not training. Until then it reads 0.
        self._run_start = None
        self._paused_total = 0.0
        self._samples = 0
        # One wall-clock tick paces batch snapshots and, on accelerators, the loss checks.
        tick = RateLimiter(snaps.batch_hz if snaps.batch_hz > 0 else 20.0)
        self._reset_snapshot_rates()
        good_rate = RateLimiter(GOOD_COPY_HZ, GOOD_COPY_BUDGET)
        want_batch = self._observers.wants("on_batch") and snaps.batch_hz > 0
        want_visuals = self._observers.wants("on_visuals") and snaps.visual_hz > 0
        self._observers.emit("on_start", self._run_info())
        if want_visuals and self.visual_offload is not None:
            self.visual_offload.begin(self)
        self._set_state("running", "")
        if self.epoch == 0 and self._order is None:
            self._histograms_now_or_later()   # the initial weights: the strips' first row
        model = strategy.wrap(self.parts.train_model)
        objective, optimizer, amp = self.objective, self.optimizer, self.amp
        source, lb, world = self._train, self.local_batch, strategy.world_size
        sync_each, check_each = self._host_sums, strategy.checks_each_batch
        classify = self.dataset.task == "classification"
        l1, l1_params = cfg.l1, self.parts.l1_params
        augment_spec, augment_gen = self._augment, self._augment_gen
        if augment_spec is not None:
            from ..data import augment
        if self._order is not None and self._good.step is None:
            self._save_good()  # continuing mid-epoch: a copy to go back to
        self._first_loss, self._hinted, self._run_start_step = None, False, self.global_step
        self._norm_start = weights_norm(self.model) if classify else None
        model.train()
        done = 0
        self._run_start = clock()

        while self.epoch < self.config.epochs:
            if self._order is None:
                self._begin_epoch()
            order, sums, valid = self._order, self._sums, self._valid
            while self.batch < self.batches_per_epoch:
                if ctl.attention and not ctl.checkpoint(self._on_park, self._on_unpark):
                    return self._finish("stopped", f"stopped at {self._where()}")
                if done == max_batches:
                    return self._finish("stopped", f"stopped after {done} batch"
                                                   f"{'es' if done != 1 else ''} (as asked) at "
                                                   f"{self._where()}")
                start = self.batch * lb
                idx = order[start:start + lb]
                x, y = source.take(idx)
                if augment_spec is not None:
                    x = augment(x, augment_spec, augment_gen)
                out, loss = forward_loss(model, objective, x, y, amp)
                now = clock()
                due = tick.ready(now)
                value = None
                if sync_each or due:
                    value = loss.item()
                    if value > self._epoch_max_loss:
                        self._epoch_max_loss = value
                    if self._first_loss is None:
                        self._first_loss = value
                    if check_each:
                        if not math.isfinite(value):
                            return self._diverged(value)
                        if good_rate.ready(now):  # these weights gave a finite loss: keep them
                            self._save_good(good_rate)
                apply_update(loss, optimizer, l1=l1, l1_params=l1_params, amp=amp)
                loss = loss.detach()
                n = int(y.shape[0])
                real = n if valid >= start + n else max(valid - start, 0)  # DDP padding
                sums.add(loss, value, objective.predict(out.detach()) if classify else None,
                         y, real)
                self._last_loss = loss
                self._last_batch = idx
                self.batch += 1
                self.global_step += 1
                self._samples += real * world  # ≈ all processes (padding is < 1 per process)
                done += 1
                slow = self._delay > 0
                if due:
                    tick.done(now, now)
                    if want_batch:
                        self._observers.emit("on_batch", self._batch_snapshot(value, slow))
                if want_visuals and self._visual_rate.ready(now):
                    self._emit_visuals(forced=False)
                if slow:   # not training time: counted with the pauses
                    end = clock()
                    self._paused_total += ctl.sleep(lambda: end + self._delay, clock)
            if not self._end_epoch():
                return self._diverged(float("nan"), in_sums=True)
        return self._finish("finished", f"finished {self.epoch} epoch"
                                        f"{'s' if self.epoch != 1 else ''}")

    def _reset_snapshot_rates(self) -> None:
        """Fresh limiters for the looks inside, from the snapshot settings (a new trainer,
        each run's start): visual snapshots, histograms (a share of the time) and
        evaluations."""
        snaps = self.config.snapshots
        self._visual_rate = RateLimiter(snaps.visual_hz, snaps.visual_budget)
        self._hist_rate = RateLimiter(math.inf, snaps.histogram_budget)
        self._eval_rate = RateLimiter(snaps.evaluation_hz)

    def _where(self) -> str:
        return f"epoch {self.epoch + 1}, batch {self.batch} (step {self.global_step})"

    # --- epochs -----------------------------------------------------------------------------
    def _begin_epoch(self) -> None:
        cfg = self.config
        lr = self.base_lr * lr_factor(cfg.schedule, self.epoch, cfg.epochs)
        set_optimizer_lr(self.optimizer, lr)
        self._draw_order()
        # Dropout and augmentation: per epoch and process, so every process draws its own
        # and a resumed run draws the same ones.
        rank = self.strategy.rank
        seed_global(derive_seed(cfg.seed, DROPOUT_STREAM, self.epoch, rank), self.device)
        self._augment_gen.manual_seed(derive_seed(cfg.seed, AUGMENT_STREAM, self.epoch, rank))
        self._sums = self._new_sums()
        self._epoch_max_loss = -math.inf
        self._epoch_active_start = self._active_total()
        self._save_good()  # the epoch's start: where a NaN found in its sums goes back to

    def _new_sums(self) -> EpochSums:
        return EpochSums(self.device, self.dataset.task == "classification", self._host_sums)

    def _draw_order(self) -> None:
        """This epoch's permutation (one for all processes) and this process's share of it."""
        self._epoch_rng = self._shuffle_gen.get_state()
        perm = torch.randperm(self._train.n, generator=self._shuffle_gen)
        indices, self._valid = self.strategy.shard(perm)
        self._order = self._train.order_for(indices)

    def _end_epoch(self) -> bool:
        """Validate, combine the processes' sums, record the history row, emit. False when
        the epoch's loss is not finite (found here on GPUs, where losses are not read every
        batch, and under DDP, where every process must agree)."""
        strategy, sums, ds = self.strategy, self._sums, self.dataset
        strategy.sync_buffers(self.model)
        ev = evaluate(self.parts.train_model, self.objective, self._val_part,
                      self.eval_batch, self.amp)
        total = strategy.sum([sums.loss, float(sums.correct), float(sums.count),
                              ev.loss_sum, float(ev.n)])
        train_loss = total[0] / max(total[2], 1.0)
        if not math.isfinite(train_loss):
            return False
        classify = ds.task == "classification"
        preds = strategy.gather(ev.predictions, self._val.n).numpy()
        y_val = ds.y_val.numpy()
        val_loss = total[3] / total[4] if total[4] else float("nan")
        val_acc = mae = rmse = None
        if classify:
            val_acc = float((preds == y_val).mean()) if len(preds) else None
        elif len(preds):
            mae_t, rmse_t = regression_errors(preds, y_val, ds.normalization.get("target_std"))
            mae, rmse = float(mae_t.mean()), float(rmse_t.mean())
        eval_snap, self._eval_skipped = None, None
        if (self._observers.wants("on_evaluation") and len(preds)
                and self.config.snapshots.evaluation_hz > 0):
            now = self._clock()
            if self._eval_rate.ready(now) or self.epoch + 1 >= self.config.epochs:
                eval_snap = self._eval_snapshot(self.epoch + 1, val_loss, preds, y_val)
                self._eval_rate.done(now, now)
            else:
                self._eval_skipped = (self.epoch + 1, val_loss, preds, y_val)
        snap = EpochSnapshot(
            epoch=self.epoch + 1, train_loss=train_loss,
            train_acc=total[1] / max(total[2], 1.0) if classify else None,
            val_loss=val_loss, val_acc=val_acc, val_mae=mae, val_rmse=rmse,
            lr=float(self.optimizer.param_groups[0]["lr"]),
            seconds=self._active_total() - self._epoch_active_start, step=self.global_step)
        self.history.append(snap)
        self.epoch += 1
        self.batch = 0
        self._order = None
        self._observers.emit("on_epoch", snap)
        if eval_snap is not None:
            self._observers.emit("on_evaluation", eval_snap)
        if classify and not self._hinted:
            self._check_chance(snap)
        self._epoch_histograms()
        return True

    def _epoch_histograms(self) -> None:
        """At an epoch's end: a pass when live and the budget allows; else, with a backlog,
        the weights kept to measure after the run — a pass after all, within the budget, when
        they do not fit."""
        if not self._wants_histograms():
            return
        due = self._hist_rate.ready(self._clock())
        if self.histograms_live and due:
            self._emit_histograms()
        elif not self._keep_for_later() and due:
            self._emit_histograms()

    def _histograms_now_or_later(self) -> None:
        """A pass when live; else the weights kept for after the run (a pass when they do
        not fit): the first and the last weights of a run always get their strip."""
        if self._wants_histograms() and (self.histograms_live or not self._keep_for_later()):
            self._emit_histograms()

    def _keep_for_later(self) -> bool:
        """Keep the weights now in the backlog; False without one, or when they do not fit."""
        backlog = self.histogram_backlog
        return backlog is not None and backlog.keep(self.epoch, self.global_step, self.model)

    def _wants_histograms(self) -> bool:
        return self._observers.wants("on_histograms") and self.config.snapshots.histograms

    def _check_chance(self, snap: EpochSnapshot) -> None:
        """Accuracy near chance: say whether the learning rate looks too high or too low."""
        if self._chance is None:
            counts = np.bincount(self.dataset.y_train.numpy().astype(np.int64))
            self._chance = float(counts.max() / max(counts.sum(), 1)) if counts.size else 0.0
        if not near_chance(snap.val_acc, self._chance):
            return
        dead = self._dead_shares() if self._val.n else {}
        top = self._epoch_max_loss
        hint = lr_hint(RunSigns(
            epoch=snap.epoch, steps=self.global_step - self._run_start_step, lr=snap.lr,
            chance=self._chance, val_acc=snap.val_acc,
            train_acc=snap.train_acc, first_loss=self._first_loss,
            max_loss=top if top > -math.inf else None, train_loss=snap.train_loss,
            norm_start=self._norm_start, norm_now=weights_norm(self.model), dead=dead))
        if hint is not None:
            self._hinted = True
            self._mark("lr_hint", hint.message, snap.lr, hint.suggested_lr, hint.direction,
                       near_chance_below(self._chance))

    def _emit_skipped_evaluation(self) -> None:
        """The evaluation evaluation_hz skipped, when nothing newer was sent (a run ending or
        parking between two epochs' ends)."""
        skipped, self._eval_skipped = self._eval_skipped, None
        if skipped is not None:
            self._observers.emit("on_evaluation", self._eval_snapshot(*skipped))

    def _eval_snapshot(self, epoch: int, val_loss: float, preds: np.ndarray,
                       y_val: np.ndarray) -> EvalSnapshot:
        ds = self.dataset
        if ds.task == "classification":
            cm = confusion_matrix(y_val, preds, ds.num_classes)
            precision, recall, f1, support = per_class_scores(cm)
            return EvalSnapshot(
                epoch=epoch, task=ds.task, val_loss=val_loss,
                predictions=preds.astype(np.int64), class_names=tuple(ds.class_names),
                confusion=cm, precision=precision, recall=recall, f1=f1, support=support,
                accuracy=float(np.trace(cm) / max(cm.sum(), 1)),
                misclassified=misclassified_cells(
                    y_val, preds, self.config.snapshots.misclassified_per_cell))
        mae, rmse = regression_errors(preds, y_val, ds.normalization.get("target_std"))
        return EvalSnapshot(epoch=epoch, task=ds.task, val_loss=val_loss,
                            predictions=preds.astype(np.float32),
                            target_names=tuple(ds.target_names), mae=mae, rmse=rmse,
                            predicted=ds.denormalize_target(preds),
                            actual=ds.denormalize_target(y_val))

    # --- divergence -----------------------------------------------------------------------
    def _save_good(self, rate: RateLimiter | None = None) -> None:
        """Copy the weights and optimizer state with the position they belong to."""
        start = self._clock()
        self._good.save(self.global_step, (self.epoch, self.batch, self._sums.copy()))
        if rate is not None:
            rate.done(start, self._clock())

    def _diverged(self, value: float, in_sums: bool = False) -> RunResult:
        """End the run at a NaN/inf loss, saying why, with the last good copy put back."""
        lr = self.optimizer.param_groups[0]["lr"]
        if in_sums:
            everyone = " over all processes" if self.strategy.world_size > 1 else ""
            what = "NaN or infinite" if self.strategy.world_size > 1 else "NaN"
            where = (f"some batch of epoch {self.epoch + 1} (found in the epoch's sums"
                     f"{everyone} after step {self.global_step})")
        else:
            what = "NaN" if math.isnan(value) else "infinite"
            where = (f"epoch {self.epoch + 1}, batch {self.batch + 1} "
                     f"(step {self.global_step + 1})")
        if self.global_step == 0:
            cause = ("before any update, so the model or the data is at fault: look for "
                     "NaN/huge values in the dataset, or normalize it")
        else:
            cause = (f"the learning rate {lr:g} is probably too high, so the weights blew up — "
                     f"try lr {round_down(lr / 10):g}")
            if self.amp is not None and self.amp.dtype == torch.float16:
                cause += " (or turn mixed_precision off: float16 overflows above 65,504)"
        message = f"the loss became {what} at {where}: {cause}.{self._go_back(in_sums)}"
        return self._finish("diverged", message)

    def _go_back(self, rewind: bool) -> str:
        """Put the last good copy of the weights and optimizer back; returns the sentence that
        says so. Found at one batch, the position stays (continuing after set_lr carries on
        from the next batch) and the epoch's sums restart. Found in the epoch's sums, some
        earlier batch is at fault and the sums hold it: the position and sums go back with
        the copy (under DDP, the same in every process), so continuing redoes those batches."""
        saved = self._good.restore()
        self._dead_cache = None
        if saved is None or not rewind:
            self._sums = self._new_sums()
        if saved is None:
            return ""
        step, (epoch, batch, sums) = saved
        if rewind:
            self.epoch, self.batch, self.global_step, self._sums = epoch, batch, step, sums
        if step == 0:
            return " The initial weights were restored."
        if rewind and batch == 0:
            return (f" The weights were restored to the start of epoch {epoch + 1} "
                    f"(after step {step}).")
        return f" The weights were restored to the last good copy (after step {step})."

    # --- finishing, state, snapshots ------------------------------------------------------
    def _finish(self, status: str, message: str) -> RunResult:
        active = self._active_now()      # (the last looks inside below are not training)
        self._emit_skipped_evaluation()
        if status in ("finished", "stopped") and self._hist_epoch != self.epoch:
            self._histograms_now_or_later()   # the weights the run ends with: a strip
        if status != "failed" and self._observers.wants("on_visuals"):
            self._emit_visuals(forced=True)   # (its dead ReLU shares: the histograms')
        self._active_before += active
        self._rng = capture_global(self.device)
        self._set_state(status, message)
        return RunResult(status=status, message=message, epochs_completed=self.epoch,
                         steps=self.global_step, history=tuple(self.history),
                         seconds=active, samples_per_s=self._samples / active if active else 0.0,
                         device=self.device_info.device)

    def _set_state(self, state: str, message: str) -> None:
        self.state = state
        self._observers.emit("on_state", StateSnapshot(state, message, self.epoch,
                                                       self.global_step))

    def _active_now(self) -> float:
        """Active seconds of the current run (pauses excluded)."""
        if self._run_start is None or not self._control.active:
            return 0.0
        return self._clock() - self._run_start - self._paused_total

    def _active_total(self) -> float:
        return self._active_before + self._active_now()

    def _on_park(self) -> None:
        self._park_start = self._clock()
        self._rng = capture_global(self.device)  # others may draw numbers while we wait
        self._set_state("paused", f"paused at epoch {self.epoch + 1}, batch {self.batch} "
                                  f"(step {self.global_step})")
        if (self._last_loss is not None and self._observers.wants("on_batch")
                and self.config.snapshots.batch_hz > 0):
            self._observers.emit("on_batch", self._batch_snapshot(self._last_loss.item(),
                                                                  with_indices=True))
        self._emit_skipped_evaluation()
        if self._observers.wants("on_visuals"):
            self._emit_visuals(forced=True)

    def _on_unpark(self) -> None:
        restore_global(self._rng, self.device)
        self._paused_total += self._clock() - self._park_start
        if self._control.active and not self._control.stop_requested:
            self._set_state("running", "")

    def _batch_snapshot(self, loss: float, with_indices: bool = False) -> BatchSnapshot:
        elapsed = self._active_now()
        rate = self._samples / elapsed if elapsed > 0 else 0.0
        remaining = ((self.config.epochs - self.epoch) * self.batches_per_epoch - self.batch)
        eta = (remaining * (self.global_batch / rate + self._delay) if rate > 0
               else math.inf)
        indices = None
        if with_indices and self._last_batch is not None:
            indices = tuple(int(i) for i in self._last_batch.tolist())
        sums = self._sums
        count = max(sums.count, 1)
        return BatchSnapshot(epoch=self.epoch + 1, batch=self.batch,
                             batches=self.batches_per_epoch, step=self.global_step,
                             loss=float(loss), running_loss=sums.loss / count,
                             running_acc=sums.correct / count if sums.classify else None,
                             lr=float(self.optimizer.param_groups[0]["lr"]),
                             samples_seen=self._samples, samples_per_s=rate, elapsed_s=elapsed,
                             eta_s=max(eta, 0.0), indices=indices)

    def _emit_visuals(self, forced: bool) -> None:
        if not self._observers.wants("on_visuals") or self.config.snapshots.visual_hz <= 0:
            return
        start = time.perf_counter()
        offload = self.visual_offload
        if offload is not None:
            if forced:
                offload.settle()     # what it took before goes out before this one
            else:
                taken = offload.offer(self)
                if taken is not None:     # handed over (False: still busy, try next batch)
                    if taken:
                        self._visual_rate.done(start, time.perf_counter())
                    return
        self._observers.emit("on_visuals", self.capture_visuals(forced))
        if not forced:        # the budget counts what the observers do with it too
            self._visual_rate.done(start, time.perf_counter())

    def capture_visuals(self, forced: bool = True) -> VisualSnapshot:
        """A VisualSnapshot now. Call it when no run is active, or from an observer (the
        training thread); while a run is active, use set_probe or pause to get one."""
        snaps = self.config.snapshots
        probe_x, probe_target = self.probe_sample()
        looks = look_inside(self.model, self.objective, self.parts.loss_node,
                            self.parts.conv_ids, probe_x, self.feature_map_nodes,
                            filters=snaps.filters, maps=snaps.feature_maps,
                            gradients=snaps.gradients)
        dead = {}
        if snaps.dead_relu and self.parts.relu_ids and self._val.n:
            # The costliest part (a forward pass over the probe batch) and a slow-moving
            # statistic: measured at most once a second, fresh in every forced snapshot — but
            # never twice for the same weights (a pause, then Stop or a new probe sample: on
            # a big network each pass takes seconds, and Stop must not wait for them).
            now = time.perf_counter()
            stale = self._dead_cache is None or self._dead_step != self.global_step
            if self._dead_cache is None or stale and (forced or self._dead_rate.ready(now)):
                self._dead_rate.done(now, now)
                dead = self._dead_shares()
            else:
                dead = dict(self._dead_cache)
        return VisualSnapshot(
            epoch=self.epoch + 1, step=self.global_step, filters=looks.filters,
            feature_maps=looks.feature_maps, grad_norms=looks.grad_norms, dead_relu=dead,
            probe_index=self._probe_index, probe_target=probe_target,
            probe_output=looks.probe_output, forced=forced)

    def _dead_shares(self) -> dict[str, float]:
        """The dead-ReLU shares of the current weights on the probe batch, measured once per
        set of weights (the histograms' pass measures them too)."""
        if self._dead_cache is None or self._dead_step != self.global_step:
            self._dead_cache = dead_relu_fractions(self.model, self.parts.relu_ids,
                                                   self.probe_batch())
            self._dead_step = self.global_step
        return dict(self._dead_cache)

    def _emit_histograms(self) -> None:
        """Histograms to the observers: at the start of a run from scratch, at epoch ends
        while their cost (measuring them, and what the observers do with them) stays within
        ``snapshots.histogram_budget`` of the time — a short epoch is skipped now and then —
        and for the weights a run ends with."""
        if not self._wants_histograms():
            return
        start = self._clock()
        self._observers.emit("on_histograms", self.capture_histograms())
        self._hist_epoch = self.epoch
        if self.histogram_backlog is not None:
            self.histogram_backlog.discard(self.epoch)     # measured: no copy to measure
        self._hist_rate.done(start, self._clock())

    def capture_histograms(self) -> HistogramSnapshot:
        """A HistogramSnapshot now (see training/histograms.py). Call it when no run is
        active, or from an observer on the training thread."""
        snap = self._measure_histograms(self.epoch, self.global_step)
        if snap.samples:        # the same shares a visual snapshot measures: not twice
            self._dead_cache, self._dead_step = dict(snap.dead_relu), self.global_step
        return snap

    def measure_backlog(self) -> int:
        """Measure the histograms of the epochs the backlog kept, oldest first, and send them
        to the observers; returns how many. Call it when no run is active (the worker does,
        once a run ends): each copy is loaded into the model in turn, then its own weights
        are put back."""
        if self.running:
            raise RuntimeError("measure_backlog() needs the model: no run may be active")
        kept = self.histogram_backlog.take() if self.histogram_backlog is not None else []
        if not kept or not self._observers.wants("on_histograms"):
            return 0
        own = {k: t.detach().clone() for k, t in self.model.state_dict().items()}
        try:
            for epoch, step, state in kept:
                self.model.load_state_dict(state)
                self._observers.emit("on_histograms", self._measure_histograms(epoch, step))
        finally:
            self.model.load_state_dict(own)
        return len(kept)

    def _measure_histograms(self, epoch: int, step: int) -> HistogramSnapshot:
        x = self.probe_batch()
        weights, activations, dead = layer_histograms(
            self.model, x, self.parts.histogram_ids, self.parts.relu_ids, self._hist_grids)
        return HistogramSnapshot(epoch=epoch, step=step, weights=weights,
                                 activations=activations, dead_relu=dead,
                                 samples=0 if x is None else int(x.shape[0]))

    def probe_batch(self) -> torch.Tensor | None:
        """The first ``probe_batch`` validation samples (dead ReLUs, activation histograms)."""
        if not self._val.n:
            return None
        if self._dead_x is None:
            k = min(self.config.snapshots.probe_batch, self._val.n)
            self._dead_x = self._val.range(0, k)[0]
        return self._dead_x

    @property
    def probe_index(self) -> int | None:
        """The validation index of the sample visual snapshots show (None: a custom one, or
        no validation split)."""
        return self._probe_index

    def probe_sample(self) -> tuple[torch.Tensor | None, Any]:
        """The sample visual snapshots show, as a batch of one on the device, and its true
        class or target (None for a custom sample); (None, None) without one."""
        if self._probe_x is not None:
            return self._probe_x.to(self.device), None
        if self._probe_index is None:
            return None, None
        i = self._probe_index
        x = self.dataset.x_val[i:i + 1].to(self.device)
        y = self.dataset.y_val[i]
        target = int(y) if y.dim() == 0 else y.numpy().copy()
        return x, target

    def _run_info(self) -> RunInfo:
        ds, cfg = self.dataset, self.config
        norm = ds.normalization if ds.task == "regression" else {}
        return RunInfo(
            device=self.device_info.device, device_name=self.device_info.name,
            device_reason=self.device_info.reason, task=ds.task, loss=self.objective.loss,
            optimizer=cfg.optimizer, epochs=cfg.epochs, start_epoch=self.epoch,
            start_step=self.global_step, batch_size=cfg.batch_size,
            batches_per_epoch=self.batches_per_epoch, num_train=self._train.n,
            num_val=self._val.n, class_names=tuple(ds.class_names),
            target_names=tuple(ds.target_names), node_ids=tuple(self.model.order),
            conv_ids=tuple(self.parts.conv_ids), relu_ids=tuple(self.parts.relu_ids),
            data_on_device=self._train.resident, mixed_precision=self.amp is not None,
            notes=tuple(self.notes), standardized_targets="target_mean" in norm,
            target_mean=tuple(float(v) for v in norm.get("target_mean", ())),
            target_std=tuple(float(v) for v in norm.get("target_std", ())))

    def _set_lr_now(self, lr: float) -> None:
        old = float(self.optimizer.param_groups[0]["lr"])
        factor = lr_factor(self.config.schedule, self.epoch, self.config.epochs)
        self.base_lr = lr / factor if factor > 1e-12 else lr
        set_optimizer_lr(self.optimizer, lr)
        if lr != old:
            self._hinted = False   # a new learning rate deserves a new look
            self._mark("lr", f"learning rate {old:g} → {lr:g}", old, lr)

    def _mark(self, kind: str, message: str, old: float | None = None,
              new: float | None = None, direction: str = "",
              chance_below: float | None = None) -> TrainingEvent:
        """Record and send a marker at the current position (see TrainingEvent)."""
        event = TrainingEvent(kind, self.epoch + 1, self.batch, self.global_step,
                              self.epoch + self.batch / max(self.batches_per_epoch, 1),
                              message, old, new, direction, chance_below)
        self.events.append(event)
        self._observers.emit("on_event", event)
        return event

    # --- state ----------------------------------------------------------------------------
    def _on_training_thread(self) -> bool:
        return self._worker_ident == threading.get_ident()

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs: {"weights", "tensors", "meta"} (meta is JSON-ready).
        Call it when no run is active, while paused, or from an observer on the training
        thread."""
        if self._control.active and not (self._control.parked or self._on_training_thread()):
            raise TrainingError("pause or stop the training before saving a checkpoint")
        rng = capture_global(self.device) if self._on_training_thread() else self._rng
        shuffle = self._epoch_rng if self._order is not None else self._shuffle_gen.get_state()
        tensors = {"optimizer": self.optimizer.state_dict(),
                   "rng": {**{f"global_{k}": v for k, v in rng.items()}, "shuffle": shuffle,
                           "augment": self._augment_gen.get_state()}}
        if self.amp is not None and self.amp.scaler is not None:
            tensors["scaler"] = self.amp.scaler.state_dict()
        meta = {
            "epoch": self.epoch, "batch": self.batch if self._order is not None else 0,
            "global_step": self.global_step, "base_lr": self.base_lr,
            "lr": self.optimizer.param_groups[0]["lr"],
            "meter": {"loss": self._sums.loss, "correct": self._sums.correct,
                      "count": self._sums.count},
            "history": [asdict(h) for h in self.history],
            "events": [asdict(e) for e in self.events],
            "config": self.config.to_dict(),
            "num_train": self._train.n, "num_val": self._val.n,
            "batches_per_epoch": self.batches_per_epoch,
            "dataset": self.dataset.name, "task": self.dataset.task,
            "device": self.device_info.device,
        }
        return {"weights": self.model.state_dict(), "tensors": tensors, "meta": meta}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state_dict()``'s result (or a checkpoint's): weights, optimizer,
        position, history, random states. Same data, seed and batch size resume the same
        curve exactly. Everything is checked before anything changes; a state that does not
        fit raises CheckpointError saying what is wrong."""
        from .checkpoint import check_meta, check_weights
        if self._control.active:
            raise TrainingError("cannot load a checkpoint while training runs — stop it first")
        if not isinstance(state, dict) or not {"weights", "tensors", "meta"} <= set(state):
            raise CheckpointError("a trainer state has weights, tensors and meta")
        meta, tensors, weights = state["meta"], state["tensors"], state["weights"]
        problems = check_meta(meta)
        if problems:
            raise CheckpointError("the trainer state is not valid: " + "; ".join(problems))
        check_weights(self.model, weights)
        batch, notes = int(meta["batch"]), []
        if batch and self.strategy.world_size > 1:
            # Saved mid-epoch by one process: another sharding cannot continue that epoch.
            notes.append(f"the checkpoint was saved in the middle of epoch {meta['epoch'] + 1}; "
                         f"distributed training restarts that epoch (the weights keep the "
                         f"updates already made)")
            batch = 0
        elif batch and (meta["num_train"] != self._train.n
                        or meta["batches_per_epoch"] != self.batches_per_epoch):
            raise CheckpointError(
                f"the checkpoint was saved in the middle of an epoch with {meta['num_train']} "
                f"training samples in {meta['batches_per_epoch']} batches; this run has "
                f"{self._train.n} in {self.batches_per_epoch} — use the same dataset and "
                f"batch size, or a checkpoint saved at the end of an epoch")
        if meta["num_train"] != self._train.n:
            notes.append(f"the checkpoint was trained on {meta['num_train']} samples, this "
                         f"dataset has {self._train.n}")
        rng, glob = self._check_tensors(tensors)
        flags = implementation_flags(self.optimizer)
        try:
            self.optimizer.load_state_dict(tensors["optimizer"])
            for group, own in zip(self.optimizer.param_groups, flags):
                group.update(own)   # this device's fused/foreach, not the saving run's
            if "scaler" in tensors and self.amp is not None and self.amp.scaler is not None:
                self.amp.scaler.load_state_dict(tensors["scaler"])
        except (KeyError, ValueError, RuntimeError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"the checkpoint's optimizer state does not fit this "
                                  f"training setup: {exc}") from None
        with torch.no_grad():
            for key, value in self.model.state_dict().items():
                value.copy_(weights[key])
        self._shuffle_gen.set_state(rng["shuffle"])
        self._augment_gen.set_state(rng["augment"])
        self.notes += notes
        self.epoch = int(meta["epoch"])
        self.global_step = int(meta["global_step"])
        self.base_lr = float(meta["base_lr"])
        self.history = [EpochSnapshot(**row) for row in meta["history"]]
        self.events = [TrainingEvent(**e) for e in meta.get("events", [])]
        self._last_batch = None
        self._dead_cache = None
        self._good.clear()
        # The random states of this device: a CPU checkpoint resumed on a GPU keeps the GPU's.
        self._rng = {**self._rng, **{k: v for k, v in glob.items() if k in self._rng}}
        sums = self._new_sums()
        if batch:
            self._draw_order()   # from the epoch's saved starting state: the same permutation
            m = meta["meter"]
            sums.set(m["loss"], m["correct"], m["count"])
            self._epoch_active_start = self._active_total()
        else:
            self._order = None
        self._sums = sums
        self.batch = batch

    def _check_tensors(self, tensors: Any) -> tuple[dict, dict]:
        """The random states of a state dict, each tried on a scratch generator first."""
        try:
            rng = tensors["rng"]
            glob = {k[len("global_"):]: v for k, v in rng.items() if k.startswith("global_")}
            for key in ("shuffle", "augment"):
                torch.Generator().set_state(rng[key])
            cpu = glob.get("cpu")
            if cpu is not None and (not isinstance(cpu, torch.Tensor)
                                    or cpu.shape != torch.get_rng_state().shape):
                raise ValueError("the CPU random state has the wrong size")
            if not isinstance(tensors["optimizer"], dict):
                raise TypeError("the optimizer state is not a dictionary")
        except (KeyError, ValueError, RuntimeError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"the checkpoint's optimizer or random state does not fit "
                                  f"this training setup: {exc}") from None
        return rng, glob

    def lr_range_test(self, *, start_lr: float = 1e-7, end_lr: float = 10.0,
                      num_batches: int = 100, progress=None):
        """The learning-rate range test (lr_finder.py) on this model and training data: at
        most 100 batches with the rate growing exponentially, the smoothed loss against it
        and a suggested rate with its reason — an ``LrRangeResult``. Everything it changes
        is put back (weights, BatchNorm statistics, optimizer state, gradients, the loss
        scaler, torch's random state, train/eval mode), so training continues exactly as it
        would have. Batches are shuffled by their own seeded generator, without augmentation.
        Call it when no run is active, or on the training thread (``call_soon`` while
        paused); ``progress(i, lr, loss)`` follows each batch."""
        import copy

        from .lr_finder import range_test
        if self._control.active and not self._on_training_thread():
            raise TrainingError("pause the training and run the range test with call_soon, or "
                                "stop it first")
        model, optimizer, amp = self.parts.train_model, self.optimizer, self.amp
        params = list(self.model.parameters())
        saved = LastGood(self.model, self.optimizer)
        saved.save(self.global_step)
        grads = [None if p.grad is None else p.grad.clone() for p in params]
        scaler = (copy.deepcopy(amp.scaler.state_dict())
                  if amp is not None and amp.scaler is not None else None)
        rng = capture_global(self.device)
        was_training = model.training
        gen = torch.Generator().manual_seed(derive_seed(self.config.seed, LR_FIND_STREAM))
        source, lb = self._train, self.local_batch
        order: list[torch.Tensor] = []
        cfg = self.config

        def step(lr: float) -> float:
            if not order:
                perm = torch.randperm(source.n, generator=gen)
                order.extend(source.order_for(perm).split(lb))
            x, y = source.take(order.pop(0))
            set_optimizer_lr(optimizer, lr)
            _, loss = forward_loss(model, self.objective, x, y, amp)
            value = float(loss.item())
            if math.isfinite(value):
                apply_update(loss, optimizer, l1=cfg.l1, l1_params=self.parts.l1_params,
                             amp=amp)
            return value

        try:
            torch.manual_seed(derive_seed(cfg.seed, LR_FIND_STREAM, DROPOUT_STREAM))
            model.train()
            return range_test(step, start_lr=start_lr, end_lr=end_lr,
                              num_batches=num_batches, progress=progress)
        finally:
            saved.restore()
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.grad = g
            if scaler is not None:
                amp.scaler.load_state_dict(scaler)
            restore_global(rng, self.device)
            model.train(was_training)

    def resume_from(self, checkpoint) -> None:
        """Continue from a checkpoint (checkpoint.load_checkpoint's result): weights,
        optimizer, position, history, random states. Same data, seed and batch size resume
        the same curve exactly."""
        self.load_state_dict(checkpoint.state)
