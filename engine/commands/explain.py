"""``layerlab explain PROJECT --node ID --index I[,J,K] [--sample N] [--split val|train]
[--weights FILE] [--json]``: how one output value of one node came about for one sample,
with the trained network's own numbers (docs/explain.md).

Errors print a message and exit 2, never a traceback. A node type without an explanation yet
still prints its value, says so, and exits 0."""
from __future__ import annotations

import argparse
import json
import sys

from ..explain.loading import add_project_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)
    parser.add_argument("--node", required=True, metavar="ID", help="the node to explain")
    parser.add_argument("--index", required=True, metavar="I[,J,K]",
                        help="the output element: channel,row,column of a map, or the "
                             "feature of a vector (from 0)")


def parse_index(text: str) -> tuple[int, ...]:
    from ..explain import ExplainError
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ExplainError(f"--index takes whole numbers separated by commas, like 3,2,5 "
                           f"(channel, row, column) or 7 (a feature); got '{text}'") from None


def run(args: argparse.Namespace) -> int:
    from ..explain import Explainer, ExplainError, load_trained
    from ..explain.numbers import finite_json
    try:
        index = parse_index(args.index)
        trained = load_trained(args.project, args.weights)
        x, label = trained.sample(args.split, args.sample)
        explainer = Explainer(trained.model, trained.graph, x,
                              feature_names=trained.dataset.feature_names)
        result = explainer.explain(args.node, index)
    except ExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data = result.to_json()
        data.update(trained.about(args.split, args.sample, label, x))
        print(json.dumps(finite_json(data), allow_nan=False))
        return 0
    print(trained.heading(args.split, args.sample, label))
    print("\n".join(result.lines()))
    return 0
