"""Export a project as PyTorch code or ONNX, and import ONNX files back into an editable graph.

What the window's File ▸ Export and ``layerlab export`` call — the trained weights beside the
project by default, the dataset's normalization baked into ONNX files — is
``project_export.export_project`` (see its docstring). A PyTorch module comes in through
``layerlab.engine.from_torch`` (engine/torch_import.py). The lower-level functions (each
imports torch / onnx only when it runs)::

    export_pytorch(project, "model.py", weights=None)   # -> [Path, ...] files written
    export_onnx(project, "model.onnx", weights=None)    # -> [Path, ...]
    project, state_dict = import_onnx("model.onnx")

``weights`` is a path to a safetensors (or .pt) file, or a state dict, with the keys of
LayerLab's GraphModule (``layers.<node>.<tensor>``). ONNX needs the optional extra
``pip install "layerlab[export]"``; without it these raise MissingDependencyError.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import EXTRA_HINT, ExportError, MissingDependencyError, OnnxImportError

if TYPE_CHECKING:
    from ..graph import Project

__all__ = ["export_pytorch", "export_onnx", "import_onnx", "ExportError",
           "MissingDependencyError", "OnnxImportError", "EXTRA_HINT"]


def export_pytorch(project: "Project", path: str | os.PathLike,
                   weights: Any = None) -> list[Path]:
    """Write ``project`` as a standalone PyTorch module (and its weights as ``<stem>.pt``)."""
    from .pytorch_code import export_pytorch as run
    return run(project, path, weights)


def export_onnx(project: "Project", path: str | os.PathLike, weights: Any = None) -> list[Path]:
    """Write ``project`` as an ONNX model with a dynamic batch dimension."""
    from .onnx_export import export_onnx as run
    return run(project, path, weights)


def import_onnx(path: str | os.PathLike) -> tuple["Project", dict]:
    """Read an ONNX file into a Project and a state dict with GraphModule keys."""
    from .onnx_import import import_onnx as run
    return run(path)
