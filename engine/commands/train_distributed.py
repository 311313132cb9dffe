"""``layerlab train`` as one process of a torchrun job (WORLD_SIZE set): DistributedDataParallel.

    torchrun --standalone --nproc_per_node=4 -m layerlab.engine.train my_net.json --epochs 20

Every process runs this. It joins the process groups, sets up exactly what ``layerlab train``
sets up (the same Trainer, with a DDPStrategy) and agrees with the others on any setup error;
then the Trainer's own loop trains. Rank 0 alone prints (the same progress bar and lines as
``layerlab train``) and writes the run folder and the metrics file (training.run_folder, the
same code). Every process exits with the same code when they can still agree; the process
groups are torn down in order (training.distributed.shutdown_process_groups) so no
communication thread outlives the interpreter. See docs/distributed.md.
"""
from __future__ import annotations

import argparse
import datetime
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: training.distributed.DEFAULT_TIMEOUT_S, repeated to keep --help free of torch.
DEFAULT_TIMEOUT_S = 600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that matter only under torchrun (``layerlab train`` accepts them too)."""
    parser.add_argument("--backend", choices=("auto", "nccl", "gloo"), default="auto",
                        help="under torchrun: the gradient all-reduce backend (auto: NCCL on "
                             "CUDA GPUs, gloo on the CPU)")
    parser.add_argument("--dist-timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"under torchrun: seconds a process waits for the others before "
                             f"the run fails (default {DEFAULT_TIMEOUT_S})")


class _Terminated(KeyboardInterrupt):
    """SIGTERM (torchrun stopping the job, or a GUI stopping the process)."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001
    raise _Terminated()


@dataclass
class _Held:
    """What holds a process group, so the shutdown can free it in order."""
    strategy: Any = None
    subgroups: list = field(default_factory=list)


@dataclass
class _Setup:
    project: Any
    trainer: Any
    folder: Any
    backend: str
    note: str = ""


def run(args: argparse.Namespace) -> int:
    """Every process of the job calls this. Returns the exit code (the same one on every
    process when they can still agree)."""
    import torch.distributed as dist

    from ..training.distributed import DistEnv, shutdown_process_groups
    from ..training.errors import TrainingError
    err = sys.stderr
    try:
        env = DistEnv.from_environ()
    except TrainingError as exc:
        print(f"error: {exc}", file=err)
        return 2
    if args.dist_timeout <= 0:
        print("error: --dist-timeout must be > 0", file=err)
        return 2
    timeout = datetime.timedelta(seconds=args.dist_timeout)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        pass
    try:
        dist.init_process_group("gloo", timeout=timeout)
    except Exception as exc:  # noqa: BLE001 — no group, nobody to agree with: say why
        print(f"error: rank {env.rank} cannot join the other processes: "
              f"{type(exc).__name__}: {exc}", file=err)
        return 1
    code, held = 1, _Held()
    try:
        code = _run(args, env, timeout, held)
    except KeyboardInterrupt:
        code = 130
    finally:
        shutdown_process_groups(held.strategy, held.subgroups)
    return code


def _setup(args, env) -> _Setup:
    """Everything before training, identical in every process. Raises with a message."""
    import torch

    from ..locations import checkpoint_in, open_project
    from ..training.checkpoint import load_checkpoint
    from ..training.config import parse_training
    from ..training.distributed import DDPStrategy, choose_backend, pick_device
    from ..training.run_folder import RunFolder
    from ..training.trainer import Trainer
    from .train import overrides

    opened = open_project(args.file)
    project = opened.project
    settings = overrides(args)
    config = parse_training(project.training, **settings)
    device, note = pick_device(config.device, env)
    backend = choose_backend(device, args.backend)
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    trainer = Trainer.from_project(project, opened.base_dir, strategy=DDPStrategy(env),
                                   **{**settings, "device": device})
    if args.resume:
        trainer.resume_from(load_checkpoint(checkpoint_in(args.resume)))
    extra = {"world_size": env.world_size, "backend": backend,
             "global_batch": trainer.global_batch, "batch_per_process": trainer.local_batch}
    folder = RunFolder(args.out or opened.run_dir, trainer, project,
                       metrics_path=args.metrics_json if env.is_main else None, extra=extra,
                       keep_weights=getattr(args, "keep_weights", 0))
    if env.is_main:
        folder.create()
    return _Setup(project, trainer, folder, backend, note)


def _describe(exc: BaseException) -> tuple[str, int]:
    """(message, exit code) for a setup error: 2 for the project's or the settings' fault."""
    from ..project import ProjectLoadError
    from ..training.errors import TrainingError
    if isinstance(exc, (ProjectLoadError, TrainingError)):
        return str(exc), 2
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 2
    return f"{type(exc).__name__}: {exc}", 1


def _comm_error(exc: BaseException) -> bool:
    import torch.distributed as dist
    backend_error = getattr(dist, "DistBackendError", ())
    text = str(exc).lower()
    return (isinstance(exc, backend_error) if backend_error else False) or any(
        s in text for s in ("connection closed", "connection reset", "broken pipe", "timed out",
                            "timeout", "peer", "gloo", "nccl"))


