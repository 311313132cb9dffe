"""How much does the LayerLab Trainer cost over a hand-written PyTorch loop?

    python bench/bench_trainer.py [--epochs 5] [--repeats 7] [--threads 2] [--device cpu]

Trains the digits CNN template (same data, batch size, optimizer, initial weights and number
of steps) with a plain loop and with the Trainer — the Trainer with an observer receiving
every snapshot kind at the default rates — interleaved ``--repeats`` times after a warm-up,
and prints the median samples/s of each and their ratio (target ≥ 0.97 on CPU).

Both loops do what a typical hand-written loop does: shuffle with a seeded generator, index
batches from tensors already on the device, read loss.item() and count correct predictions
per batch, and validate once per epoch. Samples/s = training samples / wall time including
validation.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from layerlab.engine.builder import build_model
from layerlab.engine.data import load_dataset
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingObserver, parse_training


class Sink(TrainingObserver):
    """Receives everything, keeps the latest of each (what a dashboard does)."""

    def __init__(self) -> None:
        self.counts = {"batch": 0, "epoch": 0, "evaluation": 0, "visuals": 0}

    def on_batch(self, snap) -> None:
        self.counts["batch"] += 1
        self.batch = snap

    def on_epoch(self, snap) -> None:
        self.counts["epoch"] += 1

    def on_evaluation(self, snap) -> None:
        self.counts["evaluation"] += 1

    def on_visuals(self, snap) -> None:
        self.counts["visuals"] += 1
        self.visuals = snap


def plain_loop(graph, ds, cfg, epochs: int, device: torch.device) -> tuple[float, float, int]:
    torch.manual_seed(cfg.seed)
    model = build_model(graph).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas)
    gen = torch.Generator().manual_seed(cfg.seed)
    x_train, y_train = ds.x_train.to(device), ds.y_train.to(device)
    x_val, y_val = ds.x_val.to(device), ds.y_val.to(device)
    n, bs = len(x_train), cfg.batch_size
    start, cpu = time.perf_counter(), time.process_time()
    for _epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        running, correct = 0.0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            x, y = x_train.index_select(0, idx), y_train.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            running += loss.item() * len(y)
            correct += int((out.argmax(1) == y).sum())
        model.eval()
        with torch.no_grad():
            val_out = model(x_val)
            val_loss = float(F.cross_entropy(val_out, y_val))
            val_acc = float((val_out.argmax(1) == y_val).float().mean())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert val_loss == val_loss and 0 <= val_acc <= 1
    return seconds, cpu, n * epochs


def trainer_loop(project, ds, cfg, epochs: int) -> tuple[float, float, int, Sink]:
    sink = Sink()
    trainer = Trainer(project.graph, ds, cfg.with_overrides(epochs=epochs), observers=[sink])
    start, cpu = time.perf_counter(), time.process_time()
    result = trainer.run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result.status == "finished", result.message
    return seconds, cpu, trainer._train.n * epochs, sink


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: steady on a shared machine)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    project = load_template("digits_cnn")
    ds = load_dataset(project.dataset)
    cfg = parse_training(project.training, device=args.device)
    device = torch.device(args.device)
    steps = args.epochs * -(-len(ds.x_train) // cfg.batch_size)
    print(f"digits CNN: {len(ds.x_train)} train / {len(ds.x_val)} val samples, batch "
          f"{cfg.batch_size}, {args.epochs} epochs = {steps} steps per run, {args.repeats} "
          f"repeats, {torch.get_num_threads()} threads, device {args.device}, torch "
          f"{torch.__version__}")

    plain_loop(project.graph, ds, cfg, 1, device)   # warm-up: allocator, kernels, imports
    trainer_loop(project, ds, cfg, 1)
    rates = {"plain": [], "trainer": []}      # samples per wall-clock second
    cpu_rates = {"plain": [], "trainer": []}  # samples per CPU second of this process
    sink = None
    for r in range(args.repeats):
        # Alternate which goes first so drift in machine load hits both alike.
        for which in (("plain", "trainer") if r % 2 == 0 else ("trainer", "plain")):
            if which == "plain":
                s, c, n = plain_loop(project.graph, ds, cfg, args.epochs, device)
            else:
                s, c, n, sink = trainer_loop(project, ds, cfg, args.epochs)
            rates[which].append(n / s)
            cpu_rates[which].append(n / c)
        print(f"  repeat {r + 1}: plain {rates['plain'][-1]:,.0f}  trainer "
              f"{rates['trainer'][-1]:,.0f} samples/s", flush=True)
    p, t = statistics.median(rates["plain"]), statistics.median(rates["trainer"])
    pc, tc = statistics.median(cpu_rates["plain"]), statistics.median(cpu_rates["trainer"])
    ratios = [b / a for a, b in zip(rates["plain"], rates["trainer"])]
    print(f"plain loop : {p:,.0f} samples/s (median; {pc:,.0f} per CPU-second)")
    print(f"Trainer    : {t:,.0f} samples/s (median; {tc:,.0f} per CPU-second)")
    print(f"ratio      : {t / p:.3f} wall clock (median of per-repeat ratios "
          f"{statistics.median(ratios):.3f}), {tc / pc:.3f} CPU time; target ≥ 0.97")
    print("  (on a busy machine the CPU-time ratio is the steadier figure: other processes "
          "stretch wall time, not this process's CPU time)")
    if sink is not None:
        print(f"snapshots in the last Trainer run: {sink.counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
