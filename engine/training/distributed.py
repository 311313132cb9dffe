"""DistributedDataParallel training: one process per GPU (or CPU worker), launched by torchrun.

    torchrun --standalone --nproc_per_node=4 -m layerlab.engine.train my_net.json --epochs 20

Every process builds the same Trainer (same project, config, seed, hence the same initial
weights) and uses it as the state holder: model, optimizer, objective, data, history and the
checkpoint format all come from the single-process engine. This module only adds what DDP
needs: the process groups, the model wrapped in DistributedDataParallel, each epoch's sharding
of one global permutation (DistributedSampler's scheme), and epoch metrics all-reduced so the
history is the global one. See docs/distributed.md.

Process groups: a gloo group (the default one) for coordination — agreeing on setup errors,
reducing the epoch sums — and, on GPUs, an NCCL group for DDP's gradient all-reduce. Both have
a timeout, so a process that stops answering ends the run with an error instead of a hang.
"""
from __future__ import annotations

import datetime
import gc
import math
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
# Before any process group exists: this module's functions take ``group=group.WORLD`` as a
# default argument, evaluated when it is imported — which DistributedDataParallel does on first
# use. Imported after init_process_group, those defaults would hold the default group for
# good, so destroying it could never join its threads (see shutdown_process_groups).
try:
    import torch.distributed.nn.functional  # noqa: F401
except ImportError:  # a build without it: DDP cannot import it either
    pass
from torch.nn.parallel import DistributedDataParallel

from .batches import BatchSource, num_batches
from .errors import DeviceError, TrainingError
from .loop import apply_update, evaluate, forward_loss
from .optim import lr_factor, set_optimizer_lr
from .recovery import LastGood
from .rng import capture_global
from .snapshots import BatchSnapshot, EpochSnapshot, RunResult

__all__ = ["DistEnv", "DistributedTraining", "pick_device", "choose_backend", "shard_indices",
           "shard_range", "run_distributed", "shutdown_process_groups", "communication_threads",
           "DEFAULT_TIMEOUT_S"]

#: Seconds a collective may wait for the other processes before the run fails.
DEFAULT_TIMEOUT_S = 600
#: Validation batch size (as the Trainer's: no gradients, so larger is fine).
EVAL_BATCH = 512
#: Per-rank random streams (the Trainer's shuffle/augment streams are 1 and 2).
_DROPOUT_STREAM = 101
_AUGMENT_STREAM = 102


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits, from the variables torchrun sets."""
    rank: int               # RANK: 0 .. world_size-1 over all machines
    world_size: int         # WORLD_SIZE: processes in the job
    local_rank: int         # LOCAL_RANK: index on this machine (its GPU)
    local_world_size: int   # LOCAL_WORLD_SIZE: processes on this machine
    node_rank: int          # GROUP_RANK: this machine's index

    @classmethod
    def from_environ(cls, environ: dict | None = None) -> "DistEnv | None":
        """None when WORLD_SIZE is unset (not launched by torchrun: a single process)."""
        env = os.environ if environ is None else environ
        if "WORLD_SIZE" not in env:
            return None
        try:
            world = int(env["WORLD_SIZE"])
            rank = int(env.get("RANK", "0"))
            local_rank = int(env.get("LOCAL_RANK", str(rank)))
            local_world = int(env.get("LOCAL_WORLD_SIZE", str(world)))
            node = int(env.get("GROUP_RANK", "0"))
        except ValueError:
            raise TrainingError("WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers (launch "
                                "with torchrun, which sets them)") from None
        if world < 1 or not 0 <= rank < world or local_rank < 0:
            raise TrainingError(f"inconsistent torchrun variables: RANK {rank}, WORLD_SIZE "
                                f"{world}, LOCAL_RANK {local_rank}")
        return cls(rank, world, local_rank, max(local_world, 1), node)

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(requested: str, env: DistEnv) -> tuple[str, str]:
    """(torch device string, note) for this process: each process takes the GPU of its
    LOCAL_RANK; "auto" falls back to the CPU when there is no CUDA GPU."""
    from .device import resolve_device
    if requested == "cpu":
        return "cpu", ""
    if requested == "mps":
        raise DeviceError("device 'mps' cannot train distributed: PyTorch's DDP backends (NCCL, "
                          "gloo) do not run on Apple MPS — use --device cpu")
    if not torch.cuda.is_available():
        if requested == "auto":
            return "cpu", "auto: no CUDA GPU found, so every process trains on the CPU (gloo)"
        resolve_device("cuda")  # raises DeviceError saying why CUDA is missing
    count = torch.cuda.device_count()
    if env.local_rank < count:
        index = env.local_rank
    elif count == 1:  # the launcher shows each process one GPU (CUDA_VISIBLE_DEVICES)
        index = 0
    else:
        raise DeviceError(f"{env.local_world_size} processes on this machine but only {count} "
                          f"CUDA GPUs: use --nproc_per_node={count} (one process per GPU)")
    note = ""
    if requested.startswith("cuda:") and requested != f"cuda:{index}":
        note = (f"device {requested} is ignored under torchrun: each process uses the GPU of "
                f"its LOCAL_RANK (cuda:{index} here)")
    return f"cuda:{index}", note


def choose_backend(device: str, requested: str = "auto") -> str:
    """The backend of DDP's gradient all-reduce: NCCL on CUDA GPUs, gloo on the CPU."""
    cuda = device.startswith("cuda")
    if requested == "auto":
        return "nccl" if cuda and dist.is_nccl_available() else "gloo"
    if requested == "nccl":
        if not cuda:
            raise DeviceError("the nccl backend needs CUDA GPUs; on the CPU use gloo "
                              "(--backend auto picks it)")
        if not dist.is_nccl_available():
            raise DeviceError("this PyTorch build has no NCCL; use --backend gloo")
    elif requested != "gloo":
        raise DeviceError(f"unknown backend {requested!r} (use auto, nccl or gloo)")
    return requested


