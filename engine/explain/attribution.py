"""Where did it look? Grad-CAM on a layer's maps and gradient saliency on the input, for any
input the network takes — a dataset sample, a drawn digit already converted to the model's
input, an opened image — and in batches (the misclassified gallery).

Grad-CAM (Selvaraju et al. 2017): the gradient of the class score with respect to a layer's
maps A, averaged over each map, weighs the maps: heatmap = ReLU(Σ_c α_c · A_c), scaled so its
maximum is 1. Gradient saliency (Simonyan et al. 2014): |∂ score / ∂ input|, the largest over
the channels of each pixel (a vector input: each feature), scaled so its maximum is 1.

The class score is the output node's value for that class — the logits, or, when the network
ends in a Softmax, the Softmax's input (its logits), as Grad-CAM prescribes. "Class" means
output unit: for a regression network it is which output is explained.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..builder import GraphModule
from ..graph import Graph
from ..registry import format_shape
from .errors import ExplainError
from .nodes import input_shape

__all__ = ["METHODS", "Saliency", "saliency", "saliency_batch", "grad_cam", "gradient_saliency",
           "last_conv", "score_node", "upsample"]

METHODS = ("gradcam", "gradient")
BATCH = 64


@dataclass(frozen=True, eq=False, kw_only=True)
class Saliency:
    method: str                  # "gradcam" | "gradient"
    node: str | None             # Grad-CAM's layer; None for gradient saliency (the input)
    target: int                  # the class (output unit) whose score is explained
    predicted: int               # the network's answer: the largest output
    outputs: np.ndarray          # the output node's values for this input
    score_node: str              # the node whose output[target] is the score
    score: float
    heatmap: np.ndarray          # Grad-CAM: (h, w) of node; gradient: (H, W) or (features,)
    peak: float                  # the heatmap's maximum before scaling (0: nothing positive)
    channel_weights: np.ndarray | None = None   # Grad-CAM: α_c, one per channel of node
    input: np.ndarray            # the input as the network took it

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "node": self.node, "class": self.target,
                "predicted": self.predicted, "score_node": self.score_node,
                "score": self.score, "outputs": self.outputs.tolist(),
                "heatmap": self.heatmap.tolist(), "peak": self.peak,
                "channel_weights": (None if self.channel_weights is None
                                    else self.channel_weights.tolist())}


def last_conv(model: GraphModule, graph: Graph) -> str:
    convs = [n for n in model.order if graph.node(n).type == "Conv2d"]
    if not convs:
        raise ExplainError("this network has no Conv2d layer, so Grad-CAM has no maps to "
                           "weigh — use the gradient method instead")
    return convs[-1]


def score_node(model: GraphModule, graph: Graph) -> str:
    """The node whose output holds the class scores: the output, or a final Softmax's input."""
    out = model.output_id
    sources = model.sources.get(out, [])
    return sources[0] if graph.node(out).type == "Softmax" and len(sources) == 1 else out


def saliency(model: GraphModule, graph: Graph, x: Any, method: str = "gradcam",
             node: str | None = None, target: int | None = None) -> Saliency:
    """One input (the model's input shape, or a batch of one)."""
    x = np.asarray(x, dtype=np.float32)
    shape = input_shape(graph, model.input_id)
    if x.shape == shape:
        x = x[None]
    return saliency_batch(model, graph, x, method, node,
                          None if target is None else [target])[0]


def grad_cam(model: GraphModule, graph: Graph, x: Any, node: str | None = None,
             target: int | None = None) -> Saliency:
    return saliency(model, graph, x, "gradcam", node, target)


def gradient_saliency(model: GraphModule, graph: Graph, x: Any,
                      target: int | None = None) -> Saliency:
    return saliency(model, graph, x, "gradient", None, target)


def saliency_batch(model: GraphModule, graph: Graph, xs: Any, method: str = "gradcam",
                   node: str | None = None, targets: Sequence[int] | None = None,
                   batch_size: int = BATCH) -> list[Saliency]:
    """A batch of inputs (N, *input shape); ``targets`` one class each, default the
    predicted one. Runs ``batch_size`` inputs per forward/backward pass."""
    if method not in METHODS:
        raise ExplainError(f"unknown saliency method '{method}': choose one of "
                           f"{', '.join(METHODS)}")
    shape = input_shape(graph, model.input_id)
    xs = torch.as_tensor(np.asarray(xs, dtype=np.float32))
    if xs.dim() != len(shape) + 1 or tuple(xs.shape[1:]) != shape:
        raise ExplainError(f"inputs for this network must be a batch of "
                           f"{format_shape(shape)} samples; got {format_shape(tuple(xs.shape))}")
    if targets is not None and len(targets) != len(xs):
        raise ExplainError(f"{len(targets)} classes given for {len(xs)} inputs")
    if method == "gradcam":
        node = node or last_conv(model, graph)
        _check_node(model, node)
    else:
        node = None
    results: list[Saliency] = []
    step = max(1, batch_size)
    for start in range(0, len(xs), step):
        chunk = xs[start:start + step]
        chunk_targets = None if targets is None else targets[start:start + step]
        results += _run(model, graph, chunk, method, node, chunk_targets)
    return results


