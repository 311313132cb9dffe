"""``python -m layerlab.engine.train FILE [options]``: train a project (or a bundled template)
headless — as one process, or as N DistributedDataParallel processes under torchrun:

    python -m layerlab.engine.train digits_cnn --epochs 5               # one process
    torchrun --standalone --nproc_per_node=4 -m layerlab.engine.train my_net.json --epochs 20
    torchrun --nnodes=2 --node_rank=0 --master_addr=HOST0 --master_port=29500 \\
             --nproc_per_node=8 -m layerlab.engine.train my_net.json     # on each machine

This is ``layerlab train`` (engine/commands/train.py), options and all; under torchrun
(WORLD_SIZE set) that command trains with DistributedDataParallel
(engine/commands/train_distributed.py): --batch-size is then the GLOBAL batch, the samples of
one optimizer step summed over all processes, so each of N processes takes batch/N of them and
the hyperparameters mean the same as in a single-process run; NCCL on GPUs (each process takes
the GPU of its LOCAL_RANK), gloo on the CPU; rank 0 alone prints progress and writes the run
folder and the metrics JSON, which it rewrites after every epoch so another process can follow
the run (``layerlab.engine.training.follow.MetricsFollower``). See docs/distributed.md.

Exit codes as ``layerlab train``: 0 finished; 2 the project, settings or device are at fault
(in any process); 1 training diverged or failed (in any process); 130 interrupted/terminated.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

__all__ = ["add_arguments", "main", "build_command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``layerlab train``'s options (engine/commands/train.py), torchrun's included."""
    from .commands.train import add_arguments as train_arguments
    train_arguments(parser)


def build_command(file: str | os.PathLike, *, nproc_per_node: int = 1, nnodes: int = 1,
                  node_rank: int | None = None, master_addr: str | None = None,
                  master_port: int | None = None, rdzv_endpoint: str | None = None,
                  rdzv_id: str | None = None, epochs: int | None = None,
                  device: str | None = None, seed: int | None = None,
                  batch_size: int | None = None, lr: float | None = None,
                  optimizer: str | None = None, max_batches: int | None = None,
                  out: str | os.PathLike | None = None,
                  resume: str | os.PathLike | None = None,
                  metrics_json: str | os.PathLike | None = None,
                  python: str | None = None) -> list[str]:
    """The argv of a training run, for a GUI's QProcess or subprocess: plain
    ``python -m layerlab.engine.train`` for one process on one machine, else
    ``python -m torch.distributed.run`` (torchrun) with --standalone (one machine), static
    rendezvous (``master_addr``/``master_port``/``node_rank``) or c10d (``rdzv_endpoint``)."""
    if nproc_per_node < 1 or nnodes < 1:
        raise ValueError("nproc_per_node and nnodes must be at least 1")
    cmd = [python or sys.executable]
    if nproc_per_node > 1 or nnodes > 1 or rdzv_endpoint or master_addr:
        cmd += ["-m", "torch.distributed.run"]
        if rdzv_endpoint:
            cmd += [f"--nnodes={nnodes}", "--rdzv_backend=c10d",
                    f"--rdzv_endpoint={rdzv_endpoint}", f"--rdzv_id={rdzv_id or 'layerlab'}"]
        elif master_addr or nnodes > 1:
            if not master_addr or node_rank is None:
                raise ValueError("several machines need master_addr and node_rank (static "
                                 "rendezvous) or rdzv_endpoint (c10d)")
            cmd += [f"--nnodes={nnodes}", f"--node_rank={node_rank}",
                    f"--master_addr={master_addr}", f"--master_port={master_port or 29500}"]
        else:
            cmd.append("--standalone")
        cmd.append(f"--nproc_per_node={nproc_per_node}")
    cmd += ["-m", "layerlab.engine.train", str(file)]
    for flag, value in (("--epochs", epochs), ("--device", device), ("--seed", seed),
                        ("--batch-size", batch_size), ("--lr", lr), ("--optimizer", optimizer),
                        ("--max-batches", max_batches), ("--out", out), ("--resume", resume),
                        ("--metrics-json", metrics_json)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def _sigterm_to_interrupt(signum, frame) -> None:  # noqa: ARG001
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m layerlab.engine.train",
        description="Train a LayerLab project headless: one process, or DistributedDataParallel "
                    "when launched by torchrun (--nproc_per_node, --nnodes).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.dist_timeout <= 0:
        parser.error("--dist-timeout must be > 0")
    from .commands.train import run
    if "WORLD_SIZE" in os.environ:   # torchrun: the command handles its own signals
        return int(run(args) or 0)
    # One process: SIGTERM — a GUI stopping its QProcess — behaves like Ctrl+C: the
    # checkpoint and the metrics (status "stopped") are written.
    try:
        signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    except ValueError:  # not the main thread
        pass
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
