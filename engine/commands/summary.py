"""``layerlab summary FILE [--json]``"""
from __future__ import annotations

import argparse
import json
import sys

from ..locations import open_project
from ..project import ProjectLoadError
from ..summary import summary_json, summary_text
from ..inference import analyze


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a LayerLab project (.json) or a bundled template's name")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--batch-size", type=int, default=1,
                        help="batch size for the activation-memory estimate (default 1)")


def run(args: argparse.Namespace) -> int:
    try:
        project = open_project(args.file).project
    except ProjectLoadError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    analysis = analyze(project.graph)
    if args.json:
        print(json.dumps(summary_json(project.graph, analysis), indent=2))
    else:
        print(summary_text(project.graph, project.name, max(1, args.batch_size), analysis))
    return 0 if analysis.ok else 1