def upsample(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A (h, w) heatmap stretched bilinearly to (H, W), as it lies over the input image."""
    t = torch.as_tensor(np.asarray(heatmap, dtype=np.float32))[None, None]
    out = torch.nn.functional.interpolate(t, size=tuple(size), mode="bilinear",
                                          align_corners=False)
    return out[0, 0].clamp_(0.0, 1.0).numpy()


# --- the computation ----------------------------------------------------------------------
def _check_node(model: GraphModule, node: str) -> None:
    if node not in model.layers:
        raise ExplainError(f"there is no node '{node}' in this network (its nodes: "
                           f"{', '.join(model.order)})")


def _run(model, graph, xs, method, node, targets) -> list[Saliency]:
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    x = xs.detach().to(device).clone().requires_grad_(True)  # never the caller's tensor
    scorer = score_node(model, graph)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            outs = model.forward_all(x)
            scores = outs[scorer]
            if scores.dim() != 2:
                raise ExplainError(f"saliency explains a class score, but the network's "
                                   f"output ({scorer}) is {format_shape(tuple(scores.shape[1:]))}"
                                   f", not a vector of scores")
            k = scores.shape[1]
            chosen = (outs[model.output_id].argmax(1) if targets is None
                      else torch.as_tensor(list(targets), device=device))
            bad = [int(t) for t in chosen.tolist() if not 0 <= int(t) < k]
            if bad:
                raise ExplainError(f"class {bad[0]} does not exist: the network has {k} "
                                   f"output{'s' if k != 1 else ''}, so 0 ≤ class < {k}")
            picked = scores.gather(1, chosen.long().view(-1, 1))[:, 0]
            wrt = outs[node] if method == "gradcam" else x
            if method == "gradcam" and wrt.dim() != 4:
                raise ExplainError(f"Grad-CAM needs maps (channels × height × width), but "
                                   f"{node}'s output is {format_shape(tuple(wrt.shape[1:]))} — "
                                   f"choose a Conv2d (or a layer after one, before Flatten)")
            # The sum's gradient is each sample's own: in evaluation mode no sample reads
            # another (BatchNorm uses its running statistics).
            (grad,) = torch.autograd.grad(picked.sum(), wrt, allow_unused=True)
    finally:
        model.train(was_training)
    if grad is None:
        raise ExplainError(f"{node} does not lead to the output {scorer}, so the class score "
                           f"does not depend on it")
    with torch.no_grad():
        if method == "gradcam":
            weights = grad.mean(dim=(2, 3))
            raw = torch.relu((weights[:, :, None, None] * wrt).sum(dim=1))
            flat_dims = (1, 2)
        else:
            weights = None
            raw = grad.abs().amax(dim=1) if grad.dim() == 4 else grad.abs()
            flat_dims = tuple(range(1, raw.dim()))
        peak = raw.amax(dim=flat_dims)
        shape = (-1,) + (1,) * (raw.dim() - 1)
        heat = torch.where(peak.view(shape) > 0, raw / peak.clamp_min(1e-30).view(shape),
                           torch.zeros_like(raw))
    out_all = outs[model.output_id].detach().float().cpu().numpy()
    heat = heat.float().cpu().numpy()
    peak = peak.float().cpu().numpy()
    score_values = picked.detach().float().cpu().numpy()
    predicted = outs[model.output_id].argmax(1).cpu().numpy()
    alphas = None if weights is None else weights.float().cpu().numpy()
    inputs = xs.cpu().numpy()
    return [Saliency(method=method, node=node, target=int(chosen[i]),
                     predicted=int(predicted[i]), outputs=out_all[i], score_node=scorer,
                     score=float(score_values[i]), heatmap=heat[i], peak=float(peak[i]),
                     channel_weights=None if alphas is None else alphas[i], input=inputs[i])
            for i in range(len(xs))]
