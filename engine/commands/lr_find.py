"""``layerlab lr-find PROJECT [--batches N] [--start-lr LR] [--end-lr LR] [--device D]
[--seed S] [--batch-size N] [--optimizer NAME] [--json]``: the learning-rate range test.

Trains the project's network (from its initial weights) for at most 100 batches while the
learning rate grows exponentially, and prints the smoothed loss against the rate as a small
chart with the suggested rate and why (training/lr_finder.py; docs/training.md). Nothing is
written: the project and its run folder stay as they are. ``--json`` prints ``{"lrs",
"losses", "raw_losses", "suggestion", "min_lr", "reason", "stopped_early"}``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict

from .train import DEVICE_CHOICES, OPTIMIZER_CHOICES

#: Rows of the text chart.
CHART_ROWS = 12
CHART_WIDTH = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a LayerLab project (.json) or a bundled template's name")
    parser.add_argument("--batches", type=int, default=100, metavar="N",
                        help="batches to train, at most 100 (default 100)")
    parser.add_argument("--start-lr", type=float, default=1e-7, metavar="LR",
                        help="the first rate (default 1e-7)")
    parser.add_argument("--end-lr", type=float, default=10.0, metavar="LR",
                        help="the last rate (default 10)")
    parser.add_argument("--device", choices=DEVICE_CHOICES)
    parser.add_argument("--seed", type=int, help="random seed (overrides the project's)")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help="samples per batch (overrides the project's)")
    parser.add_argument("--optimizer", choices=OPTIMIZER_CHOICES,
                        help="optimizer (overrides the project's)")
    parser.add_argument("--json", action="store_true", help="print the curve as JSON")


def chart(result) -> list[str]:
    """A few rows of the curve: rate, smoothed loss and a bar, the suggestion marked."""
    from ..formatting import plain_number
    n = len(result.lrs)
    if not n:
        return []
    picks = sorted({round(i * (n - 1) / (CHART_ROWS - 1)) for i in range(CHART_ROWS)})
    near = None
    if result.suggestion is not None:   # the batch whose rate is nearest the suggestion
        near = min(range(n), key=lambda i: abs(math.log(result.lrs[i] / result.suggestion)))
        picks = sorted(set(picks) | {near})
    shown = [result.losses[i] for i in picks]
    low, high = min(shown), max(shown)
    lines = []
    for i in picks:
        loss = result.losses[i]
        width = 1 + round((CHART_WIDTH - 1) * (loss - low) / (high - low)) if high > low else 1
        mark = "  ← suggested" if i == near else ""
        lines.append(f"  lr {result.lrs[i]:>9.2e}  loss {plain_number(loss):>8}  "
                     f"{'#' * width}{mark}")
    return lines


def run(args: argparse.Namespace) -> int:
    from ..locations import open_project
    from ..project import ProjectLoadError
    from ..training import Trainer, TrainingError
    from ..training.lr_finder import MAX_BATCHES

    err = sys.stderr
    if not 3 <= args.batches <= MAX_BATCHES:
        print(f"error: --batches must be from 3 to {MAX_BATCHES} (found {args.batches}): the "
              f"range test is meant to be quick", file=err)
        return 2
    try:
        opened = open_project(args.file)
        trainer = Trainer.from_project(
            opened.project, opened.base_dir, device=args.device, seed=args.seed,
            batch_size=args.batch_size, optimizer=args.optimizer)
        result = trainer.lr_range_test(start_lr=args.start_lr, end_lr=args.end_lr,
                                       num_batches=args.batches)
    except (ProjectLoadError, TrainingError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    if args.json:
        print(json.dumps(asdict(result), indent=2, allow_nan=False))
        return 0
    cfg = trainer.config
    print(f"learning-rate range test of '{opened.project.name}': {len(result.lrs)} batches of "
          f"{cfg.batch_size} with {cfg.optimizer}, lr from {result.lrs[0]:.2g} to "
          f"{result.lrs[-1]:.2g}" + (" (stopped: the loss blew up)" if result.stopped_early
                                     else ""))
    for line in chart(result):
        print(line)
    if result.suggestion is not None:
        print(f"suggested learning rate: {result.suggestion:.2g} — {result.reason}")
    else:
        print(f"no suggestion: {result.reason}")
    return 0
