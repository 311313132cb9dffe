"""``layerlab templates``"""
from __future__ import annotations

import argparse

from ..inference import analyze
from ..templates import list_templates


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paths", action="store_true", help="show each template's file")


def run(args: argparse.Namespace) -> int:
    templates = list_templates()
    width = max(len(t.key) for t in templates)
    for t in templates:
        project_params = analyze(_load(t.path).graph).total_params
        line = f"{t.key.ljust(width)}  {t.name} — {project_params:,} parameters"
        print(line + (f"\n{' ' * width}  {t.path}" if args.paths else ""))
        if t.description:
            print(f"{' ' * width}  {t.description}")
    return 0


def _load(path):
    from ..project import load_project
    return load_project(path)
