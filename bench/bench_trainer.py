"""What does the LayerLab Trainer cost against a hand-written PyTorch loop and against
PyTorch Lightning, and what does the built module cost on a deep graph? All in one run,
interleaved.

    python bench/bench_trainer.py [--epochs 5] [--repeats 7] [--threads 1] [--chain 1000]
                                  [--load-nodes 20000]

Targets (issue 13), each a ratio of samples/s measured in this run:

* digits CNN: Trainer with observers ÷ hand-written loop ≥ 1.0; ÷ Lightning ≥ 1.8;
* a ``--chain``-node Linear/ReLU chain: the built GraphModule ÷ an ``nn.Sequential`` of the
  same layers, both in the hand-written loop, ≥ 0.8 (the Trainer on the chain is printed too);
* loading a ``--load-nodes``-node project ≤ 1 s (json.loads of the same file is printed as the
  reference);
* ``--watch``: the per-epoch weight/activation histograms ≤ 5 % of an epoch on digits_cnn and
  lenet5 (issue 11: "a few %"; the cost is fixed per epoch, so larger datasets pay less).

Every repeat runs every contender once, in a rotated order, so drift in the machine's load
hits all alike; the figures are medians, and the spread (min–max of the per-repeat ratios)
says how noisy the run was. Same data, batch size, optimizer, initial weights and number of
steps everywhere. The hand loop and Lightning do what a typical script does: shuffle with a
seeded generator, take batches from tensors already in memory, read the loss and count
correct predictions per batch, validate once per epoch. Lightning gets the same tensor
batches (a DataLoader over whole-batch indices, not per-sample collation), with its progress
bar, model summary, logger and checkpointing off, and logs the loss and accuracy per step as
a LightningModule usually does. Lightning is not a LayerLab dependency: the column is skipped
when it is not installed (``pip install lightning --no-deps`` plus lightning-utilities,
torchmetrics, fsspec and pyyaml keeps the installed torch).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import warnings
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from layerlab.engine.builder import build_model
from layerlab.engine.compose import Composer
from layerlab.engine.data import load_dataset
from layerlab.engine.data.dataset import Dataset
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingObserver, parse_training

warnings.filterwarnings("ignore", module="lightning")  # its deprecation chatter, not ours


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


# --- contenders ---------------------------------------------------------------------------------

def hand_loop(model: nn.Module, ds, cfg, epochs: int, max_steps: int | None = None) -> int:
    """The loop a person writes: returns the training samples seen."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas)
    gen = torch.Generator().manual_seed(cfg.seed)
    x_train, y_train, x_val, y_val = ds.x_train, ds.y_train, ds.x_val, ds.y_val
    n, bs, seen, steps = len(x_train), cfg.batch_size, 0, 0
    for _epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
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
            seen, steps = seen + len(y), steps + 1
            if steps == max_steps:
                return seen
        model.eval()
        with torch.no_grad():
            val_out = model(x_val)
            val_loss = float(F.cross_entropy(val_out, y_val))
            val_acc = float((val_out.argmax(1) == y_val).float().mean())
        assert val_loss == val_loss and 0 <= val_acc <= 1
    return seen


def layerlab_trainer(graph, ds, cfg, epochs: int, max_steps: int | None = None) -> tuple[int, Sink]:
    sink = Sink()
    trainer = Trainer(graph, ds, cfg.with_overrides(epochs=epochs), observers=[sink])
    result = trainer.run(max_batches=max_steps)
    assert result.status in ("finished", "stopped"), result.message
    samples = (trainer.num_train * epochs if result.status == "finished"
               else result.steps * trainer.global_batch)
    return samples, sink


def lightning_run(graph, ds, cfg, epochs: int) -> int:
    import lightning as L

    class Batches(torch.utils.data.Dataset):
        """Whole batches by index tensors: no per-sample collation (fair to Lightning)."""

        def __init__(self, x, y, size, shuffle, seed):
            self.x, self.y, self.size, self.shuffle = x, y, size, shuffle
            self.gen = torch.Generator().manual_seed(seed)
            self.order = torch.arange(len(x))

        def __len__(self):
            return -(-len(self.x) // self.size)

        def __getitem__(self, k):
            if k == 0 and self.shuffle:
                self.order = torch.randperm(len(self.x), generator=self.gen)
            idx = self.order[k * self.size:(k + 1) * self.size]
            return self.x.index_select(0, idx), self.y.index_select(0, idx)

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            torch.manual_seed(cfg.seed)
            self.model = build_model(graph)

        def forward(self, x):
            return self.model(x)

        def training_step(self, batch, _k):
            x, y = batch
            out = self.model(x)
            loss = F.cross_entropy(out, y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            self.log("train_acc", (out.argmax(1) == y).float().mean(), on_epoch=True)
            return loss

        def validation_step(self, batch, _k):
            x, y = batch
            out = self.model(x)
            self.log("val_loss", F.cross_entropy(out, y))
            self.log("val_acc", (out.argmax(1) == y).float().mean())

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=cfg.lr, betas=cfg.betas)

    loader = torch.utils.data.DataLoader(
        Batches(ds.x_train, ds.y_train, cfg.batch_size, True, cfg.seed), batch_size=None,
        shuffle=False)
    val = torch.utils.data.DataLoader(Batches(ds.x_val, ds.y_val, 512, False, 0),
                                      batch_size=None)
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0,
                        deterministic=False)
    trainer.fit(Module(), loader, val)
    return len(ds.x_train) * epochs


