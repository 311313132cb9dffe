"""``layerlab export FILE -o OUT [--format pytorch|onnx] [--weights W | --no-weights]
[--no-normalization] [--verify]``

By default the export uses the trained weights beside the project and says which file it used;
an ONNX file takes samples as the dataset stores them (the normalization is inside the graph)
and carries the class names. The work is engine/export/project_export.py's, which the window's
File ▸ Export calls too."""
from __future__ import annotations

import argparse
import sys

from ..export.project_export import FORMATS, TRAINED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a LayerLab project (.json) or a bundled template's name")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="pytorch (a standalone .py file) or onnx; default: from -o's suffix")
    parser.add_argument("-o", "--output", required=True, help="the file to write")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", default=None,
                         help="the weights to export (.safetensors as training saves them, or "
                              ".pt); default: the trained weights beside the project")
    weights.add_argument("--no-weights", action="store_true",
                         help="export the layers' random initial values, even when trained "
                              "weights exist")
    parser.add_argument("--no-normalization", action="store_true",
                        help="onnx only: leave the dataset's input normalization out of the "
                             "file (it then takes inputs normalized as in training)")
    parser.add_argument("--verify", action="store_true",
                        help="onnx only: run the file in onnxruntime and compare with torch")


def run(args: argparse.Namespace) -> int:
    from ..export.errors import ExportError, MissingDependencyError
    from ..export.project_export import export_project
    from ..project import ProjectLoadError
    weights = None if args.no_weights else (args.weights or TRAINED)
    try:
        result = export_project(args.file, args.output, fmt=args.format, weights=weights,
                                preprocess=not args.no_normalization, verify=args.verify)
    except ProjectLoadError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ExportError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in result.messages():
        print(line, file=sys.stderr if line.startswith("note:") else sys.stdout)
    if result.max_difference is not None and result.max_difference > 1e-4:
        print("warning: the difference is larger than 1e-4", file=sys.stderr)
        return 1
    return 0
