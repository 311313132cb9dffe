"""How long a validation pass takes on the CPU with its samples fed in chunks sized to the
cache (training/loop.py's ``evaluation_batch``) against 512 at a time, as every pass did
before, for the CPU-sized templates:

    python bench/bench_evaluation.py [--repeats 7] [--threads N] [template …]

Each template's untrained model runs its whole validation split; the two chunk sizes
alternate, and the median of ``--repeats`` passes is printed with the ratio (rule / 512:
below 1 is faster). ``--threads`` sets torch's threads (default: one, as the app's worker
trains on a 2-core machine).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

DEFAULT = ("digits_cnn", "lenet5", "keras_mnist", "shapes_cnn", "vgg_small_shapes",
           "resnet8_shapes", "mobilenet_v2_shapes", "se_net_shapes", "house_mlp")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from layerlab.engine.templates import load_template
    from layerlab.engine.training import Trainer
    from layerlab.engine.training.batches import BatchSource
    from layerlab.engine.training.loop import EVAL_BATCH, evaluate
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); median of "
          f"{args.repeats} validation passes each")
    print(f"{'template':22s} {'samples':>7s} {'chunk':>5s} {'ms':>8s} {'512: ms':>8s} "
          f"{'ratio':>6s}")
    for key in args.templates:
        trainer = Trainer.from_project(load_template(key), epochs=1, device="cpu")
        ds = trainer.dataset
        source = BatchSource(ds.x_val, ds.y_val, trainer.device)
        model, objective = trainer.parts.train_model, trainer.objective
        times: dict[int, list[float]] = {trainer.eval_batch: [], EVAL_BATCH: []}
        evaluate(model, objective, source, EVAL_BATCH)             # warm-up
        for i in range(args.repeats):
            for chunk in (list(times) if i % 2 == 0 else list(times)[::-1]):
                start = time.perf_counter()
                evaluate(model, objective, source, chunk)
                times[chunk].append(time.perf_counter() - start)
        rule = 1000 * statistics.median(times[trainer.eval_batch])
        fixed = 1000 * statistics.median(times[EVAL_BATCH])
        print(f"{key:22s} {len(ds.y_val):7d} {trainer.eval_batch:5d} {rule:8.1f} {fixed:8.1f} "
              f"{rule / fixed:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
