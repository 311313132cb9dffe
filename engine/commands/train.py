"""``layerlab train FILE [--epochs N] [--device D] [--seed S] [--lr LR] [--batch-size N]
[--optimizer NAME] [--max-batches N] [--out DIR] [--resume CKPT] [--metrics-json PATH]
[--keep-weights [N]]``:
train a project (or a bundled template) headless.

Progress goes to stderr as a progress bar (tqdm), one line per finished epoch; results to
stdout. The run folder gets the checkpoint (checkpoint/), a record of the run in its run
history (runs/), history.csv and history.json (training.run_folder). Errors print a message,
no traceback, and exit non-zero: 2 for a project/settings problem, 1 when training diverged
or failed, 130 when interrupted (the checkpoint is still written, so --resume continues). ``--max-batches N`` stops after N
batches — a quick smoke test of a heavy template — and still writes the checkpoint (exit 0).

Launched by torchrun (WORLD_SIZE set), the same command trains with DistributedDataParallel:
engine/commands/train_distributed.py.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
#: --keep-weights without a number: the newest runs whose weights the run history keeps.
KEEP_WEIGHTS = 5
#: training.OPTIMIZERS, repeated to keep --help free of imports (tests check they agree).
OPTIMIZER_CHOICES = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (found {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (found {value})")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .train_distributed import add_arguments as distributed_arguments
    parser.add_argument("file", help="a LayerLab project (.json) or a bundled template's name "
                                     "(e.g. digits_cnn)")
    parser.add_argument("--epochs", type=int, help="total epochs (overrides the project's)")
    parser.add_argument("--device", choices=DEVICE_CHOICES,
                        help="auto picks CUDA, then Apple MPS, then the CPU")
    parser.add_argument("--seed", type=int, help="random seed (overrides the project's)")
    parser.add_argument("--lr", type=float, metavar="LR",
                        help="learning rate (overrides the project's)")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help="samples per optimizer step (overrides the project's); under "
                             "torchrun the GLOBAL batch, shared out over the processes")
    parser.add_argument("--optimizer", choices=OPTIMIZER_CHOICES,
                        help="optimizer (overrides the project's; the project's lr is kept "
                             "unless --lr is given)")
    parser.add_argument("--max-batches", type=_at_least_one, metavar="N",
                        help="stop after N batches (a quick smoke test); the checkpoint is "
                             "still written")
    parser.add_argument("--out", metavar="DIR",
                        help="run folder (default: <project stem>-run beside the project; "
                             "for a template, in the current folder)")
    parser.add_argument("--resume", metavar="CKPT",
                        help="continue from a checkpoint folder (or a run folder holding one)")
    parser.add_argument("--metrics-json", metavar="PATH",
                        help="also write final metrics, history and speed as JSON")
    parser.add_argument("--keep-weights", type=_at_least_one, nargs="?", const=KEEP_WEIGHTS,
                        default=0, metavar="N",
                        help=f"keep this run's weights in the run history (runs/), and those of "
                             f"the newest N runs in all (default N: {KEEP_WEIGHTS})")
    distributed_arguments(parser)


def overrides(args: argparse.Namespace) -> dict:
    """The training keys the command line overrides (None: the project's)."""
    return {"epochs": args.epochs, "device": args.device, "seed": args.seed, "lr": args.lr,
            "batch_size": args.batch_size, "optimizer": args.optimizer}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _errors(mae: float | None, rmse: float | None) -> str:
    """Regression errors in the target's units, written plainly (30,540, not 3.054e+04)."""
    from ..formatting import plain_number
    return f"MAE {plain_number(mae)}  RMSE {plain_number(rmse)}"


class Progress:
    """Observer: a progress bar per epoch on stderr (tqdm, at most 10 redraws a second) and
    one line per finished epoch."""

    def __init__(self, stream, epochs: int) -> None:
        from tqdm import tqdm
        tqdm.monitor_interval = 0  # no monitor thread: nothing may outlive a torchrun worker
        self.stream, self.epochs = stream, epochs
        self.bar = None
        self.bar_epoch = 0

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()   # leave=False: the bar's line is cleared
            self.bar = None

    def on_batch(self, b) -> None:
        from tqdm import tqdm

        from ..training.snapshots import format_eta
        acc = f" acc {_pct(b.running_acc)}" if b.running_acc is not None else ""
        status = (f"loss {b.running_loss:.4f}{acc} {b.samples_per_s:,.0f} samples/s ETA "
                  f"{format_eta(b.eta_s)}")
        if self.bar is None or self.bar_epoch != b.epoch:
            self._close()
            # Drawn at once with the first numbers, then at most every 0.1 s.
            self.bar = tqdm(total=b.batches, initial=b.batch, file=self.stream, leave=False,
                            desc=f"epoch {b.epoch}/{self.epochs}", postfix=status,
                            mininterval=0.1, miniters=1, ascii=" #",
                            bar_format="{desc} [{bar:20}] {percentage:3.0f}%{postfix}")
            self.bar_epoch = b.epoch
            return
        self.bar.set_postfix_str(status, refresh=False)
        self.bar.update(b.batch - self.bar.n)

    def on_epoch(self, e) -> None:
        self._close()
        if e.train_acc is not None:
            metrics = (f"train loss {e.train_loss:.4f} acc {_pct(e.train_acc)}  "
                       f"val loss {e.val_loss:.4f} acc {_pct(e.val_acc)}")
        else:
            metrics = (f"train loss {e.train_loss:.4f}  val loss {e.val_loss:.4f}  "
                       f"{_errors(e.val_mae, e.val_rmse)}")
        self.stream.write(f"epoch {e.epoch}/{self.epochs}  {metrics}  lr {e.lr:.3g}  "
                          f"{e.seconds:.1f} s\n")
        self.stream.flush()

    def on_event(self, event) -> None:
        if event.kind == "lr_hint":   # accuracy near chance: which way the lr should go
            self._close()
            self.stream.write(f"hint: {event.message}\n")
            self.stream.flush()

    def on_state(self, s) -> None:
        if s.state in ("diverged", "failed", "stopped"):
            self._close()

    def on_finish(self, result) -> None:
        self._close()


def header(trainer, project, *, device: str, batch: str, more: tuple[str, ...] = ()
           ) -> list[str]:
    """The lines a run starts with (``layerlab train`` and the torchrun entry)."""
    cfg, ds = trainer.config, trainer.dataset
    resumed = trainer.epoch or trainer.batch
    loss = trainer.objective.loss
    if ds.task == "regression":   # the dataset standardizes regression targets
        names = ", ".join(ds.target_names)
        loss += f" on standardized {names} (MAE and RMSE in {names}'s units)"
    return [f"training '{project.name}' on {ds.name} ({trainer.num_train:,} train / "
            f"{trainer.num_val:,} validation samples)", *more, f"device: {device}",
            f"{cfg.optimizer} lr {cfg.lr:g}, {batch}, {cfg.epochs} epochs, loss "
            f"{loss}" + (f", resuming after epoch {trainer.epoch}" if resumed else "")]


def print_result(result, out: Path, metrics_path, where: str) -> None:
    """The closing lines of a run (``layerlab train`` and the torchrun entry point): the
    last epoch's numbers, how it ended and how fast ``where`` trained, what was written."""
    if result.history:
        last = result.history[-1]
        if last.val_acc is not None:
            summary = (f"val_acc {_pct(last.val_acc)}  val_loss {last.val_loss:.4f}  "
                       f"train_acc {_pct(last.train_acc)}  train_loss {last.train_loss:.4f}")
        else:
            from ..formatting import plain_number
            summary = (f"val_mae {plain_number(last.val_mae)}  val_rmse "
                       f"{plain_number(last.val_rmse)}  val_loss {last.val_loss:.4f}  "
                       f"train_loss {last.train_loss:.4f}")
        print(f"epoch {result.final['epoch']}: {summary}")
    print(f"{result.status}: {result.message} — {result.seconds:.1f} s, "
          f"{result.samples_per_s:,.0f} samples/s on {where}")
    print(f"wrote {out} (checkpoint/, runs/, history.csv, history.json)"
          + (f" and {metrics_path}" if metrics_path else ""))


def run(args: argparse.Namespace) -> int:
    if "WORLD_SIZE" in os.environ:   # launched by torchrun: one process of a DDP job
        from .train_distributed import run as run_distributed
        return run_distributed(args)
    from ..locations import checkpoint_in, open_project
    from ..project import ProjectLoadError
    from ..training import TrainingError

    err = sys.stderr
    try:
        opened = open_project(args.file)
    except ProjectLoadError as exc:
        print(f"error: {exc}", file=err)
        return 2
    project = opened.project
    try:
        from ..training import Trainer, load_checkpoint
        from ..training.run_folder import RunFolder
        trainer = Trainer.from_project(project, opened.base_dir, **overrides(args))
        if args.resume:
            trainer.resume_from(load_checkpoint(checkpoint_in(args.resume)))
        folder = RunFolder(args.out or opened.run_dir, trainer, project,
                           metrics_path=args.metrics_json, keep_weights=args.keep_weights)
        folder.create()
    except TrainingError as exc:
        print(f"error: {exc}", file=err)
        return 2

    cfg, info = trainer.config, trainer.device_info
    for line in header(trainer, project, device=f"{info.describe()} ({info.reason})",
                       batch=f"batch {cfg.batch_size}"):
        print(line, file=err)
    for note in [*trainer.dataset.notes, *trainer.notes]:   # the dataset's: what was left out
        print(f"note: {note}", file=err)
    trainer.add_observer(Progress(err, cfg.epochs))
    trainer.add_observer(folder)
    if trainer.epoch >= cfg.epochs:
        print(f"note: the checkpoint already has {trainer.epoch} epochs; pass --epochs "
              f"above that to train further", file=err)

    interrupted = False
    trainer.start(max_batches=args.max_batches)
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
    problems = folder.finish(result)
    if problems:
        print(f"error: cannot write the results: {'; '.join(problems)}", file=err)
        return 1
    print_result(result, folder.out, args.metrics_json, result.device)
    if interrupted:
        return 130
    if result.status in ("diverged", "failed"):
        print(f"error: {result.message}", file=err)
        return 1
    return 0
