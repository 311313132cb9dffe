"""The look inside a model, copied off the device as numpy: filters, the probe sample's
feature maps, per-layer gradient norms, and dead ReLU units. All of it runs without gradients
and in eval mode, so taking a snapshot never changes training (no RNG draws, no BatchNorm
statistics updates)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..builder import GraphModule
from .losses import Objective

__all__ = ["to_numpy", "conv_filters", "gradient_norms", "feature_maps", "dead_relu_fractions",
           "dead_share", "hooked_pass", "to_floats", "probe_prediction", "Looks", "look_inside"]


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy that shares no memory with the tensor (on the CPU ``.cpu()``
    returns the tensor itself, whose storage the optimizer keeps updating)."""
    t = t.detach()
    if t.is_floating_point() and t.dtype != torch.float32:
        t = t.float()
    a = t.cpu().numpy()
    return a.copy() if t.device.type == "cpu" else a


def conv_filters(model: GraphModule, conv_ids: list[str]) -> dict[str, np.ndarray]:
    return {n: to_numpy(model.layers[n].weight) for n in conv_ids}


def gradient_norms(model: GraphModule) -> dict[str, float]:
    """node id → L2 norm over all its parameters' gradients (nodes with parameters only;
    one device→host copy for all of them)."""
    ids, norms = [], []
    for node_id, module in model.layers.items():
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if grads:
            ids.append(node_id)
            norms.append(torch.linalg.vector_norm(
                torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])))
    if not ids:
        return {}
    values = torch.stack(norms).cpu().tolist()
    return dict(zip(ids, (float(v) for v in values)))


def feature_maps(model: GraphModule, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every node's output for a batch ``x`` (eval mode, no gradients); tensors on device."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model.forward_all(x)
    finally:
        model.train(was_training)


def dead_share(out: torch.Tensor) -> torch.Tensor:
    """The fraction (a 0-dim tensor, on the device) of a ReLU output's units that are 0 for
    every sample of the batch: channels of image-shaped outputs, features of vectors."""
    dims = [d for d in range(out.dim()) if d != 1]
    alive = out.amax(dim=dims) > 0 if out.dim() > 1 else out > 0
    return 1.0 - alive.float().mean()


def hooked_pass(model: GraphModule, x: torch.Tensor, hooks: dict) -> None:
    """One forward pass of ``x`` in eval mode without gradients, calling ``hooks[node_id](out)``
    with each hooked node's output as it is made (so nothing is kept beyond a normal pass);
    the model's mode is restored and the hooks removed afterwards."""
    def wrap(fn):
        return lambda _module, _inputs, out: fn(out)

    handles = [model.layers[n].register_forward_hook(wrap(fn)) for n, fn in hooks.items()
               if n in model.layers]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()


def to_floats(values: dict[str, torch.Tensor], order: list[str]) -> dict[str, float]:
    """0-dim tensors by node id as Python floats, in ``order``, with one device→host copy."""
    ids = [n for n in order if n in values]
    floats = torch.stack([values[n] for n in ids]).cpu().tolist() if ids else []
    return dict(zip(ids, (float(v) for v in floats)))


def dead_relu_fractions(model: GraphModule, relu_ids: list[str],
                        x: torch.Tensor) -> dict[str, float]:
    """Fraction of units of each ReLU node that output 0 for every sample of ``x``. A unit is
    a channel for image-shaped outputs and a feature for vectors. Forward hooks reduce each
    output as it is made, so memory stays that of a normal forward pass."""
    if not relu_ids or x.shape[0] == 0:
        return {}
    fractions: dict[str, torch.Tensor] = {}

    def hook_for(node_id: str):
        return lambda out: fractions.__setitem__(node_id, dead_share(out))

    hooked_pass(model, x, {n: hook_for(n) for n in relu_ids})
    return to_floats(fractions, relu_ids)


def probe_prediction(objective: Objective, logits: torch.Tensor) -> np.ndarray:
    """The probe's class probabilities (or regression values) from the loss node's output."""
    return to_numpy(objective.probabilities(logits.float())[0])


@dataclass(frozen=True)
class Looks:
    """What a visual snapshot shows of one set of weights, and of one probe sample."""
    filters: dict[str, np.ndarray]
    feature_maps: dict[str, np.ndarray]
    grad_norms: dict[str, float]
    probe_output: np.ndarray | None


def look_inside(model: GraphModule, objective: Objective, loss_node: str, conv_ids: list[str],
                probe_x: torch.Tensor | None, wanted: frozenset[str] | None, *,
                filters: bool, maps: bool, gradients: bool) -> Looks:
    """The filters, the probe's feature maps (of the ``wanted`` nodes; None: every node's)
    and prediction, and the gradient norms: the Trainer's visual snapshots and the worker's
    capture process (engine/service/capture.py) both take them here."""
    feature, probe_out = {}, None
    if probe_x is not None:
        outputs = feature_maps(model, probe_x)
        probe_out = probe_prediction(objective, outputs[loss_node])
        if maps:
            feature = {k: to_numpy(v[0]) for k, v in outputs.items()
                       if wanted is None or k in wanted}
        del outputs
    return Looks(filters=conv_filters(model, conv_ids) if filters else {},
                 feature_maps=feature,
                 grad_norms=gradient_norms(model) if gradients else {},
                 probe_output=probe_out)
