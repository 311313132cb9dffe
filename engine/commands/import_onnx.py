"""``layerlab import MODEL.onnx -o PROJECT.json [--weights-out W.safetensors]``"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="an ONNX model")
    parser.add_argument("-o", "--output", required=True, help="the project file to write (.json)")
    parser.add_argument("--weights-out", default=None,
                        help="where to save the imported weights (default: the project's name "
                             "with .safetensors)")


def run(args: argparse.Namespace) -> int:
    from ..export.errors import ExportError, MissingDependencyError
    from ..project import save_project
    from ..summary import summary_text
    output = Path(args.output)
    weights_out = Path(args.weights_out) if args.weights_out else output.with_suffix(".safetensors")
    if weights_out == output:
        print("error: the weights would overwrite the project file", file=sys.stderr)
        return 2
    try:
        from ..export.onnx_import import import_onnx
        from ..export.weights import save_weights
        project, state = import_onnx(args.file)
    except (ExportError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    save_project(project, output)
    save_weights(state, weights_out)
    print(summary_text(project.graph, project.name))
    print(f"wrote {output} and {weights_out}")
    return 0
