"""``layerlab train FILE [--epochs N] [--device D] [--seed S] [--out DIR] [--resume CKPT]
[--metrics-json PATH]``: train a project (or a bundled template) headless.

Progress goes to stderr as one line rewritten with \\r; results to stdout. The run folder gets
the checkpoint (checkpoint/), history.csv and history.json. Errors print a message, no
traceback, and exit non-zero: 2 for a project/settings problem, 1 when training diverged or
failed, 130 when interrupted (the checkpoint is still written, so --resume continues).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a LayerLab project (.json) or a bundled template's name "
                                     "(e.g. digits_cnn)")
    parser.add_argument("--epochs", type=int, help="total epochs (overrides the project's)")
    parser.add_argument("--device", choices=DEVICE_CHOICES,
                        help="auto picks CUDA, then Apple MPS, then the CPU")
    parser.add_argument("--seed", type=int, help="random seed (overrides the project's)")
    parser.add_argument("--out", metavar="DIR",
                        help="run folder (default: <project stem>-run beside the project; "
                             "for a template, in the current folder)")
    parser.add_argument("--resume", metavar="CKPT",
                        help="continue from a checkpoint folder (or a run folder holding one)")
    parser.add_argument("--metrics-json", metavar="PATH",
                        help="also write final metrics, history and speed as JSON")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


class Progress:
    """Observer printing a progress bar on stderr, at most 10 updates a second."""

    def __init__(self, stream, epochs: int, every: int = 0, save=None) -> None:
        self.stream = stream
        self.epochs = epochs
        self.every = every
        self.save = save
        self.last = 0.0
        self.width = 0

    def _line(self, text: str, end: str = "") -> None:
        pad = max(0, self.width - len(text))
        self.stream.write("\r" + text + " " * pad + end)
        self.stream.flush()
        self.width = 0 if end else len(text)

    def on_batch(self, b) -> None:
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        from ..training.snapshots import format_eta   # lazy, like the rest: --help stays fast
        frac = b.batch / max(b.batches, 1)
        bar = "#" * int(frac * 20) + "-" * (20 - int(frac * 20))
        acc = f" acc {_pct(b.running_acc)}" if b.running_acc is not None else ""
        self._line(f"epoch {b.epoch}/{self.epochs} [{bar}] {frac:4.0%} loss {b.running_loss:.4f}"
                   f"{acc} {b.samples_per_s:,.0f} samples/s ETA {format_eta(b.eta_s)}")

    def on_epoch(self, e) -> None:
        if e.train_acc is not None:
            metrics = (f"train loss {e.train_loss:.4f} acc {_pct(e.train_acc)}  "
                       f"val loss {e.val_loss:.4f} acc {_pct(e.val_acc)}")
        else:
            metrics = (f"train loss {e.train_loss:.4f}  val loss {e.val_loss:.4f} "
                       f"MAE {e.val_mae:,.4g} RMSE {e.val_rmse:,.4g}")
        self._line(f"epoch {e.epoch}/{self.epochs}  {metrics}  lr {e.lr:.3g}  {e.seconds:.1f} s",
                   end="\n")
        if self.every and e.epoch % self.every == 0 and self.save is not None:
            self.save()  # on the training thread, between epochs: a consistent state

    def on_state(self, s) -> None:
        if s.state in ("diverged", "failed", "stopped") and self.width:
            self._line("", end="")


def print_result(result, out: Path, metrics_path, where: str) -> None:
    """The closing lines of a run (``layerlab train`` and the torchrun entry point): the
    last epoch's numbers, how it ended and how fast ``where`` trained, what was written."""
    if result.history:
        last = result.history[-1]
        if last.val_acc is not None:
            summary = (f"val_acc {_pct(last.val_acc)}  val_loss {last.val_loss:.4f}  "
                       f"train_acc {_pct(last.train_acc)}  train_loss {last.train_loss:.4f}")
        else:
            summary = (f"val_mae {last.val_mae:,.4g}  val_rmse {last.val_rmse:,.4g}  "
                       f"val_loss {last.val_loss:.4f}  train_loss {last.train_loss:.4f}")
        print(f"epoch {result.final['epoch']}: {summary}")
    print(f"{result.status}: {result.message} — {result.seconds:.1f} s, "
          f"{result.samples_per_s:,.0f} samples/s on {where}")
    print(f"wrote {out} (checkpoint/, history.csv, history.json)"
          + (f" and {metrics_path}" if metrics_path else ""))


