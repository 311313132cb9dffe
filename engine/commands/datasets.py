"""``layerlab datasets [--markdown]``: the dataset kinds and their settings, from the
declarations."""
from __future__ import annotations

import argparse

from ..data.kinds import all_kinds
from ..data.reference import dataset_reference_markdown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true",
                        help="the full reference as Markdown (docs/datasets.md)")


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        print(dataset_reference_markdown(), end="")
        return 0
    kinds = list(all_kinds())
    width = max(len(k.name) for k in kinds)
    for kind in kinds:
        settings = ", ".join(p.name for p in kind.params) or "no settings of its own"
        print(f"{kind.name.ljust(width)}  {kind.summary}\n{' ' * width}  ({settings})")
    return 0