def _agree_on_setup(args, env) -> tuple[_Setup | None, int]:
    """Set up in every process, then gather the failures: one failure stops everybody, and
    rank 0 prints each distinct message once."""
    import torch.distributed as dist
    setup, failure, code = None, None, 0
    try:
        setup = _setup(args, env)
    except Exception as exc:  # noqa: BLE001 — reported below
        failure, code = _describe(exc)
    failures: list[Any] = [None] * env.world_size
    dist.all_gather_object(failures, failure)
    if not any(f is not None for f in failures):
        return setup, 0
    if env.is_main:
        distinct: dict[str, list[int]] = {}
        for rank, f in enumerate(failures):
            if f is not None:
                distinct.setdefault(f, []).append(rank)
        for message, ranks in distinct.items():
            if len(ranks) == env.world_size:
                print(f"error: {message}", file=sys.stderr)
            else:
                where = ", ".join(map(str, ranks))
                print(f"error on rank{'s' if len(ranks) > 1 else ''} {where}: {message}",
                      file=sys.stderr)
        if args.metrics_json:
            _write_failed(Path(args.metrics_json), "; ".join(distinct), setup)
    return None, code or 2


def _run(args, env, timeout: datetime.timedelta, held: _Held) -> int:
    import torch
    import torch.distributed as dist

    from ..training.errors import TrainingError
    from .train import Progress, print_result

    err, main = sys.stderr, env.is_main
    setup, code = _agree_on_setup(args, env)
    if setup is None:
        return code
    trainer, folder = setup.trainer, setup.folder
    held.strategy = trainer.strategy
    if setup.backend == "nccl":
        trainer.strategy.group = dist.new_group(backend="nccl", timeout=timeout)
        held.subgroups.append(trainer.strategy.group)
    if main:
        _print_header(trainer, env, setup)
        trainer.add_observer(Progress(err, trainer.config.epochs))
        trainer.add_observer(folder)

    # Train. Any error in any process ends the run; the others notice at their next
    # collective (a closed connection, or the timeout) and end too.
    try:
        result = trainer.run(max_batches=args.max_batches)
    except KeyboardInterrupt as exc:
        if main:
            what = "terminated (SIGTERM)" if isinstance(exc, _Terminated) else "interrupted"
            message = f"{what} during epoch {trainer.epoch + 1}; {folder.describe_saved()}"
            print(f"\n{message}", file=err)
            folder.write_metrics("stopped", message)
        return 130
    if result.status == "failed":
        exc = trainer.last_error
        peer = _comm_error(exc) and not isinstance(exc, TrainingError)
        what = str(exc) if isinstance(exc, TrainingError) else f"{type(exc).__name__}: {exc}"
        message = (f"{'lost contact with another process' if peer else 'training failed'} on "
                   f"rank {env.rank}: {what}"
                   + (" (another process probably failed first: see its message)"
                      if peer else ""))
        print(f"\nerror: {message}", file=err)
        folder.write_metrics("failed", message)
        return 1   # no agreement: a peer may be stuck in a collective this one never joins

    # Rank 0 writes the results; everybody exits with the same code.
    code = 0 if result.status in ("finished", "stopped") else 1
    if main:
        problems = folder.finish(result)
        if problems:
            print(f"error: cannot write the results: {'; '.join(problems)}", file=err)
            code = 1
        else:
            print_result(result, folder.out, args.metrics_json,
                         f"{env.world_size} × {result.device}")
        if result.status == "diverged":
            print(f"error: {result.message}", file=err)
    agreed = torch.tensor([code], dtype=torch.int64)
    try:
        dist.all_reduce(agreed, op=dist.ReduceOp.MAX)
        code = int(agreed.item())
    except Exception:  # noqa: BLE001 — keep our own code
        pass
    return code


def _write_failed(path: Path, message: str, setup: _Setup | None) -> None:
    from ..training.follow import new_run_id, write_metrics
    try:
        write_metrics(path, {
            "final": {"status": "failed", "steps": 0}, "history": [], "device": "",
            "device_name": "", "samples_per_s": None, "seconds": 0.0, "status": "failed",
            "message": message, "project": setup.project.name if setup else "",
            "dataset": setup.trainer.dataset.name if setup else "", "run_id": new_run_id(),
            "epochs": None, "updated": time.time()})
    except OSError:
        pass


def _print_header(trainer, env, setup: _Setup) -> None:
    from .train import header
    err, cfg = sys.stderr, trainer.config
    machines = max(env.world_size // env.local_world_size, 1)
    distributed = (f"distributed: {env.world_size} processes ({env.local_world_size} per "
                   f"machine, {machines} machine{'s' if machines != 1 else ''}), backend "
                   f"{setup.backend}; rank 0 on {socket.gethostname()} writes "
                   f"{setup.folder.out.resolve()}")
    batch = f"global batch {trainer.global_batch} ({env.world_size} × {trainer.local_batch})"
    for line in header(trainer, setup.project, device=f"{trainer.device_info.describe()} on "
                                                      f"rank 0",
                       batch=batch, more=(distributed,)):
        print(line, file=err)
    notes = ([setup.note] if setup.note else []) + list(trainer.notes)
    if trainer.global_batch != cfg.batch_size:
        notes.append(f"the global batch {cfg.batch_size} is not a multiple of "
                     f"{env.world_size} processes: each takes {trainer.local_batch} samples "
                     f"per step, so a step sees {trainer.global_batch}")
    for note in notes:
        print(f"note: {note}", file=err)
