"""Explanations of a trained network's numbers, for the learner's own graph (Qt-free):

- :class:`Explainer` — one forward pass for one sample, then any element of any node explained
  with the actual numbers (Conv2d window × kernel, pooling, Linear, Softmax, BatchNorm, …);
- :func:`saliency` / :func:`saliency_batch` — Grad-CAM and gradient saliency ("where did it
  look?") for any input, one or a batch;
- :func:`activation_curve` — an activation's f and f′ over the inputs it really receives;
- :func:`load_trained` — a project, its trained weights and its dataset, for the commands.

Results are frozen dataclasses of numpy arrays, numbers and strings (cheap to pickle to a
window from a worker process), with ``to_json()``. See docs/explain.md.
"""
from .errors import ExplainError

_LAZY = {
    "Explainer": "explainer", "EXPLAINED_TYPES": "explainer", "as_sample": "explainer",
    "Explanation": "base", "ActivationStep": "base", "Unsupported": "base",
    "ConvExplanation": "conv", "PoolExplanation": "pooling",
    "LinearExplanation": "dense", "FlattenExplanation": "dense",
    "SoftmaxExplanation": "softmax", "BatchNormExplanation": "normalization",
    "PassThroughExplanation": "normalization", "ActivationExplanation": "elementwise",
    "AddExplanation": "merge", "ConcatExplanation": "merge", "ELEMENTWISE": "elementwise",
    "Saliency": "attribution", "saliency": "attribution", "saliency_batch": "attribution",
    "grad_cam": "attribution", "gradient_saliency": "attribution", "last_conv": "attribution",
    "upsample": "attribution", "METHODS": "attribution",
    "ActivationCurve": "curves", "activation_curve": "curves",
    "Trained": "loading", "load_trained": "loading",
    "overlay_image": "overlay", "save_overlay": "overlay",
}

__all__ = ["ExplainError", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
