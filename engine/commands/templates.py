"""``layerlab templates [--paths] [--estimate]``: the bundled templates, simplest first, each
with its parameters, the dataset it trains on and (``--estimate``) how long an epoch will take
here — the figures the app's gallery shows."""
from __future__ import annotations

import argparse

from ..templates import simplest_first


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paths", action="store_true", help="show each template's file")
    parser.add_argument("--estimate", action="store_true",
                        help="say how long an epoch of each takes here (measures this "
                             "machine's speed first, about a second)")


def run(args: argparse.Namespace) -> int:
    entries = simplest_first()
    rate = None
    if args.estimate:
        from ..epoch_estimate import measure_rate
        rate = measure_rate()
    width = max(len(f.template.key) for f in entries)
    pad = " " * width
    for f in entries:
        t = f.template
        print(f"{t.key.ljust(width)}  {t.name} — {f.params:,} parameters")
        if args.paths:
            print(f"{pad}  {t.path}")
        if t.description:
            print(f"{pad}  {t.description}")
        print(f"{pad}  dataset: {f.dataset}")
        if rate is not None and f.work is not None:
            from ..epoch_estimate import estimate_from
            print(f"{pad}  epoch: {estimate_from(f.work, rate).text()}")
    return 0
