"""What a histogram pass costs the worker to stack its strips, as a run gets longer.

    python bench/bench_histogram_stack.py [--epochs 100]

After every histogram pass the worker sends the window every epoch's histograms so far,
stacked per layer (engine/service/histogram_stack.py). The reference, timed in the same run, is
what the worker did before: engine ``strips()`` stacking every snapshot again. Printed for runs
of 10, 50 and 100 epochs of digits_cnn (a snapshot every epoch): milliseconds per pass on
average over the run, and the ratio (stack / reference) — the one that counts on a shared
machine.
"""
from __future__ import annotations

import argparse

from bench_inference import timed   # the same median timer (run from bench/ or the root)
from layerlab.engine.service.histogram_stack import HistogramStack
from layerlab.engine.templates import load_template
from layerlab.engine.training import Trainer, TrainingObserver
from layerlab.engine.training.histograms import strips


class Keep(TrainingObserver):
    def __init__(self) -> None:
        self.snaps = []

    def on_histograms(self, snap) -> None:
        self.snaps.append(snap)


def stack_all_again(snaps) -> None:
    for kind in ("weights", "activations"):
        for node in getattr(snaps[-1], kind):
            strips(snaps, node, kind)


def whole_run(snaps) -> None:
    """What the worker does over a run: after every pass, add it and send every strip."""
    stack = HistogramStack()
    for snap in snaps:
        stack.add(snap)
        stack.strips()


def whole_run_again(snaps) -> None:
    """The reference: after every pass, every snapshot so far stacked again."""
    for i in range(1, len(snaps) + 1):
        stack_all_again(snaps[:i])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    keep = Keep()
    Trainer.from_project(load_template("digits_cnn"), epochs=args.epochs, device="cpu",
                         snapshots={"histogram_budget": 1.0}, observers=[keep]).run()
    print("stacking over a whole run (a histogram pass every epoch), ms per pass on average")
    print(f"{'epochs':>7}{'stack':>9}{'every row again':>17}{'ratio':>8}")
    for n in (10, 50, 100):
        if n > len(keep.snaps):
            break
        snaps = keep.snaps[:n]
        stack_ms = timed(lambda: whole_run(snaps), 5) * 1e3 / n
        again_ms = timed(lambda: whole_run_again(snaps), 5) * 1e3 / n
        print(f"{n:>7}{stack_ms:>9.2f}{again_ms:>17.2f}{stack_ms / again_ms:>8.2f}")


if __name__ == "__main__":
    main()
