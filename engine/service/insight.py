"""Looking inside the session's model for the window: explanations of single values, where the
network looked, an activation's curve, the learning-rate range test (histograms over epochs:
histogram_stack.py) — computed by the engine (engine/explain, engine/training) in the worker,
returned as the plain data of protocol.py (numpy arrays, numbers, strings; never a tensor or
an engine object that would pull torch into the window).

Run these where the model may be read (requests.py: MODEL). They read the Trainer through its
public attributes.
"""
from __future__ import annotations

import collections
import dataclasses
import math
from typing import Any

import numpy as np

from .protocol import ExplainFrames, SaliencyMaps

__all__ = ["FRAMES_PER_REPLY", "VALUES_PER_REPLY", "ExplainerCache", "explain_frames",
           "frame", "saliency_maps", "activation_plot", "sample_label"]

#: Frames per reply at most, and numbers (window, kernel, products…) per reply at most: a
#: whole sweep of a small map arrives at once, a large one in chunks the view asks for ahead.
FRAMES_PER_REPLY = 256
VALUES_PER_REPLY = 400_000
#: Explainers kept (each holds one forward pass's outputs): the sample shown, and a few
#: before it while a person steps through samples.
EXPLAINERS_KEPT = 4
#: Validation samples an activation curve measures its inputs on.
CURVE_SAMPLES = 256


class ExplainerCache:
    """One Explainer per (weights version, split, sample): stepping the window along a map,
    or asking for the next chunk, reuses the forward pass."""

    def __init__(self) -> None:
        self._items: collections.OrderedDict = collections.OrderedDict()

    def get(self, key, make):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = make()
        self._items[key] = value
        while len(self._items) > EXPLAINERS_KEPT:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value):
        return value.to_json() if hasattr(value, "to_json") else dataclasses.asdict(value)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def frame(explanation) -> dict:
    """An engine explanation as a dict of its fields — the same numbers, numpy arrays kept —
    plus ``lines`` (the worked text), ``explained`` and, for Conv2d, ``channel_sums``."""
    data = {f.name: _plain(getattr(explanation, f.name))
            for f in dataclasses.fields(explanation)}
    data["explained"] = bool(explanation.explained)
    data["lines"] = tuple(explanation.lines())
    if hasattr(explanation, "channel_sums"):
        data["channel_sums"] = np.asarray(explanation.channel_sums)
    return data


def _frame_size(data: dict) -> int:
    return sum(int(v.size) for v in data.values() if isinstance(v, np.ndarray)) + 8


def sample_label(dataset, y) -> str:
    """A sample's true class or target, as a person reads it."""
    from ..formatting import named_value
    if dataset.task == "classification":
        k = int(y)
        names = dataset.class_names
        return str(names[k]) if 0 <= k < len(names) else str(k)
    real = np.atleast_1d(dataset.denormalize_target(np.asarray(y)))
    names = list(dataset.target_names) or [f"target {i}" for i in range(len(real))]
    return ", ".join(named_value(n, v) for n, v in zip(names, real.ravel()))


def _sample(dataset, split: str, index: int):
    x, y = ((dataset.x_val, dataset.y_val) if split == "val"
            else (dataset.x_train, dataset.y_train))
    name = "validation" if split == "val" else "training"
    if not 0 <= int(index) < len(y):
        raise ValueError(f"there is no {name} sample {index}: the {name} split has {len(y)} "
                         f"samples")
    return x[int(index)].numpy(), y[int(index)]


def _answer(dataset, outputs: np.ndarray) -> str:
    from ..formatting import named_value
    if dataset.task == "classification":
        k = int(np.argmax(outputs))
        names = dataset.class_names
        return str(names[k]) if 0 <= k < len(names) else str(k)
    real = np.atleast_1d(dataset.denormalize_target(np.asarray(outputs)))
    names = list(dataset.target_names) or [f"target {i}" for i in range(len(real))]
    return ", ".join(named_value(n, v) for n, v in zip(names, real.ravel()))


