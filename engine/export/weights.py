"""Trained weights: the files, and the key layout of the exported PyTorch code.

LayerLab's training saves a model's weights as a safetensors file whose keys are those of the
built GraphModule's ``state_dict()``: ``layers.<node id>.<tensor>`` (``layers.conv1.weight``,
``layers.bn1.running_mean``). The exported PyTorch class names its layers after the nodes
instead (``self.conv1``), so its keys are ``<attribute>.<tensor>`` (``conv1.weight``);
:func:`to_module_keys` and :func:`to_graph_keys` convert between the two.
"""
from __future__ import annotations

import os
import pickle
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
    except pickle.UnpicklingError:
        # torch's own message suggests weights_only=False, which would run whatever code the
        # file carries: never pass that on.
        raise ExportError(f"{path.name} holds Python objects besides tensors, so LayerLab does "
                          f"not open it (loading such a file can run code). Weights files must "
                          f"hold only tensors: save them with torch.save(model.state_dict()) or "
                          f"as safetensors") from None
    except Exception as exc:  # corrupt or foreign file: say which one
        raise ExportError(f"cannot read weights from {path}: {_first_line(exc)}") from None
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


def apply_weights(model: torch.nn.Module,
                  state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``model.load_state_dict(state_dict)``, strict, with the mismatch explained: the
    weights usually stop fitting because the graph changed after training. Weights that would
    export silently wrong — NaN or infinite values, integers where the model computes with
    floats — are refused by name. Returns the state dict as loaded."""
    own = model.state_dict()
    state_dict = {k: _fit_scalar(v, own.get(k)) for k, v in state_dict.items()}
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
    bad = [problem for key, value in own.items() if (problem := _bad_values(key, state_dict[key],
                                                                           value))]
    if bad:
        raise ExportError("these weights cannot be exported: " + "; ".join(bad[:4])
                          + (f" and {len(bad) - 4} more" if len(bad) > 4 else ""))
    model.load_state_dict(state_dict)
    return state_dict


def _fit_scalar(value: torch.Tensor, wanted: torch.Tensor | None) -> torch.Tensor:
    """A one-element (1,) tensor for a 0-d slot (num_batches_tracked) as 0-d: files written by
    LayerLab's ONNX import before it kept 0-d counts 0-d still load."""
    if wanted is not None and wanted.dim() == 0 and value.dim() == 1 and value.numel() == 1:
        return value.reshape(())
    return value


def _bad_values(key: str, value: torch.Tensor, wanted: torch.Tensor) -> str | None:
    if not wanted.is_floating_point():
        return None  # counts (num_batches_tracked) are integers by nature
    if not value.is_floating_point():
        return (f"{key} holds integers ({str(value.dtype).removeprefix('torch.')}) where the "
                f"model computes with floating-point numbers — the file was not written from "
                f"this model's weights")
    nan = int(torch.isnan(value).sum())
    if nan:
        return (f"{key} holds {nan} NaN value{'s' if nan != 1 else ''} (training diverged: "
                f"retrain with a lower learning rate, or export earlier weights)")
    inf = int(torch.isinf(value).sum())
    if inf:
        return (f"{key} holds {inf} infinite value{'s' if inf != 1 else ''} (training "
                f"diverged: retrain with a lower learning rate, or export earlier weights)")
    return None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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
