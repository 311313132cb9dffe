"""How close is the epoch-time estimate (engine/epoch_estimate.py) to a measured epoch?

    python bench/bench_epoch_estimate.py [KEY ...] [--batches N] [--repeats R]

For each template (default: all of them), in every repeat: measure the device's rate afresh,
estimate, then train with the Trainer and an observer that receives everything (as the app's
does) and time it. Light templates train one whole epoch (validation included); the heavy
ones (``--batches`` batches, 3 by default, for templates whose estimated epoch is over a
minute) are timed over those batches and compared with the estimate for as many batches.
Prints measured ÷ estimated per template (1.0 is a perfect estimate; the median over the
repeats, with its spread) — ratios, because absolute times on a shared machine say little.
It asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from layerlab.engine.epoch_estimate import _measure, epoch_work, estimate_from, format_duration
from layerlab.engine.project import load_project
from layerlab.engine.templates import list_templates
from layerlab.engine.training import Trainer, TrainingObserver

HEAVY_S = 60.0


class Sink(TrainingObserver):
    """Receives every snapshot and keeps the latest (what a dashboard does)."""

    def on_batch(self, snap) -> None:
        self.batch = snap

    def on_epoch(self, snap) -> None:
        self.epoch = snap

    def on_visuals(self, snap) -> None:
        self.visuals = snap


def one(template, batches: int) -> tuple[float, float, str]:
    project = load_project(template.path)
    base = template.path.parent
    rate = _measure("cpu")
    work = epoch_work(project, base)
    estimate = estimate_from(work, rate)
    trainer = Trainer.from_project(project, base, epochs=1, device="cpu")
    trainer.add_observer(Sink())
    if estimate.seconds is not None and estimate.seconds > HEAVY_S:
        n = min(batches, work.batches)
        expected = n * (estimate.step_s + work.batch_size * estimate.sample_s)
        start = time.perf_counter()
        trainer.run(max_batches=n)
        return time.perf_counter() - start, expected, f"{n} batches"
    result = trainer.run()
    seconds = result.history[-1].seconds
    if estimate.seconds is None:      # a CSV: the estimate for the samples it turned out to have
        estimate = estimate_from(epoch_work(project, base, samples=len(trainer.dataset.y_train)
                                            + len(trainer.dataset.y_val)), rate)
    return seconds, estimate.seconds, "1 epoch"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="template keys (default: all)")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    templates = [t for t in list_templates() if not args.keys or t.key in args.keys]
    ratios: dict[str, list[float]] = {t.key: [] for t in templates}
    what: dict[str, tuple] = {}
    for r in range(args.repeats):
        order = templates[r % len(templates):] + templates[:r % len(templates)]
        for template in order:
            measured, expected, span = one(template, args.batches)
            ratios[template.key].append(measured / expected)
            what[template.key] = (measured, expected, span)
            print(f"  {template.key}: measured {measured:.2f} s, estimated {expected:.2f} s "
                  f"({span})", file=sys.stderr, flush=True)
    print(f"{'template':22} {'span':10} {'measured':>10} {'estimated':>14}  measured÷estimated")
    for key, values in ratios.items():
        measured, expected, span = what[key]
        spread = f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""
        print(f"{key:22} {span:10} {measured:9.2f}s {format_duration(expected):>14}  "
              f"{statistics.median(values):.2f}{spread}")
    every = [statistics.median(v) for v in ratios.values()]
    print(f"median over templates: {statistics.median(every):.2f}, "
          f"range {min(every):.2f}–{max(every):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