def explain_frames(trainer, cache: ExplainerCache, serial: int, node: str, index=None,
                   channel: int | None = None, start: int | None = None, sample: int = 0,
                   split: str = "val") -> ExplainFrames:
    """The frames of ``node``'s sweep for one sample around ``index`` (the clicked output
    element) or from ``start``: one channel's map in reading order, or a vector's features.
    Raises ExplainError / ValueError with a sentence."""
    from ..explain import Explainer
    from .model_facts import display_images
    ds = trainer.dataset
    version = (int(serial), int(trainer.global_step))
    x, y = _sample(ds, split, sample)

    def make():
        return Explainer(trainer.model, trainer.graph, x,
                         feature_names=ds.feature_names if len(ds.input_shape) == 1 else None)
    explainer = cache.get((version, split, int(sample)), make)
    shape = explainer.shape(node)
    if index is not None:
        index = explainer.check_index(node, index)
    if len(shape) == 3:
        channel = int(index[0]) if index is not None else int(channel or 0)
        explainer.check_index(node, (channel, 0, 0))
        total = int(shape[1] * shape[2])
        positions = [(channel, i, j) for i in range(shape[1]) for j in range(shape[2])]
        here = index[1] * shape[2] + index[2] if index is not None else None
        output_map = explainer.output(node)[channel]
    else:
        channel = None
        positions = [tuple(int(v) for v in i) for i in np.ndindex(*shape)]
        total = len(positions)
        here = positions.index(tuple(index)) if index is not None else None
        output_map = explainer.output(node).reshape(-1)
    first = frame(explainer.explain(node, positions[here if here is not None else
                                                     max(0, min(int(start or 0), total - 1))]))
    per_reply = max(1, min(FRAMES_PER_REPLY, VALUES_PER_REPLY // _frame_size(first)))
    if here is not None:                # the chunk that holds the clicked cell
        begin = (here // per_reply) * per_reply
    else:
        begin = max(0, min(int(start or 0), total - 1))
    end = min(total, begin + per_reply)
    frames = tuple(frame(explainer.explain(node, positions[p])) for p in range(begin, end))
    source, channels, maps = _source_maps(explainer, frames[0])
    outputs = explainer.output(trainer.model.output_id).reshape(-1)
    images = display_images(ds, x[None])[0] if len(ds.input_shape) == 3 else None
    return ExplainFrames(
        node=node, type=explainer.type_of(node), sample=int(sample), split=split,
        version=version, shape=tuple(int(d) for d in shape), channel=channel, start=begin,
        total=total, frames=frames, source=source, source_channels=channels,
        source_maps=maps, output_map=np.asarray(output_map, dtype=np.float32).copy(),
        image=images, label=sample_label(ds, y), predicted=_answer(ds, outputs))


def _source_maps(explainer, first: dict):
    """The maps a window lies on (the input image, or the previous layer's maps): every
    channel the frames read, or None for vectors."""
    source = first.get("source")
    if source is None:
        return None, (), None
    out = explainer.output(source)
    if out.ndim != 3:
        return source, (), None
    if "channels" in first:                       # Conv2d: the filter's group
        channels = tuple(int(c) for c in np.asarray(first["channels"]).ravel())
    elif "channel" in first and isinstance(first["channel"], int) and "window" in first:
        channels = (int(first["channel"]),)       # pooling: one channel
    else:
        return source, (), None
    return source, channels, np.asarray(out[list(channels)], dtype=np.float32).copy()


def saliency_maps(trainer, serial: int, method: str = "gradcam", node: str | None = None,
                  target: int | None = None, indices=None, raw=None, which: str = "predicted",
                  subject: str = "", key: tuple = ()) -> SaliencyMaps:
    """Grad-CAM or gradient saliency for validation samples (``indices``) or one raw input
    (``raw``: the dataset's own scale — a drawing, an opened image). ``target``: the class
    to explain (None: ``which`` — the predicted class, or the true one for samples)."""
    from ..explain import saliency_batch, upsample
    from .model_facts import display_images
    ds = trainer.dataset
    image_input = len(ds.input_shape) == 3
    labels: tuple = ()
    if raw is not None:
        xs = np.asarray(ds.normalize_input(np.asarray(raw)), dtype=np.float32)[None]
        indices = ()
    else:
        indices = tuple(int(i) for i in (indices or ()))
        n = len(ds.y_val)
        bad = [i for i in indices if not 0 <= i < n]
        if bad or not indices:
            raise ValueError(f"there is no validation sample {bad[0] if bad else '(none)'}: "
                             f"the validation split has {n} samples")
        xs = ds.x_val[list(indices)].numpy()
        y = ds.y_val[list(indices)].numpy()
        labels = tuple(int(t) if np.ndim(t) == 0 else np.asarray(t).tolist() for t in y)
    targets = None
    if target is not None:
        targets = [int(target)] * len(xs)
    elif which == "true" and labels and ds.task == "classification":
        targets = [int(t) for t in labels]
    results = saliency_batch(trainer.model, trainer.graph, xs, method, node, targets)
    heat_raw = np.stack([r.heatmap for r in results]).astype(np.float32)
    images = display_images(ds, xs) if image_input else None
    if image_input and method == "gradcam":
        size = tuple(int(d) for d in ds.input_shape[1:])
        heat = np.stack([upsample(h, size) for h in heat_raw])
    else:
        heat = heat_raw
    outputs = np.stack([r.outputs for r in results]).astype(np.float64)
    if ds.task == "classification":
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    else:
        probabilities = outputs
    return SaliencyMaps(
        method=method, node=results[0].node, subject=subject,
        targets=tuple(r.target for r in results), predicted=tuple(r.predicted for r in results),
        images=images, heat=np.asarray(heat, dtype=np.float32), heat_raw=heat_raw,
        peaks=np.asarray([r.peak for r in results], dtype=np.float64),
        probabilities=probabilities, indices=indices, labels=labels,
        version=(int(serial), int(trainer.global_step)), key=tuple(key))


def activation_plot(model, graph, node: str, xs, basis: str) -> dict:
    """An activation's f and f′ over the inputs it receives on ``xs`` (engine
    activation_curve), as a dict; ``basis`` says which weights ("trained", "initial")."""
    from ..explain import activation_curve
    curve = activation_curve(model, graph, node, xs)
    data = {f.name: _plain(getattr(curve, f.name)) for f in dataclasses.fields(curve)}
    data["basis"] = basis
    return data


def function_plot(graph, node: str, low: float = -4.0, high: float = 4.0) -> dict:
    """Without a model to run (no dataset, or a graph that does not build): the layer's own
    function over a default range, from its torch module alone — no inputs to count."""
    import torch

    from .. import registry
    from ..builder import make_layer
    from ..explain import ELEMENTWISE
    n = graph.node(node)
    if n.type not in ELEMENTWISE:
        raise ValueError(f"{node} is a {n.type}, not an element-wise activation: it has no "
                         f"single curve f(x) to plot")
    spec = registry.get(n.type)
    # An element-wise function does not depend on the input's shape: its parameters alone
    # build it, even while something upstream still has a problem.
    class_name, kwargs = spec.torch_call(spec.resolve(n.params), [(1,)])
    module = make_layer(class_name, kwargs)
    grid = torch.linspace(low, high, 201, requires_grad=True)
    with torch.enable_grad():
        y = module(grid)
        (dy,) = torch.autograd.grad(y.sum(), grid)
    return {"node": node, "type": n.type, "samples": 0, "low": low, "high": high,
            "x": grid.detach().numpy().astype(np.float64),
            "y": y.detach().numpy().astype(np.float64), "dy": dy.numpy().astype(np.float64),
            "counts": None, "edges": None, "share_negative": math.nan, "basis": "none"}
