"""The Trainer: the training loop with live control and observers.

Threading model: ``run()`` blocks and is meant for a worker thread (``start()`` makes one; a
GUI may use its own QThread and call ``run()`` there). Every other public method may be called
from any thread: pause/resume/stop/step flip flags in the Controller, and anything that touches
the model or optimizer while a run is active (set_lr, set_probe) is queued and executed by the
training thread at the next batch boundary — also while paused. Observers are called on the
training thread with plain-data snapshots.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from ..builder import GraphModule
from ..graph import Graph, Project
from .batches import BatchSource, num_batches
from .config import TrainingConfig, parse_training
from .control import Controller
from .device import DeviceInfo, resolve_device
from .errors import DataMismatchError, TrainingError
from .loop import apply_update, evaluate, forward_loss, make_amp
from .metrics import confusion_matrix, misclassified_cells, per_class_scores, regression_errors
from .observers import ObserverSet, RateLimiter
from .recovery import LastGood
from .optim import lr_factor, set_optimizer_lr
from .rng import AUGMENT_STREAM, SHUFFLE_STREAM, capture_global, derive_seed, restore_global
from .setup import prepare
from .snapshots import (BatchSnapshot, EpochSnapshot, EvalSnapshot, RunInfo, RunResult,
                        StateSnapshot, VisualSnapshot)
from .visuals import (conv_filters, dead_relu_fractions, feature_maps, gradient_norms,
                      probe_prediction, to_numpy)

__all__ = ["Trainer"]

#: Last-good weight copies (for NaN recovery): at most once a second, and at most 0.5 % of
#: the time for models so large that copying them is slow.
GOOD_COPY_HZ = 1.0
GOOD_COPY_BUDGET = 0.005
#: Dead-ReLU fractions in periodic visual snapshots are re-measured at most this often.
DEAD_RELU_HZ = 1.0
#: Validation batch size: larger than training's is fine without gradients.
EVAL_BATCH = 512


class _Meter:
    """Running sums of an epoch. On accelerators they stay on the device (adding costs no host
    sync); on the CPU the loss was read anyway, so plain Python numbers are cheapest."""

    def __init__(self, device: torch.device, classify: bool, host: bool) -> None:
        self.host = host
        if self.host:
            self._loss, self._correct = 0.0, 0
        else:
            dtype = torch.float32 if device.type == "mps" else torch.float64  # no f64 on MPS
            self._loss = torch.zeros((), dtype=dtype, device=device)
            self._correct = torch.zeros((), dtype=torch.int64, device=device)
        self.count = 0
        self.classify = classify

    def add(self, loss: torch.Tensor, value: float | None, pred: torch.Tensor | None,
            y: torch.Tensor, n: int) -> None:
        if self.host:
            self._loss += value * n
            if pred is not None:
                self._correct += int((pred == y).sum())
        else:
            self._loss.add_(loss, alpha=n)
            if pred is not None:
                self._correct.add_((pred == y).sum())
        self.count += n

    @property
    def loss(self) -> float:
        return float(self._loss)

    @property
    def correct(self) -> int:
        return int(self._correct)

    def set(self, loss: float, correct: int, count: int) -> None:
        """Restore sums saved in a checkpoint."""
        if self.host:
            self._loss, self._correct = float(loss), int(correct)
        else:
            self._loss.fill_(float(loss))
            self._correct.fill_(int(correct))
        self.count = int(count)


class Trainer:
    """Train ``graph`` on ``dataset`` with ``config`` (a TrainingConfig or the project's
    "training" dict). Construction checks everything and raises a TrainingError subclass with
    the fix in its message; see docs/training.md."""

    def __init__(self, graph: Graph, dataset, config: TrainingConfig | dict | None = None, *,
                 augment: dict | None = None, model: GraphModule | None = None,
                 observers: Iterable[Any] = (), device: DeviceInfo | None = None) -> None:
        cfg = config if isinstance(config, TrainingConfig) else parse_training(config or {})
        self.config = cfg
        self.graph = graph
        self.dataset = dataset
        self.device_info = device or resolve_device(cfg.device)
        self.device = self.device_info.torch_device
        if model is not None:
            torch.manual_seed(cfg.seed)  # dropout's stream still follows the seed
        self.parts = prepare(graph, dataset, cfg, self.device, model)
        self.model = self.parts.model
        self.optimizer = self.parts.optimizer
        self.objective = self.parts.objective
        self.notes = list(self.parts.notes)
        self.amp = make_amp(self.device, cfg.mixed_precision)
        if cfg.mixed_precision and self.amp is None:
            self.notes.append(f"mixed_precision is for CUDA GPUs; training on "
                              f"{self.device_info.kind} in full precision")
        if self.device.type == "cuda":
            torch.backends.cudnn.deterministic = cfg.deterministic
            torch.backends.cudnn.benchmark = not cfg.deterministic

        self._train = BatchSource(dataset.x_train, dataset.y_train, self.device)
        self._val = BatchSource(dataset.x_val, dataset.y_val, self.device)
        has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                     for m in self.model.modules())
        self.batches_per_epoch = num_batches(self._train.n, cfg.batch_size, has_bn)
        self._shuffle_gen = torch.Generator().manual_seed(derive_seed(cfg.seed, SHUFFLE_STREAM))
        self._augment_gen = torch.Generator().manual_seed(derive_seed(cfg.seed, AUGMENT_STREAM))
        aug = augment or {}
        self._augment = aug if (aug.get("flip") or aug.get("shift")) else None
        # Reading every loss costs nothing on the CPU (NaN check, sums in Python numbers); on
        # a GPU it would sync every batch, so there sums stay on the device and the NaN check
        # rides on the rate-limited ticks and the epoch sums.
        self._host_sums = self.device.type == "cpu"

        # Position and results. epoch = epochs completed; batch = batches done in the current.
        self.epoch = 0
        self.batch = 0
        self.global_step = 0
        self.history: list[EpochSnapshot] = []
        self.base_lr = cfg.lr
        self.state = "idle"
        self.result: RunResult | None = None
        self.last_error: BaseException | None = None
        self._order: torch.Tensor | None = None
        self._epoch_rng: torch.Tensor | None = None   # shuffle state before this epoch's draw
        self._meter = self._new_meter()
        self._epoch_active_start = 0.0
        self._active_before = 0.0     # active seconds of earlier runs
        self._last_loss: torch.Tensor | None = None
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
        self._probe_x: torch.Tensor | None = None
        self._dead_x: torch.Tensor | None = None
        self._dead_cache: dict[str, float] | None = None
        self._dead_rate = RateLimiter(DEAD_RELU_HZ)
        self._clock = time.perf_counter
        self._run_start: float | None = None
        self._paused_total = 0.0
        self._park_start = 0.0
        self._samples = 0

    # --- construction from a project ----------------------------------------------------
    @classmethod
    def from_project(cls, project: Project, base_dir: str | Path | None = None, *,
                     observers: Iterable[Any] = (), **overrides: Any) -> "Trainer":
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
            return cls(project.graph, dataset, config, augment=augment, observers=observers)
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

    def start(self) -> threading.Thread:
        """Run in a new daemon thread; returns it. ``join()`` waits for the end."""
        if not self._control.begin():
            raise TrainingError("this trainer is already running")
        self._done.clear()
        self._thread = threading.Thread(target=self._run_begun, name="layerlab-trainer",
                                        daemon=True)
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
        self._apply(lambda: setattr(self, "config", self.config.with_overrides(epochs=epochs)))

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
    def run(self) -> RunResult:
        """Train up to config.epochs from the current position, blocking. Returns how it
        ended: finished, stopped, diverged (NaN/inf loss; last good weights restored) or
        failed (an unexpected error; see ``last_error``)."""
        if not self._control.begin():
            raise TrainingError("this trainer is already running")
        self._done.clear()
        return self._run_begun()

    def _run_begun(self) -> RunResult:
        self._worker_ident = threading.get_ident()
        self.last_error = None
        result: RunResult | None = None
        try:
            result = self._loop()
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
            self._control.end()
            self._worker_ident = None
        self.result = result
        try:
            self._observers.emit("on_finish", result)
        finally:
            self._done.set()
        return result

    def _loop(self) -> RunResult:
        cfg, ctl = self.config, self._control
        snaps = cfg.snapshots
        restore_global(self._rng, self.device)
        clock = self._clock
        self._run_start = clock()
        self._paused_total = 0.0
        self._samples = 0
        # One wall-clock tick paces batch snapshots and, on accelerators, the loss checks.
        tick = RateLimiter(snaps.batch_hz if snaps.batch_hz > 0 else 20.0)
        self._visual_rate = RateLimiter(snaps.visual_hz, snaps.visual_budget)
        good_rate = RateLimiter(GOOD_COPY_HZ, GOOD_COPY_BUDGET)
        want_batch = self._observers.wants("on_batch") and snaps.batch_hz > 0
        want_visuals = self._observers.wants("on_visuals") and snaps.visual_hz > 0
        self._observers.emit("on_start", self._run_info())
        self._set_state("running", "")
        model, objective, optimizer, amp = (self.parts.train_model, self.objective,
                                            self.optimizer, self.amp)
        source, bs, sync_each = self._train, cfg.batch_size, self._host_sums
        classify = self.dataset.task == "classification"
        l1, l1_params = cfg.l1, self.parts.l1_params
        augment_spec, augment_gen = self._augment, self._augment_gen
        if augment_spec is not None:
            from ..data import augment
        model.train()

        while self.epoch < self.config.epochs:
            if self._order is None:
                self._begin_epoch()
            order, meter = self._order, self._meter
            while self.batch < self.batches_per_epoch:
                if ctl.attention and not ctl.checkpoint(self._on_park, self._on_unpark):
                    return self._finish("stopped", f"stopped at epoch {self.epoch + 1}, batch "
                                                   f"{self.batch} (step {self.global_step})")
                x, y = source.take(order[self.batch * bs:(self.batch + 1) * bs])
                if augment_spec is not None:
                    x = augment(x, augment_spec, augment_gen)
                out, loss = forward_loss(model, objective, x, y, amp)
                now = clock()
                due = tick.ready(now)
                if sync_each or due:
                    value = loss.item()
                    if not math.isfinite(value):
                        return self._diverged(value)
                    if good_rate.ready(now):  # these weights gave a finite loss: keep a copy
                        self._save_good(good_rate)
                apply_update(loss, optimizer, l1=l1, l1_params=l1_params, amp=amp)
                loss = loss.detach()
                n = int(y.shape[0])
                meter.add(loss, value, objective.predict(out.detach()) if classify else None,
                          y, n)
                self._last_loss = loss
                self.batch += 1
                self.global_step += 1
                self._samples += n
                if due:
                    tick.done(now, now)
                    if want_batch:
                        self._observers.emit("on_batch", self._batch_snapshot(value))
                if want_visuals and self._visual_rate.ready(now):
                    self._emit_visuals(forced=False)
            if not self._end_epoch():
                return self._diverged(float("nan"), where=(
                    f"some batch of epoch {self.epoch + 1} (found in the epoch's sums after "
                    f"step {self.global_step})"))
        return self._finish("finished", f"finished {self.epoch} epoch"
                                        f"{'s' if self.epoch != 1 else ''}")

    # --- epochs -----------------------------------------------------------------------------
    def _begin_epoch(self) -> None:
        cfg = self.config
        lr = self.base_lr * lr_factor(cfg.schedule, self.epoch, cfg.epochs)
        set_optimizer_lr(self.optimizer, lr)
        self._draw_order()
        self._meter = self._new_meter()
        self._epoch_active_start = self._active_total()

    def _new_meter(self) -> _Meter:
        return _Meter(self.device, self.dataset.task == "classification", self._host_sums)

    def _draw_order(self) -> None:
        self._epoch_rng = self._shuffle_gen.get_state()
        perm = torch.randperm(self._train.n, generator=self._shuffle_gen)
        self._order = self._train.order_for(perm)

    def _end_epoch(self) -> bool:
        """Validate, record the history row, emit. False when the epoch's loss is not finite
        (found here on GPUs, where losses are not read every batch)."""
        meter = self._meter
        count = max(meter.count, 1)
        train_loss = meter.loss / count
        if not math.isfinite(train_loss):
            return False
        classify = self.dataset.task == "classification"
        train_acc = meter.correct / count if classify else None
        ev = evaluate(self.parts.train_model, self.objective, self._val,
                      max(EVAL_BATCH, self.config.batch_size), self.amp)
        y_val = self.dataset.y_val.numpy()
        preds = ev.predictions.numpy()
        eval_snap = None
        val_acc = mae = rmse = None
        if classify:
            val_acc = float((preds == y_val).mean()) if ev.n else None
        else:
            mae_t, rmse_t = regression_errors(preds, y_val,
                                              self.dataset.normalization.get("target_std"))
            mae, rmse = float(mae_t.mean()), float(rmse_t.mean())
        if self._observers.wants("on_evaluation"):
            eval_snap = self._eval_snapshot(ev.loss, preds, y_val)
        lr = self.optimizer.param_groups[0]["lr"]
        snap = EpochSnapshot(
            epoch=self.epoch + 1, train_loss=train_loss, train_acc=train_acc,
            val_loss=ev.loss, val_acc=val_acc, val_mae=mae, val_rmse=rmse, lr=lr,
            seconds=self._active_total() - self._epoch_active_start, step=self.global_step)
        self.history.append(snap)
        self.epoch += 1
        self.batch = 0
        self._order = None
        self._observers.emit("on_epoch", snap)
        if eval_snap is not None:
            self._observers.emit("on_evaluation", eval_snap)
        return True

    def _eval_snapshot(self, val_loss: float, preds: np.ndarray, y_val: np.ndarray
                       ) -> EvalSnapshot:
        ds = self.dataset
        if ds.task == "classification":
            cm = confusion_matrix(y_val, preds, ds.num_classes)
            precision, recall, f1, support = per_class_scores(cm)
            return EvalSnapshot(
                epoch=self.epoch + 1, task=ds.task, val_loss=val_loss,
                predictions=preds.astype(np.int64), class_names=tuple(ds.class_names),
                confusion=cm, precision=precision, recall=recall, f1=f1, support=support,
                accuracy=float(np.trace(cm) / max(cm.sum(), 1)),
                misclassified=misclassified_cells(
                    y_val, preds, self.config.snapshots.misclassified_per_cell))
        mae, rmse = regression_errors(preds, y_val, ds.normalization.get("target_std"))
        return EvalSnapshot(epoch=self.epoch + 1, task=ds.task, val_loss=val_loss,
                            predictions=preds.astype(np.float32),
                            target_names=tuple(ds.target_names), mae=mae, rmse=rmse)

    # --- divergence -----------------------------------------------------------------------
    def _save_good(self, rate: RateLimiter) -> None:
        start = self._clock()
        self._good.save(self.global_step)
        rate.done(start, self._clock())

    def _diverged(self, value: float, where: str | None = None) -> RunResult:
        what = "NaN" if math.isnan(value) else "infinite"
        lr = self.optimizer.param_groups[0]["lr"]
        where = where or (f"epoch {self.epoch + 1}, batch {self.batch + 1} "
                          f"(step {self.global_step + 1})")
        if self.global_step == 0:
            cause = ("before any update, so the model or the data is at fault: look for "
                     "NaN/huge values in the dataset, or normalize it")
        else:
            suggestion = _round_down(lr / 10)
            cause = (f"the learning rate {lr:g} is probably too high, so the weights blew up — "
                     f"try lr {suggestion:g}")
            if self.amp is not None and self.amp.dtype == torch.float16:
                cause += " (or turn mixed_precision off: float16 overflows above 65,504)"
        restored = ""
        step = self._good.restore()
        if step is not None:
            restored = (" The initial weights were restored." if step == 0 else
                        f" The weights were restored to the last good copy (after step {step}).")
        # The epoch's sums hold the NaN; continuing (after set_lr) starts them afresh.
        self._meter = self._new_meter()
        message = f"the loss became {what} at {where}: {cause}.{restored}"
        return self._finish("diverged", message)

    # --- finishing, state, snapshots ------------------------------------------------------
    def _finish(self, status: str, message: str) -> RunResult:
        if status != "failed" and self._observers.wants("on_visuals"):
            self._emit_visuals(forced=True)
        active = self._active_now()
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
            self._observers.emit("on_batch", self._batch_snapshot(self._last_loss.item()))
        if self._observers.wants("on_visuals"):
            self._emit_visuals(forced=True)

    def _on_unpark(self) -> None:
        restore_global(self._rng, self.device)
        self._paused_total += self._clock() - self._park_start
        if self._control.active and not self._control.stop_requested:
            self._set_state("running", "")

    def _batch_snapshot(self, loss: float) -> BatchSnapshot:
        elapsed = self._active_now()
        rate = self._samples / elapsed if elapsed > 0 else 0.0
        remaining = ((self.config.epochs - self.epoch) * self.batches_per_epoch - self.batch)
        eta = remaining * self.config.batch_size / rate if rate > 0 else math.inf
        meter = self._meter
        count = max(meter.count, 1)
        return BatchSnapshot(epoch=self.epoch + 1, batch=self.batch,
                             batches=self.batches_per_epoch, step=self.global_step,
                             loss=float(loss), running_loss=meter.loss / count,
                             running_acc=meter.correct / count if meter.classify else None,
                             lr=float(self.optimizer.param_groups[0]["lr"]),
                             samples_seen=self._samples, samples_per_s=rate, elapsed_s=elapsed,
                             eta_s=max(eta, 0.0))

    def _emit_visuals(self, forced: bool) -> None:
        if not self._observers.wants("on_visuals") or self.config.snapshots.visual_hz <= 0:
            return
        start = time.perf_counter()
        snap = self.capture_visuals(forced)
        if not forced and hasattr(self, "_visual_rate"):
            self._visual_rate.done(start, time.perf_counter())
        self._observers.emit("on_visuals", snap)

    def capture_visuals(self, forced: bool = True) -> VisualSnapshot:
        """A VisualSnapshot now. Call it when no run is active, or from an observer (the
        training thread); while a run is active, use set_probe or pause to get one."""
        snaps = self.config.snapshots
        model = self.model
        probe_x, probe_target = self._probe()
        maps, probe_out = {}, None
        if probe_x is not None:
            outputs = feature_maps(model, probe_x)
            probe_out = probe_prediction(self.objective, outputs[self.parts.loss_node])
            if snaps.feature_maps:
                maps = {k: to_numpy(v[0]) for k, v in outputs.items()}
            del outputs
        dead = {}
        if snaps.dead_relu and self.parts.relu_ids and self._val.n:
            # The costliest part (a forward pass over the probe batch) and a slow-moving
            # statistic: measured at most once a second, fresh in every forced snapshot.
            now = time.perf_counter()
            if forced or self._dead_rate.ready(now) or self._dead_cache is None:
                if self._dead_x is None:
                    k = min(snaps.probe_batch, self._val.n)
                    self._dead_x = self._val.range(0, k)[0]
                self._dead_cache = dead_relu_fractions(model, self.parts.relu_ids,
                                                       self._dead_x)
                self._dead_rate.done(now, now)
            dead = dict(self._dead_cache)
        return VisualSnapshot(
            epoch=self.epoch + 1, step=self.global_step,
            filters=conv_filters(model, self.parts.conv_ids) if snaps.filters else {},
            feature_maps=maps,
            grad_norms=gradient_norms(model) if snaps.gradients else {},
            dead_relu=dead, probe_index=self._probe_index, probe_target=probe_target,
            probe_output=probe_out, forced=forced)

    def _probe(self) -> tuple[torch.Tensor | None, Any]:
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
            notes=tuple(self.notes))

    def _set_lr_now(self, lr: float) -> None:
        factor = lr_factor(self.config.schedule, self.epoch, self.config.epochs)
        self.base_lr = lr / factor if factor > 1e-12 else lr
        set_optimizer_lr(self.optimizer, lr)

    # --- checkpoints ----------------------------------------------------------------------
    def _on_training_thread(self) -> bool:
        return self._worker_ident == threading.get_ident()

    def capture_state(self) -> dict[str, Any]:
        """Everything a checkpoint needs: {"weights", "tensors", "meta"}. Call it when no run
        is active, while paused, or from an observer on the training thread."""
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
            "meter": {"loss": self._meter.loss, "correct": self._meter.correct,
                      "count": self._meter.count},
            "history": [asdict(h) for h in self.history],
            "config": self.config.to_dict(),
            "num_train": self._train.n, "num_val": self._val.n,
            "batches_per_epoch": self.batches_per_epoch,
            "dataset": self.dataset.name, "task": self.dataset.task,
            "device": self.device_info.device,
        }
        return {"weights": self.model.state_dict(), "tensors": tensors, "meta": meta}

    def resume_from(self, checkpoint) -> None:
        """Continue from a checkpoint (checkpoint.load_checkpoint's result): weights,
        optimizer, position, history, random states. Same data, seed and batch size resume
        the same curve exactly."""
        from .checkpoint import apply_checkpoint
        if self._control.active:
            raise TrainingError("cannot load a checkpoint while training runs — stop it first")
        apply_checkpoint(self, checkpoint)


def _round_down(x: float) -> float:
    """One significant digit, rounded down: 0.0347 → 0.03."""
    if x <= 0:
        return x
    exp = math.floor(math.log10(x))
    return math.floor(x / 10**exp) * 10**exp