def write_history(out: Path, rows: list[dict]) -> None:
    from ..training.snapshots import HISTORY_FIELDS
    with open(out / "history.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(HISTORY_FIELDS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k))
                             for k in HISTORY_FIELDS})
    (out / "history.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from ..locations import checkpoint_in, open_project
    from ..project import ProjectLoadError
    from ..training import TrainingError

    err = sys.stderr
    try:
        opened = open_project(args.file)
    except ProjectLoadError as exc:
        print(f"error: {exc}", file=err)
        return 2
    try:
        from ..training import Trainer, load_checkpoint, save_checkpoint
        project = opened.project
        trainer = Trainer.from_project(project, opened.base_dir, epochs=args.epochs,
                                       device=args.device, seed=args.seed,
                                       batch_size=getattr(args, "batch_size", None))
        if args.resume:
            trainer.resume_from(load_checkpoint(checkpoint_in(args.resume)))
    except TrainingError as exc:
        print(f"error: {exc}", file=err)
        return 2
    out = Path(args.out) if args.out else opened.run_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create the run folder {out}: {exc.strerror or exc}", file=err)
        return 2

    cfg, ds = trainer.config, trainer.dataset
    save = lambda: save_checkpoint(out / "checkpoint", trainer, project)  # noqa: E731
    print(f"training '{project.name}' on {ds.name} ({trainer._train.n:,} train / "
          f"{trainer._val.n:,} validation samples)", file=err)
    print(f"device: {trainer.device_info.describe()} ({trainer.device_info.reason})", file=err)
    print(f"{cfg.optimizer} lr {cfg.lr:g}, batch {cfg.batch_size}, {cfg.epochs} epochs, loss "
          f"{trainer.objective.loss}" + (f", resuming after epoch {trainer.epoch}"
                                         if trainer.epoch or trainer.batch else ""), file=err)
    for note in [*getattr(ds, "notes", []), *trainer.notes]:   # dataset: what was left out
        print(f"note: {note}", file=err)
    trainer.add_observer(Progress(err, cfg.epochs, cfg.checkpoint_every, save))
    live = None
    if args.metrics_json:  # rewritten after every epoch, so another process can follow it
        from ..training.follow import LiveMetrics
        live = LiveMetrics(args.metrics_json, project=project.name, dataset=ds.name,
                           history=[h.row() for h in trainer.history])
        trainer.add_observer(live)

    interrupted = False
    if trainer.epoch >= cfg.epochs:
        print(f"note: the checkpoint already has {trainer.epoch} epochs; pass --epochs "
              f"above that to train further", file=err)
    trainer.start()
    try:
        while trainer.join(0.2) is None:  # a timeout keeps the main thread able to take Ctrl+C
            pass
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping after this batch and saving a checkpoint", file=err)
        trainer.stop()
        trainer.join()
    result = trainer.result
    if result is None:
        print("error: training did not end cleanly; nothing was saved", file=err)
        return 1
    rows = [h.row() for h in result.history]
    try:
        save()
        write_history(out, rows)
        if args.metrics_json:
            metrics = {"final": result.final, "history": rows,
                       "device": trainer.device_info.device,
                       "device_name": trainer.device_info.name,
                       "samples_per_s": result.samples_per_s, "seconds": result.seconds,
                       "status": result.status, "message": result.message,
                       "project": project.name, "dataset": ds.name}
            from ..training.follow import write_metrics
            write_metrics(args.metrics_json, live.stamp(metrics))  # atomic
    except (OSError, TrainingError) as exc:
        print(f"error: cannot write the results: {exc}", file=err)
        return 1

    print_result(result, out, args.metrics_json, result.device)
    if interrupted:
        return 130
    if result.status in ("diverged", "failed"):
        print(f"error: {result.message}", file=err)
        return 1
    return 0
