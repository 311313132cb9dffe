"""``layerlab export FILE --format pytorch|onnx -o OUT [--weights W] [--verify]``"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("pytorch", "onnx")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a LayerLab project (.json) or a bundled template's name")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="pytorch (a standalone .py file) or onnx; default: from -o's suffix")
    parser.add_argument("-o", "--output", required=True, help="the file to write")
    parser.add_argument("--weights", default=None,
                        help="trained weights (.safetensors as training saves them, or .pt); "
                             "without it the layers keep their random initial values")
    parser.add_argument("--verify", action="store_true",
                        help="onnx only: run the file in onnxruntime and compare with torch")


def run(args: argparse.Namespace) -> int:
    from ..project import ProjectLoadError
    from ..export.errors import ExportError, MissingDependencyError
    from ..locations import open_project
    output = Path(args.output)
    fmt = args.format or {".py": "pytorch", ".onnx": "onnx"}.get(output.suffix.lower())
    if fmt is None:
        print(f"error: cannot tell the format from '{output.name}': give --format pytorch or "
              f"--format onnx", file=sys.stderr)
        return 2
    if args.verify and fmt != "onnx":
        print("note: --verify checks ONNX files; the PyTorch file is checked by running it",
              file=sys.stderr)
    try:
        project = open_project(args.file).project
        if fmt == "pytorch":
            from ..export.pytorch_code import export_pytorch
            written = export_pytorch(project, output, args.weights)
            max_diff = None
        else:
            from ..export.onnx_export import export_onnx, verify_onnx
            weights = args.weights
            if args.verify and weights is None:  # export and check the same random weights
                from ..builder import build_model
                weights = build_model(project.graph).state_dict()
            written = export_onnx(project, output, weights)
            max_diff = verify_onnx(project, output, weights) if args.verify else None
    except ProjectLoadError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ExportError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    if max_diff is not None:
        print(f"onnxruntime matches torch: largest difference {max_diff:.2e}")
        if max_diff > 1e-4:
            print("warning: the difference is larger than 1e-4", file=sys.stderr)
            return 1
    return 0