def shard_indices(order: torch.Tensor, rank: int, world: int) -> tuple[torch.Tensor, int]:
    """This rank's share of one epoch's permutation, as DistributedSampler (drop_last=False)
    takes it: pad the permutation by repeating its start to a multiple of ``world``, then every
    ``world``-th index from position ``rank``. Returns (indices, valid): the first ``valid`` are
    real samples, the rest padding (repeats, at most one per rank). Batch k of every rank
    together is positions k·b·world … (k+1)·b·world − 1 of the permutation: the same global
    batches a single process with batch b·world draws."""
    n = int(order.shape[0])
    total = -(-n // world) * world
    if total > n:
        reps = -(-total // n)
        order = order.repeat(reps)[:total] if reps > 1 else torch.cat([order, order[:total - n]])
    return order[rank:total:world], len(range(rank, n, world))


def shard_range(n: int, rank: int, world: int) -> tuple[int, int]:
    """Contiguous [start, stop) of ``n`` samples for ``rank`` (validation: no padding)."""
    return n * rank // world, n * (rank + 1) // world


def _seed(*parts: int) -> int:
    value = np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)[0]
    return int(value) & (2**63 - 1)


def _unused_parameters(model) -> bool:
    """Whether some layer with parameters does not feed the loss (a dangling branch): DDP then
    has to look for parameters without gradients every step."""
    needed, stack = set(), [model.output_id]
    while stack:
        node = stack.pop()
        if node not in needed:
            needed.add(node)
            stack.extend(model.sources.get(node, []))
    return any(any(True for _ in model.layers[n].parameters())
               for n in model.order if n not in needed)


def _sync_buffers_kwarg() -> dict:
    # Rank 0's buffers (BatchNorm statistics) go to every rank at each forward: the default,
    # spelled forward_sync_buffers since torch 2.13 and broadcast_buffers before.
    import inspect
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    return ({"forward_sync_buffers": True} if "forward_sync_buffers" in params
            else {"broadcast_buffers": True})


_SYNC_BUFFERS = _sync_buffers_kwarg()


def _round_down(x: float) -> float:
    if x <= 0:
        return x
    exp = math.floor(math.log10(x))
    return math.floor(x / 10**exp) * 10**exp


class DistributedTraining:
    """The DDP loop around a Trainer built identically in every process (the Trainer holds
    the model, optimizer, data, position and history; ``save_checkpoint(dir, trainer)`` then
    writes the usual checkpoint). Call ``run()`` in every process of an initialized process
    group. ``group`` is the group for DDP's gradients (None: the default group);
    epoch sums are reduced on ``control_group`` (a gloo group; None: the default group)."""

    def __init__(self, trainer, env: DistEnv, *, group=None, control_group=None,
                 on_batch: Callable[[BatchSnapshot], None] | None = None,
                 on_epoch: Callable[[EpochSnapshot], None] | None = None) -> None:
        self.trainer, self.env = trainer, env
        self.group, self.control_group = group, control_group
        self.on_batch, self.on_epoch = on_batch, on_epoch
        cfg, device, ds = trainer.config, trainer.device, trainer.dataset
        self.world = env.world_size
        if cfg.batch_size < self.world:
            raise TrainingError(f"the global batch size {cfg.batch_size} is smaller than the "
                                f"number of processes ({self.world}): use --batch-size "
                                f"{self.world} or more")
        self.local_batch = -(-cfg.batch_size // self.world)
        self.global_batch = self.local_batch * self.world
        self.classify = ds.task == "classification"
        model = trainer.model
        has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                     for m in model.modules())
        self.buffers = [b for b in model.buffers()]
        self.ddp = DistributedDataParallel(
            trainer.parts.train_model,
            device_ids=[device.index or 0] if device.type == "cuda" else None,
            process_group=group, **_SYNC_BUFFERS,
            find_unused_parameters=_unused_parameters(trainer.parts.train_model))
        # The Trainer's own sources (the data is on the device once, not twice); every rank
        # keeps the whole training split, since each epoch shards a new permutation of it.
        self.source = getattr(trainer, "_train", None) or BatchSource(ds.x_train, ds.y_train,
                                                                      device)
        self.n_train = self.source.n
        self.shard_len = -(-self.n_train // self.world)
        self.batches_per_epoch = num_batches(self.shard_len, self.local_batch, has_bn)
        self.n_val = int(ds.x_val.shape[0])
        a, b = shard_range(self.n_val, env.rank, self.world)
        full_val = getattr(trainer, "_val", None)
        if full_val is not None:  # views of it: .to() of a tensor already there copies nothing
            self.val = BatchSource(full_val.x[a:b], full_val.y[a:b], device)
        else:
            self.val = BatchSource(ds.x_val[a:b], ds.y_val[a:b], device)
        self.y_val = ds.y_val[a:b]
        aug = getattr(trainer, "_augment", None)
        self.augment_spec = aug if aug else None
        self.good = LastGood(model, trainer.optimizer)
        self.samples = 0          # training samples of this run, all processes together
        self.seconds = 0.0
        self._last_tick = 0.0

    # --- the loop -------------------------------------------------------------------------
    def run(self) -> RunResult:
        t = self.trainer
        start = time.perf_counter()
        self._run_start = start
        self.ddp.train()
        status, message = "finished", ""
        while t.epoch < t.config.epochs:
            snap = self._epoch()
            if snap is None:
                status, message = "diverged", self.divergence
                break
            if self.on_epoch is not None:
                self.on_epoch(snap)
        if status == "finished":
            message = f"finished {t.epoch} epoch{'s' if t.epoch != 1 else ''}"
        return self.result(status, message)

    def result(self, status: str, message: str) -> RunResult:
        t = self.trainer
        self.seconds = time.perf_counter() - getattr(self, "_run_start", time.perf_counter())
        return RunResult(status=status, message=message, epochs_completed=t.epoch,
                         steps=t.global_step, history=tuple(t.history), seconds=self.seconds,
                         samples_per_s=self.samples / self.seconds if self.seconds else 0.0,
                         device=t.device_info.device)

    def _epoch(self) -> EpochSnapshot | None:
        t, cfg, env = self.trainer, self.trainer.config, self.env
        epoch = t.epoch
        lr = t.base_lr * lr_factor(cfg.schedule, epoch, cfg.epochs)
        set_optimizer_lr(t.optimizer, lr)
        # One permutation for everybody (the Trainer's own shuffle stream: same seed, same
        # order on every rank), then this rank's share.
        epoch_rng = t._shuffle_gen.get_state()
        perm = torch.randperm(self.n_train, generator=t._shuffle_gen)
        idx, valid = shard_indices(perm, env.rank, self.world)
        order = self.source.order_for(idx)
        # Dropout and augmentation differ per rank (different samples, different masks) but
        # depend only on (seed, epoch, rank), so a resumed run draws the same ones.
        torch.manual_seed(_seed(cfg.seed, _DROPOUT_STREAM, epoch, env.rank))
        aug_gen = None
        if self.augment_spec is not None:
            from ..data import augment
            aug_gen = torch.Generator().manual_seed(
                _seed(cfg.seed, _AUGMENT_STREAM, epoch, env.rank))
        self.good.save(t.global_step)
        device = t.device
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        count = 0
        epoch_start = time.perf_counter()
        lb, objective, optimizer, amp = self.local_batch, t.objective, t.optimizer, t.amp
        l1, l1_params = cfg.l1, t.parts.l1_params
        for k in range(self.batches_per_epoch):
            sel = order[k * lb:(k + 1) * lb]
            x, y = self.source.take(sel)
            if aug_gen is not None:
                x = augment(x, self.augment_spec, aug_gen)
            out, loss = forward_loss(self.ddp, objective, x, y, amp)
            apply_update(loss, optimizer, l1=l1, l1_params=l1_params, amp=amp)
            nv = min(max(valid - k * lb, 0), int(y.shape[0]))  # padding excluded from sums
            if nv:
                loss_sum.add_(loss.detach().double(), alpha=nv)
                if self.classify:
                    correct.add_((objective.predict(out.detach()[:nv]) == y[:nv]).sum())
            count += nv
            t.global_step += 1
            self.samples += nv * self.world  # ≈ the global count (padding is < 1 per rank)
            if self.on_batch is not None:
                now = time.perf_counter()
                if now - self._last_tick >= 0.1 or k + 1 == self.batches_per_epoch:
                    self._last_tick = now
                    self.on_batch(self._batch_snapshot(epoch, k + 1, loss.detach(), loss_sum,
                                                       correct, count, lr))
        return self._end_epoch(epoch, epoch_rng, loss_sum, correct, count, lr, epoch_start)

    def _end_epoch(self, epoch, epoch_rng, loss_sum, correct, count, lr,
                   epoch_start) -> EpochSnapshot | None:
        t = self.trainer
        # BatchNorm running statistics: each rank updated them on its own batches; validate
        # (and checkpoint) with rank 0's, as DDP's next forward would broadcast them anyway.
        for b in self.buffers:
            dist.broadcast(b, 0, group=self.group)
        ev = evaluate(t.parts.train_model, t.objective, self.val,
                      max(EVAL_BATCH, t.config.batch_size), t.amp)
        stats = [float(loss_sum), float(correct), float(count),
                 ev.loss * ev.n if ev.n else 0.0, float(ev.n)]
        if self.classify:
            stats.append(float((ev.predictions == self.y_val).sum()) if ev.n else 0.0)
        else:
            width = len(t.dataset.target_names)
            if ev.n:
                diff = ev.predictions.double() - self.y_val.double()
                stats += diff.abs().sum(0).tolist() + (diff ** 2).sum(0).tolist()
            else:
                stats += [0.0] * (2 * width)
        total = torch.tensor(stats, dtype=torch.float64)
        dist.all_reduce(total, group=self.control_group)
        s = total.tolist()
        train_n = max(s[2], 1.0)
        train_loss = s[0] / train_n
        if not math.isfinite(train_loss):
            self._diverged(epoch, epoch_rng, lr)
            return None
        val_n = s[4]
        val_loss = s[3] / val_n if val_n else float("nan")
        val_acc = mae = rmse = None
        if self.classify:
            val_acc = s[5] / val_n if val_n else None
        elif val_n:
            width = len(t.dataset.target_names)
            std = t.dataset.normalization.get("target_std")
            scale = np.ones(width) if std is None else np.asarray(std, np.float64).reshape(-1)
            abs_sum, sq_sum = np.array(s[5:5 + width]), np.array(s[5 + width:5 + 2 * width])
            mae = float((abs_sum / val_n * scale).mean())
            rmse = float((np.sqrt(sq_sum / val_n) * scale).mean())
        snap = EpochSnapshot(
            epoch=epoch + 1, train_loss=train_loss,
            train_acc=s[1] / train_n if self.classify else None,
            val_loss=val_loss, val_acc=val_acc, val_mae=mae, val_rmse=rmse,
            lr=float(t.optimizer.param_groups[0]["lr"]),
            seconds=time.perf_counter() - epoch_start, step=t.global_step)
        t.history.append(snap)
        t.epoch = epoch + 1
        t.batch = 0
        return snap

    def _diverged(self, epoch: int, epoch_rng: torch.Tensor, lr: float) -> None:
        t = self.trainer
        step = self.good.step
        self.good.restore()  # the same weights everywhere: every rank agrees on the NaN
        t._shuffle_gen.set_state(epoch_rng)  # a resumed run redraws this epoch's order
        t.global_step = step if step is not None else t.global_step
        cause = (f"the learning rate {lr:g} is probably too high — try lr "
                 f"{_round_down(lr / 10):g}" + ("" if epoch else " (or the data is at fault: "
                                                 "look for NaN or huge values in the dataset, "
                                                 "or normalize it)"))
        self.divergence = (f"the loss became NaN or infinite in epoch {epoch + 1} (found in the "
                           f"epoch's sums over all processes): {cause}. The weights were "
                           f"restored to the start of epoch {epoch + 1}.")

    def _batch_snapshot(self, epoch, batch, loss, loss_sum, correct, count, lr) -> BatchSnapshot:
        elapsed = time.perf_counter() - self._run_start
        rate = self.samples / elapsed if elapsed > 0 else 0.0
        cfg = self.trainer.config
        remaining = (cfg.epochs - epoch) * self.batches_per_epoch - batch
        eta = remaining * self.global_batch / rate if rate > 0 else math.inf
        n = max(count, 1)
        return BatchSnapshot(
            epoch=epoch + 1, batch=batch, batches=self.batches_per_epoch,
            step=self.trainer.global_step, loss=float(loss), running_loss=float(loss_sum) / n,
            running_acc=float(correct) / n if self.classify else None, lr=lr,
            samples_seen=self.samples, samples_per_s=rate, elapsed_s=elapsed,
            eta_s=max(eta, 0.0))

    def close(self) -> None:
        """Free the DDP wrapper: its reducer holds the process groups, which cannot be torn
        down (their threads joined) while it lives. The trainer and its model stay."""
        self.ddp = None

    # --- checkpoints ------------------------------------------------------------------------
    def save(self, directory: Path, project=None) -> Path:
        """Rank 0: the usual checkpoint of the (unwrapped) model at an epoch boundary."""
        from .checkpoint import save_checkpoint
        t = self.trainer
        t._rng = capture_global(t.device)  # captured now (the Trainer keeps it at pauses)
        return save_checkpoint(directory, t, project)


# --- the `python -m layerlab.engine.train` entry under torchrun ------------------------------

class _Terminated(KeyboardInterrupt):
    """SIGTERM (torchrun stopping the job, or a GUI stopping the process)."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001
    raise _Terminated()


@dataclass
class _Setup:
    project: Any
    trainer: Any
    out: Path
    backend: str
    notes: list[str] = field(default_factory=list)


def _setup(args, env: DistEnv) -> _Setup:
    """Everything before training, identical in every process. Raises with a message."""
    from ..locations import checkpoint_in, open_project
    from .checkpoint import load_checkpoint
    from .config import parse_training
    from .trainer import Trainer

    opened = open_project(args.file)
    project, base_dir, default_out = opened.project, opened.base_dir, opened.run_dir
    overrides = {"epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size}
    config = parse_training(project.training, **overrides, device=args.device)
    device, note = pick_device(config.device, env)
    backend = choose_backend(device, args.backend)
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    if config.batch_size < env.world_size:
        raise TrainingError(f"the global batch size {config.batch_size} is smaller than the "
                            f"number of processes ({env.world_size}): use --batch-size "
                            f"{env.world_size} or more")
    trainer = Trainer.from_project(project, base_dir, **overrides, device=device)
    notes = [note] if note else []
    if args.resume:
        trainer.resume_from(load_checkpoint(checkpoint_in(args.resume)))
        if trainer.batch:  # saved mid-epoch by a single-process run: restart that epoch
            trainer._shuffle_gen.set_state(trainer._epoch_rng)
            trainer._order, trainer.batch = None, 0
            trainer._meter = trainer._new_meter()
            notes.append(f"the checkpoint was saved in the middle of epoch {trainer.epoch + 1}; "
                         f"distributed training restarts that epoch (the weights keep the "
                         f"updates already made)")
    out = Path(args.out) if args.out else default_out
    if env.is_main:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrainingError(f"cannot create the run folder {out}: "
                                f"{exc.strerror or exc}") from None
        if args.metrics_json and not Path(args.metrics_json).resolve().parent.is_dir():
            raise TrainingError(f"cannot write --metrics-json {args.metrics_json}: its folder "
                                f"does not exist")
    return _Setup(project, trainer, out, backend, notes)


def _describe(exc: BaseException) -> tuple[str, int]:
    """(message, exit code) for a setup error: 2 for the project's or the settings' fault."""
    from ..project import ProjectLoadError
    if isinstance(exc, (ProjectLoadError, TrainingError)):
        return str(exc), 2
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 2
    return f"{type(exc).__name__}: {exc}", 1


def _comm_error(exc: BaseException) -> bool:
    backend_error = getattr(dist, "DistBackendError", ())
    text = str(exc).lower()
    return (isinstance(exc, backend_error) if backend_error else False) or any(
        s in text for s in ("connection closed", "connection reset", "broken pipe", "timed out",
                            "timeout", "peer", "gloo", "nccl"))


def run_distributed(args, env: DistEnv) -> int:
    """The torchrun entry: every process calls this. Returns the exit code (the same one on
    every process when they can still agree)."""
    err = sys.stderr
    timeout = datetime.timedelta(seconds=args.dist_timeout)
    who = f"rank {env.rank}"
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass
    try:
        dist.init_process_group("gloo", timeout=timeout)
    except Exception as exc:  # noqa: BLE001 — no group, nobody to agree with: say why
        print(f"error: {who} cannot join the other processes: {type(exc).__name__}: {exc}",
              file=err)
        return 1
    code, held = 1, _Held()
    try:
        code = _run(args, env, timeout, held)
    except KeyboardInterrupt:
        code = 130
    finally:
        shutdown_process_groups(held.training, held.subgroups)
    return code


@dataclass
class _Held:
    """What _run made that holds a process group, so the shutdown can free it in order."""
    training: "DistributedTraining | None" = None
    subgroups: list = field(default_factory=list)


def shutdown_process_groups(training: DistributedTraining | None = None,
                            subgroups=()) -> None:
    """Tear the process groups down in order, so that no communication thread outlives them.

    Each gloo group runs C++ threads that finish collectives in the background; a thread may
    still hold the last reference to a tensor Python created (an all-reduced result) after
    the caller was told the collective completed. If that thread is still alive when the
    interpreter finalizes, freeing the tensor needs the GIL, the thread is unwound, and the
    process aborts ("terminate called without an active exception"). A group's threads are
    joined only when the group is destroyed, which cannot happen while DDP's reducer — or
    any subgroup — still holds it. Hence: free DDP and collect it, destroy the subgroups,
    then the default group, and collect again, so the groups' destructors (which join the
    threads, releasing the GIL) run now and not at exit. No barrier here: a run that ended
    normally has just agreed on its exit code in an all-reduce, which is one, and after a
    failure a peer may be gone, so waiting for it would hang until the timeout.
    """
    if not dist.is_initialized():
        return
    if training is not None:
        training.close()
    gc.collect()
    for group in subgroups:
        try:
            dist.destroy_process_group(group)
        except Exception:  # noqa: BLE001 — broken by a peer's failure
            pass
    try:
        dist.destroy_process_group()
    except Exception:  # noqa: BLE001
        pass
    gc.collect()


def communication_threads() -> list[str]:
    """Names of this process's threads that belong to a process group's backend (Linux;
    empty elsewhere): after :func:`shutdown_process_groups` there are none."""
    names = []
    for comm in Path("/proc/self/task").glob("*/comm"):
        try:
            name = comm.read_text().strip()
        except OSError:
            continue
        if name.startswith(("pt_gloo", "gloo_", "pt_nccl", "pt_nccl_watchdg")):
            names.append(name)
    return names


def _run(args, env: DistEnv, timeout: datetime.timedelta, held: _Held) -> int:
    err = sys.stderr
    main = env.is_main
    metrics_path = Path(args.metrics_json) if (args.metrics_json and main) else None

    # 1. Setup in every process, then agree: one failure stops everybody, with its message.
    setup, failure, code = None, None, 0
    try:
        setup = _setup(args, env)
    except Exception as exc:  # noqa: BLE001 — reported below
        failure, code = _describe(exc)
    failures: list[Any] = [None] * env.world_size
    dist.all_gather_object(failures, failure)
    if any(f is not None for f in failures):
        if main:
            distinct: dict[str, list[int]] = {}
            for rank, f in enumerate(failures):
                if f is not None:
                    distinct.setdefault(f, []).append(rank)
            for message, ranks in distinct.items():
                if len(ranks) == env.world_size:
                    print(f"error: {message}", file=err)
                else:
                    where = ", ".join(map(str, ranks))
                    print(f"error on rank{'s' if len(ranks) > 1 else ''} {where}: {message}",
                          file=err)
            if metrics_path is not None:
                _write_failed(metrics_path, "; ".join(distinct), setup)
        return code or 2

    project, trainer, out = setup.project, setup.trainer, setup.out
    group = None
    if setup.backend == "nccl":
        group = dist.new_group(backend="nccl", timeout=timeout)
        held.subgroups.append(group)
    from ..commands.train import Progress, print_result, write_history
    from .follow import new_run_id, write_metrics
    progress = None
    if main:
        progress = Progress(err, trainer.config.epochs)
    run_id = new_run_id()
    training: DistributedTraining | None = None
    saved_epoch: list[int] = []   # the epoch of the last checkpoint written during the run

    def document(status: str, message: str, result: RunResult | None = None) -> dict:
        t = trainer
        rows = [h.row() for h in t.history]
        final = (result.final if result is not None else
                 {**(rows[-1] if rows else {}), "status": status, "steps": t.global_step})
        seconds = result.seconds if result is not None else (
            time.perf_counter() - training._run_start
            if training is not None and hasattr(training, "_run_start") else 0.0)
        rate = result.samples_per_s if result is not None else (
            training.samples / seconds if training is not None and seconds else None)
        return {"final": final, "history": rows, "device": t.device_info.device,
                "device_name": t.device_info.name, "samples_per_s": rate, "seconds": seconds,
                "status": status, "message": message, "project": project.name,
                "dataset": t.dataset.name, "run_id": run_id, "epochs": t.config.epochs,
                "updated": time.time(), "world_size": env.world_size,
                "backend": setup.backend,
                "global_batch": training.global_batch if training else t.config.batch_size,
                "batch_per_process": training.local_batch if training else None}

    def live(snap: EpochSnapshot) -> None:
        if progress is not None:
            progress.on_epoch(snap)
        every = trainer.config.checkpoint_every
        if main and every and snap.epoch % every == 0 and snap.epoch < trainer.config.epochs:
            training.save(out / "checkpoint", project)
            saved_epoch[:] = [snap.epoch]
        if metrics_path is not None:
            write_metrics(metrics_path, document("running", ""))

    # 2. Train. Any error in any process ends the run; the others notice at their next
    # collective (a closed connection, or the timeout) and end too.
    try:
        training = DistributedTraining(trainer, env, group=group,
                                       on_batch=progress.on_batch if progress else None,
                                       on_epoch=live)
        held.training = training
        if main:
            _header(trainer, env, setup, training, out)
            if metrics_path is not None:
                write_metrics(metrics_path, document("running", ""))
        result = training.run()
    except KeyboardInterrupt as exc:
        if main:
            what = "terminated (SIGTERM)" if isinstance(exc, _Terminated) else "interrupted"
            saved = (f"the last checkpoint in {out / 'checkpoint'} is from epoch "
                     f"{saved_epoch[0]}" if saved_epoch else
                     "no checkpoint was written (training.checkpoint_every saves one every N "
                     "epochs)")
            message = f"{what} during epoch {trainer.epoch + 1}; {saved}"
            print(f"\n{message}", file=err)
            if metrics_path is not None:
                _try_write(metrics_path, document("stopped", message))
        return 130
    except Exception as exc:  # noqa: BLE001
        peer = _comm_error(exc) and not isinstance(exc, TrainingError)
        what = str(exc) if isinstance(exc, TrainingError) else f"{type(exc).__name__}: {exc}"
        message = (f"{'lost contact with another process' if peer else 'training failed'} on "
                   f"rank {env.rank}: {what}"
                   + (" (another process probably failed first: see its message)"
                      if peer else ""))
        print(f"\nerror: {message}", file=err)
        if metrics_path is not None:
            _try_write(metrics_path, document("failed", message))
        return 1

    # 3. Rank 0 writes the results; everybody exits with the same code.
    code = 0 if result.status == "finished" else 1
    if main:
        try:
            training.save(out / "checkpoint", project)
            write_history(out, [h.row() for h in result.history])
            if metrics_path is not None:
                write_metrics(metrics_path, document(result.status, result.message, result))
        except (OSError, TrainingError) as exc:
            print(f"error: cannot write the results: {exc}", file=err)
            code = 1
        else:
            print_result(result, out, metrics_path, f"{env.world_size} × {result.device}")
        if result.status != "finished":
            print(f"error: {result.message}", file=err)
    agreed = torch.tensor([code], dtype=torch.int64)
    try:
        dist.all_reduce(agreed, op=dist.ReduceOp.MAX)
        code = int(agreed.item())
    except Exception:  # noqa: BLE001 — keep our own code
        pass
    return code


def _try_write(path: Path, document: dict) -> None:
    from .follow import write_metrics
    try:
        write_metrics(path, document)
    except OSError:
        pass


def _write_failed(path: Path, message: str, setup: _Setup | None) -> None:
    from .follow import new_run_id
    _try_write(path, {"final": {"status": "failed", "steps": 0}, "history": [], "device": "",
                      "device_name": "", "samples_per_s": None, "seconds": 0.0,
                      "status": "failed", "message": message,
                      "project": setup.project.name if setup else "",
                      "dataset": setup.trainer.dataset.name if setup else "",
                      "run_id": new_run_id(), "epochs": None, "updated": time.time()})


def _header(trainer, env: DistEnv, setup: _Setup, training: DistributedTraining,
            out: Path) -> None:
    err = sys.stderr
    cfg, ds = trainer.config, trainer.dataset
    machines = max(env.world_size // env.local_world_size, 1)
    print(f"training '{setup.project.name}' on {ds.name} ({training.n_train:,} train / "
          f"{training.n_val:,} validation samples)", file=err)
    print(f"distributed: {env.world_size} processes ({env.local_world_size} per machine, "
          f"{machines} machine{'s' if machines != 1 else ''}), backend {setup.backend}; "
          f"rank 0 on {socket.gethostname()} writes {out.resolve()}", file=err)
    print(f"device: {trainer.device_info.describe()} on rank 0", file=err)
    print(f"{cfg.optimizer} lr {cfg.lr:g}, global batch {training.global_batch} "
          f"({env.world_size} × {training.local_batch}), {cfg.epochs} epochs, loss "
          f"{trainer.objective.loss}" + (f", resuming after epoch {trainer.epoch}"
                                         if trainer.epoch else ""), file=err)
    notes = list(setup.notes) + list(trainer.notes)
    if training.global_batch != cfg.batch_size:
        notes.append(f"the global batch {cfg.batch_size} is not a multiple of "
                     f"{env.world_size} processes: each takes {training.local_batch} samples "
                     f"per step, so a step sees {training.global_batch}")
    for note in notes:
        print(f"note: {note}", file=err)
