"""``layerlab import MODEL.onnx -o PROJECT.json [--weights-out W.safetensors]``
``layerlab import --torch package.module:factory --input-shape C,H,W -o PROJECT.json``

The second form imports the factory's module and calls it: it runs that Python code, exactly
as ``python -c "from package.module import factory; factory()"`` would."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="an ONNX model (or use --torch)")
    parser.add_argument("-o", "--output", required=True, help="the project file to write (.json)")
    parser.add_argument("--weights-out", default=None,
                        help="where to save the imported weights (default: the project's name "
                             "with .safetensors)")
    parser.add_argument("--torch", metavar="MODULE:FACTORY", default=None,
                        help="import a PyTorch model instead: FACTORY() in MODULE (a dotted "
                             "module name, or a .py file) must return an nn.Module. This RUNS "
                             "that code, so only use code you trust")
    parser.add_argument("--input-shape", metavar="C,H,W", default=None,
                        help="with --torch: one sample's shape, e.g. 3,32,32 or 13")


def run(args: argparse.Namespace) -> int:
    from ..export.errors import ExportError, MissingDependencyError
    from ..project import save_project
    from ..summary import summary_text
    output = Path(args.output)
    weights_out = Path(args.weights_out) if args.weights_out else output.with_suffix(".safetensors")
    if weights_out == output:
        print("error: the weights would overwrite the project file", file=sys.stderr)
        return 2
    if (args.file is None) == (args.torch is None):
        print("error: give an ONNX file or --torch MODULE:FACTORY (one of them)", file=sys.stderr)
        return 2
    try:
        if args.torch is not None:
            project, state = _from_torch(args.torch, args.input_shape)
        else:
            from ..export.onnx_import import import_onnx
            project, state = import_onnx(args.file)
        from ..export.weights import save_weights
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ExportError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    save_project(project, output)
    save_weights(state, weights_out)
    print(summary_text(project.graph, project.name))
    print(f"wrote {output} and {weights_out}")
    return 0


class _UsageError(Exception):
    """Arguments that do not say what to import."""


def _from_torch(spec: str, shape_text: str | None):
    import torch
    from torch import nn
    from ..torch_import import from_torch
    module_name, _, factory_name = spec.partition(":")
    if not module_name or not factory_name:
        raise _UsageError(f"--torch needs package.module:factory (or file.py:factory), got "
                          f"'{spec}'")
    shape = _shape(shape_text)
    namespace = _load(module_name)
    factory = getattr(namespace, factory_name, None)
    if factory is None:
        raise _UsageError(f"{module_name} has no '{factory_name}'")
    try:
        model = factory()
    except Exception as exc:  # noqa: BLE001 — the user's code: report, never a traceback
        raise _UsageError(f"{module_name}:{factory_name}() raised {type(exc).__name__}: "
                          f"{_first_line(exc)}") from None
    if not isinstance(model, nn.Module):
        raise _UsageError(f"{module_name}:{factory_name}() returned {type(model).__name__}, not "
                          f"a torch.nn.Module")
    return from_torch(model, torch.randn(2, *shape), name=type(model).__name__)


def _shape(text: str | None) -> list[int]:
    if text is None:
        raise _UsageError("--torch needs --input-shape C,H,W (or F for feature vectors)")
    shape = parse_input_shape(text)
    if shape is None:
        raise _UsageError(f"--input-shape must be C,H,W or F in whole numbers, got '{text}'")
    return shape


def parse_input_shape(text: str) -> list[int] | None:
    """"3,32,32" / "3×32×32" / "13" → one sample's shape (1 or 3 whole numbers ≥ 1), else
    None. (The window's import dialog checks with this too.)"""
    try:
        shape = [int(v) for v in text.replace("×", ",").replace("x", ",").split(",")]
    except ValueError:
        return None
    return shape if len(shape) in (1, 3) and min(shape) >= 1 else None


def _load(name: str):
    """The module ``name`` (dotted, found from the current folder too) or the file ``name``."""
    try:
        if name.endswith(".py"):
            path = Path(name)
            if not path.is_file():
                raise _UsageError(f"cannot import {name}: no such file")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        sys.path.insert(0, str(Path.cwd()))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(Path.cwd()))
    except _UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 — importing runs the user's code
        raise _UsageError(f"cannot import {name}: {type(exc).__name__}: "
                          f"{_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""