def lightning_available() -> bool:
    try:
        import lightning  # noqa: F401
    except ImportError:
        return False
    import logging
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return True


# --- the deep chain ----------------------------------------------------------------------------

def chain(nodes: int):
    """Input(32) then Linear(32)/ReLU alternating, ending in Linear(10): ``nodes`` nodes."""
    g = Composer()
    x = g.input([32])
    for i in range(nodes - 2):
        x = g.layer("Linear", x, out_features=32) if i % 2 == 0 else g.layer("ReLU", x)
    g.layer("Linear", x, out_features=10)
    return g.graph


def chain_data(n_train: int = 2048, n_val: int = 256) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_train + n_val, 32, generator=gen)
    y = torch.randint(0, 10, (n_train + n_val,), generator=gen)
    return Dataset(name="random", task="classification", x_train=x[:n_train],
                   y_train=y[:n_train], x_val=x[n_train:], y_val=y[n_train:],
                   class_names=[str(i) for i in range(10)], feature_names=[], target_names=[],
                   input_shape=(32,), normalization={})


# --- loading ------------------------------------------------------------------------------------

def time_load(nodes: int) -> tuple[float, float]:
    """(seconds to load_project, seconds to json.loads) for a ``nodes``-node chain file."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_load import chain_project
    from layerlab.engine.project import load_project
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        path.write_text(json.dumps(chain_project(nodes)))
        start = time.perf_counter()
        json.loads(path.read_text())
        reference = time.perf_counter() - start
        start = time.perf_counter()
        load_project(path)
        return time.perf_counter() - start, reference


# --- the run ------------------------------------------------------------------------------------

def spread(values: list[float]) -> str:
    return f"{min(values):.3f}–{max(values):.3f}"


class Histograms(TrainingObserver):
    def __init__(self) -> None:
        self.count = 0

    def on_histograms(self, snap) -> None:
        self.count += 1


def watch_costs(epochs: int, repeats: int) -> None:
    """``--watch``: what watching a run costs per epoch (issue 11), on digits_cnn and lenet5.
    The per-epoch histograms are timed directly (capture_histograms on the model as it
    trains) and as the difference between interleaved runs with and without a histogram
    observer; both are shares of the same run's epoch time."""
    print(f"\nwatching a run: {epochs} epochs per run, {repeats} repeats, interleaved")
    print(f"{'template':<12}{'epoch (ms)':>12}{'histograms (ms)':>17}{'share':>8}"
          f"{'runs with ÷ without':>22}{'spread':>15}  target")
    for key in ("digits_cnn", "lenet5"):
        project = load_template(key)
        ds = load_dataset(project.dataset)
        cfg = parse_training(project.training, device="cpu", epochs=epochs)

        def run(observe: bool) -> tuple[float, Trainer]:
            observers = [Sink()] + ([Histograms()] if observe else [])
            trainer = Trainer(project.graph, ds, cfg, observers=observers)
            start = time.perf_counter()
            trainer.run()
            return time.perf_counter() - start, trainer

        run(True), run(False)   # warm-up
        epoch_s, capture_s, ratios = [], [], []
        for r in range(repeats):
            order = (True, False) if r % 2 == 0 else (False, True)
            times = {}
            for observe in order:
                times[observe], trainer = run(observe)
            ratios.append(times[True] / times[False])
            epoch_s.append(statistics.median(h.seconds for h in trainer.history))
            start = time.perf_counter()
            for _ in range(5):
                trainer.capture_histograms()
            capture_s.append((time.perf_counter() - start) / 5)
        e, c = statistics.median(epoch_s), statistics.median(capture_s)
        print(f"{key:<12}{1000 * e:>12.1f}{1000 * c:>17.2f}{100 * c / e:>7.1f}%"
              f"{statistics.median(ratios):>22.3f}{spread(ratios):>15}  share ≤ 5 %")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: steady on a shared machine)")
    parser.add_argument("--chain", type=int, default=1000, help="nodes of the deep chain")
    parser.add_argument("--chain-steps", type=int, default=10,
                        help="optimizer steps per deep-chain run")
    parser.add_argument("--load-nodes", type=int, default=20000)
    parser.add_argument("--no-lightning", action="store_true")
    parser.add_argument("--watch", action="store_true",
                        help="only what watching a run costs (histograms per epoch)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.watch:
        watch_costs(args.epochs, args.repeats)
        return 0

    project = load_template("digits_cnn")
    ds = load_dataset(project.dataset)
    cfg = parse_training(project.training, device="cpu")
    with_lightning = not args.no_lightning and lightning_available()
    steps = args.epochs * -(-len(ds.x_train) // cfg.batch_size)
    deep, deep_ds = chain(args.chain), chain_data()
    deep_cfg = cfg.with_overrides(lr=1e-4)
    torch.manual_seed(0)
    deep_model = build_model(deep)
    sequential = nn.Sequential(*deep_model.layers.values())   # the same layer objects
    print(f"digits CNN: {len(ds.x_train)} train / {len(ds.x_val)} val samples, batch "
          f"{cfg.batch_size}, {args.epochs} epochs = {steps} steps per run; {args.chain}-node "
          f"chain: {args.chain_steps} steps of {cfg.batch_size}; {args.repeats} repeats, "
          f"{torch.get_num_threads()} thread(s), torch {torch.__version__}"
          + ("" if with_lightning else "; Lightning column skipped (not installed)"))

    def fresh_cnn():
        torch.manual_seed(cfg.seed)
        return build_model(project.graph)

    contenders = {
        "hand": lambda: hand_loop(fresh_cnn(), ds, cfg, args.epochs),
        "trainer": lambda: layerlab_trainer(project.graph, ds, cfg, args.epochs)[0],
        "sequential": lambda: hand_loop(sequential, deep_ds, deep_cfg, 1, args.chain_steps),
        "graph": lambda: hand_loop(deep_model, deep_ds, deep_cfg, 1, args.chain_steps),
        "chain_trainer": lambda: layerlab_trainer(deep, deep_ds, deep_cfg, 1,
                                                  args.chain_steps)[0],
    }
    if with_lightning:
        contenders["lightning"] = lambda: lightning_run(project.graph, ds, cfg, args.epochs)
    for run in contenders.values():   # warm-up: allocator, kernels, imports
        run()
    rates: dict[str, list[float]] = {name: [] for name in contenders}   # per wall second
    cpu_rates: dict[str, list[float]] = {name: [] for name in contenders}  # per CPU second
    loads: list[tuple[float, float]] = []
    names = list(contenders)
    for r in range(args.repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:   # rotated order
            start, cpu = time.perf_counter(), time.process_time()
            samples = contenders[name]()
            rates[name].append(samples / (time.perf_counter() - start))
            cpu_rates[name].append(samples / (time.process_time() - cpu))
        loads.append(time_load(args.load_nodes))
        print(f"  repeat {r + 1}: " + "  ".join(f"{n} {v[-1]:,.0f}" for n, v in rates.items())
              + f"  load {loads[-1][0]:.2f} s", flush=True)

    med = {name: statistics.median(v) for name, v in rates.items()}

    def ratio(a: str, b: str, table: dict) -> tuple[float, list[float]]:
        per = [x / y for x, y in zip(table[a], table[b])]
        return statistics.median(per), per

    print("\nsamples/s (median): " + ", ".join(f"{n} {v:,.0f}" for n, v in med.items()))
    rows = [("Trainer with observers ÷ hand-written loop", "trainer", "hand", "≥ 1.0"),
            ("Trainer with observers ÷ Lightning", "trainer", "lightning", "≥ 1.8"),
            (f"GraphModule ÷ nn.Sequential, {args.chain}-node chain", "graph", "sequential",
             "≥ 0.8"),
            (f"Trainer ÷ nn.Sequential hand loop, {args.chain}-node chain", "chain_trainer",
             "sequential", "")]
    print(f"{'ratio (samples/s; wall clock, then CPU time)':<56}{'median':>8}{'spread':>15}"
          f"{'CPU median':>12}{'CPU spread':>15}  target")
    for label, a, b, target in rows:
        if a in rates and b in rates:
            value, per = ratio(a, b, rates)
            cpu_value, cpu_per = ratio(a, b, cpu_rates)
            print(f"{label:<56}{value:>8.3f}{spread(per):>15}{cpu_value:>12.3f}"
                  f"{spread(cpu_per):>15}  {target}")
        else:
            print(f"{label:<56}{'skipped':>8}")
    print("  (on a busy machine the CPU-time ratios are the steadier figures: other processes "
          "stretch wall time, not this process's CPU time)")
    load_s = statistics.median(s for s, _ in loads)
    reference = statistics.median(ref for _, ref in loads)
    print(f"{'load a ' + format(args.load_nodes, ',') + '-node project (s)':<56}{load_s:>8.2f}"
          f"{spread([s for s, _ in loads]):>15}  ≤ 1 s (json.loads alone: {reference:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
