"""DistributedDataParallel as a strategy of the one training loop (strategy.py): one process
per GPU (or CPU worker), launched by torchrun.

    torchrun --standalone --nproc_per_node=4 -m layerlab.engine.train my_net.json --epochs 20

Every process builds the same Trainer (same project, config, seed, hence the same initial
weights) with a ``DDPStrategy``: the Trainer's own loop then trains this process's shard of
every global batch in DistributedDataParallel and combines the epoch's sums and predictions
over all processes, so the history is the global one. This module holds what only DDP needs:
where a process sits (``DistEnv``), its device and backend, the sharding, the strategy, and
the orderly shutdown of the process groups. The torchrun command itself (process groups,
agreeing on setup errors, rank 0 writing the run folder) is engine/commands/train_distributed.py.
See docs/distributed.md.

Process groups: a gloo group (the default one) for coordination — agreeing on setup errors,
reducing the epoch sums — and, on GPUs, an NCCL group for DDP's gradient all-reduce. Both have
a timeout, so a process that stops answering ends the run with an error instead of a hang.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path

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

from .errors import DeviceError, TrainingError
from .strategy import Strategy

__all__ = ["DistEnv", "DDPStrategy", "pick_device", "choose_backend", "shard_indices",
           "shard_range", "shutdown_process_groups", "communication_threads",
           "DEFAULT_TIMEOUT_S"]

#: Seconds a collective may wait for the other processes before the run fails.
DEFAULT_TIMEOUT_S = 600


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


class DDPStrategy(Strategy):
    """The Trainer's loop run by every process of an initialized process group: the model in
    DistributedDataParallel, each epoch's one permutation sharded (DistributedSampler's
    scheme), validation split in contiguous slices, the epoch's sums all-reduced and the
    predictions gathered, so every process records the same global history. ``group`` carries
    DDP's gradients (None: the default group); sums and predictions go over
    ``control_group`` (a gloo group; None: the default group, gloo under torchrun here). A
    NaN is decided on the summed loss at the epoch's end, where every process agrees."""

    checks_each_batch = False

    def __init__(self, env: DistEnv, *, group=None, control_group=None) -> None:
        self.env = env
        self.rank, self.world_size = env.rank, env.world_size
        self.group, self.control_group = group, control_group
        self.ddp: DistributedDataParallel | None = None

    def local_batch(self, batch_size: int) -> int:
        if batch_size < self.world_size:
            raise TrainingError(f"the global batch size {batch_size} is smaller than the number "
                                f"of processes ({self.world_size}): use --batch-size "
                                f"{self.world_size} or more")
        return -(-batch_size // self.world_size)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.ddp is None:
            device = next(model.parameters()).device
            self.ddp = DistributedDataParallel(
                model, device_ids=[device.index or 0] if device.type == "cuda" else None,
                process_group=self.group, **_SYNC_BUFFERS,
                find_unused_parameters=_unused_parameters(model))
        return self.ddp

    def shard(self, order: torch.Tensor) -> tuple[torch.Tensor, int]:
        return shard_indices(order, self.rank, self.world_size)

    def val_range(self, n: int) -> tuple[int, int]:
        return shard_range(n, self.rank, self.world_size)

    def sum(self, values: list[float]) -> list[float]:
        total = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(total, group=self.control_group)
        return total.tolist()

    def gather(self, rows: torch.Tensor, total: int) -> torch.Tensor:
        """Each process's slice padded to the longest, all-gathered, unpadded, concatenated."""
        sizes = [b - a for a, b in (shard_range(total, r, self.world_size)
                                    for r in range(self.world_size))]
        if not total:
            return rows
        padded = rows.new_zeros((max(sizes),) + tuple(rows.shape[1:]))
        padded[:rows.shape[0]] = rows
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded, group=self.control_group)
        return torch.cat([part[:size] for part, size in zip(parts, sizes)])

    def sync_buffers(self, model: torch.nn.Module) -> None:
        # BatchNorm running statistics: each process updated them on its own batches;
        # validate (and checkpoint) with rank 0's, as DDP's next forward would broadcast them.
        for buffer in model.buffers():
            dist.broadcast(buffer, 0, group=self.group)

    def close(self) -> None:
        """Free the DDP wrapper: its reducer holds the process groups, which cannot be torn
        down (their threads joined) while it lives. The trainer and its model stay."""
        self.ddp = None


def shutdown_process_groups(strategy: DDPStrategy | None = None, subgroups=()) -> None:
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
    if strategy is not None:
        strategy.close()
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


