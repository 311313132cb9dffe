"""``layerlab layers [--markdown]``: the layer types, from the registry."""
from __future__ import annotations

import argparse

from ..reference import layer_reference_markdown
from ..registry import all_specs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true",
                        help="the full reference as Markdown (docs/layers.md)")


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        print(layer_reference_markdown(), end="")
        return 0
    specs = list(all_specs())
    width = max(len(s.type) for s in specs)
    group = None
    for spec in specs:
        if spec.group != group:
            group = spec.group
            print(f"\n{group}")
        print(f"  {spec.type.ljust(width)}  {spec.summary}")
    return 0
