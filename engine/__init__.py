"""LayerLab's engine: a plain Python library (no Qt) for layer graphs and their training.

Everything the GUI can do to a model, the engine can do headless::

    from layerlab.engine import load_project, analyze, build_model
    project = load_project("resources/templates/lenet5.json")
    analysis = analyze(project.graph)          # shapes, parameters, MACs, problems
    model = build_model(project.graph)         # a torch.nn.Module

Importing this package does not import torch; the builder does.
"""
from .graph import Edge, Graph, GraphEditError, Node, Project
from .inference import Analysis, NodeInfo, Problem, analyze, topological_order
from .params import ParamError
from .project import (ProjectLoadError, dumps_project, load_project, loads_project,
                      project_from_dict, project_to_dict, save_project)
from .registry import LayerSpec, ShapeError, all_specs, format_shape
from .registry import find as find_layer
from .registry import get as get_layer

__all__ = [
    "Edge", "Graph", "GraphEditError", "Node", "Project", "Analysis", "NodeInfo", "Problem",
    "analyze", "topological_order", "ParamError", "ProjectLoadError", "dumps_project",
    "load_project", "loads_project", "project_from_dict", "project_to_dict", "save_project",
    "LayerSpec", "ShapeError", "all_specs", "format_shape", "find_layer", "get_layer",
    "build_model", "GraphModule", "GraphError", "from_torch",
]


def __getattr__(name: str):
    # The builder imports torch (seconds); load it only when asked for.
    if name in ("build_model", "GraphModule", "GraphError"):
        from . import builder
        return getattr(builder, name)
    if name == "from_torch":  # a PyTorch module → (project, weights); imports torch
        from .torch_import import from_torch
        return from_torch
    raise AttributeError(name)
