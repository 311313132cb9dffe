"""Trained weights: the files, and the key layout of the exported PyTorch code.

LayerLab's training saves a model's weights as a safetensors file whose keys are those of the
built GraphModule's ``state_dict()``: ``layers.<node id>.<tensor>`` (``layers.conv1.weight``,
``layers.bn1.running_mean``). The exported PyTorch class names its layers after the nodes
instead (``self.conv1``), so its keys are ``<attribute>.<tensor>`` (``conv1.weight``);
:func:`to_module_keys` and :func:`to_graph_keys` convert between the two.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Union

import torch

from ..graph import Graph
from .errors import ExportError
from .names import attribute_names

__all__ = ["Weights", "load_weights", "save_weights", "resolve_weights", "apply_weights",
           "to_module_keys", "to_graph_keys", "GRAPH_PREFIX"]

GRAPH_PREFIX = "layers."
#: A path to a weights file, or a state dict with GraphModule keys.
Weights = Union[str, os.PathLike, Mapping[str, torch.Tensor]]


def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A state dict from a ``.safetensors`` file (what training writes) or a ``.pt``/``.pth``
    state dict (loaded with ``weights_only=True``: no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"weights file {path} does not exist")
    try:
        if path.suffix.lower() in (".pt", ".pth", ".bin"):
            data = torch.load(path, map_location="cpu", weights_only=True)
        else:
            from safetensors.torch import load_file
            data = load_file(str(path), device="cpu")
    except Exception as exc:  # corrupt or foreign file: say which one
        raise ExportError(f"cannot read weights from {path}: {exc}") from exc
    if not isinstance(data, Mapping) or not all(isinstance(v, torch.Tensor)
                                                for v in data.values()):
        raise ExportError(f"{path} does not hold a state dict of tensors")
    return dict(data)


def save_weights(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike) -> Path:
    """Write a state dict as safetensors (contiguous CPU copies)."""
    from safetensors.torch import save_file
    path = Path(path)
    save_file({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, str(path))
    return path


def resolve_weights(weights: Weights | None) -> dict[str, torch.Tensor] | None:
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        return dict(weights)
    return load_weights(weights)


def apply_weights(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """``model.load_state_dict(state_dict)``, strict, with the mismatch explained: the
    weights usually stop fitting because the graph changed after training."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong = [f"{k} is {tuple(state_dict[k].shape)} but the model needs {tuple(v.shape)}"
             for k, v in own.items() if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append("missing " + _few(missing))
        if unexpected:
            parts.append("not in the model " + _few(unexpected))
        if wrong:
            parts.append("wrong shape: " + _few(wrong))
        raise ExportError("the weights do not fit this graph (was it changed after "
                          "training?): " + "; ".join(parts))
    model.load_state_dict(dict(state_dict))


def to_module_keys(graph: Graph, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """GraphModule keys (``layers.forward.weight``) → exported-class keys
    (``forward_.weight``). Keys of other shapes are an error."""
    names = attribute_names(graph)
    out = {}
    for key, value in state_dict.items():
        node, rest = _split(key.removeprefix(GRAPH_PREFIX) if key.startswith(GRAPH_PREFIX)
                            else None, key)
        if node not in names:
            raise ExportError(f"weight '{key}' belongs to no layer of this graph")
        out[f"{names[node]}.{rest}"] = value
    return out


def to_graph_keys(graph: Graph, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse of :func:`to_module_keys`."""
    nodes = {attr: node for node, attr in attribute_names(graph).items()}
    out = {}
    for key, value in state_dict.items():
        attr, rest = _split(key, key)
        if attr not in nodes:
            raise ExportError(f"weight '{key}' belongs to no layer of this graph")
        out[f"{GRAPH_PREFIX}{nodes[attr]}.{rest}"] = value
    return out


def _split(key: str | None, original: str) -> tuple[str, str]:
    if key is None or "." not in key:
        raise ExportError(f"weight '{original}' is not a LayerLab key "
                          f"('{GRAPH_PREFIX}<node>.<tensor>')")
    node, _, rest = key.partition(".")
    return node, rest


def _few(items: list[str], n: int = 4) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")
