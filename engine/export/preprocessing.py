"""What a sample goes through before (and a prediction after) the graph, so that an exported
file takes data exactly as its files store it and says what it predicts.

Training normalizes every sample (engine/data): a stored value × ``stored_scale`` gives the raw
0..1 scale, then standardization (x − mean) / std per channel or feature, or min–max scaling.
That is one multiply and one add per channel::

    model input = stored · a + b        a = stored_scale / std,   b = −mean / std

A regression model's outputs are standardized targets: real units are y · std + mean.

:func:`bake_into_onnx` writes these as ONNX nodes around the exported graph (named
``layerlab_preprocess_*`` / ``layerlab_postprocess_*``, which LayerLab's importer recognizes and
drops again) and records, in the model's metadata, the class names, the input layout and range,
the normalization and the task — see docs/export.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Preprocessing", "from_dataset", "bake_into_onnx", "PREFIX", "METADATA_KEYS"]

#: Names of the nodes and initializers the bake-in adds (the importer drops such nodes).
PREFIX = "layerlab_"
METADATA_KEYS = ("class_names", "task", "input_layout", "input_shape", "input_range",
                 "normalization", "output")


@dataclass(frozen=True)
class Preprocessing:
    """The per-channel (images) or per-feature (tables) affine map from stored samples to the
    model's input, what the outputs mean, and the words the metadata says them in."""
    input_shape: tuple[int, ...]
    scale: tuple[float, ...]            # a, one per channel / feature
    shift: tuple[float, ...]            # b
    task: str                           # "classification" / "regression"
    class_names: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()
    output_scale: tuple[float, ...] = ()  # regression: y · std + mean
    output_shift: tuple[float, ...] = ()
    stored_scale: float = 1.0
    normalization: dict = field(default_factory=dict)

    @property
    def layout(self) -> str:
        return "NCHW" if len(self.input_shape) == 3 else "NF"

    def apply(self, stored: np.ndarray) -> np.ndarray:
        """Stored samples (a batch) → model input, in float32 as the exported graph does it."""
        a, b = (np.asarray(v, dtype=np.float32).reshape(self._broadcast())
                for v in (self.scale, self.shift))
        return np.asarray(stored, dtype=np.float32) * a + b

    def finish(self, outputs: np.ndarray) -> np.ndarray:
        if not self.output_scale:
            return outputs
        return (outputs * np.asarray(self.output_scale, dtype=np.float32)
                + np.asarray(self.output_shift, dtype=np.float32))

    def _broadcast(self) -> tuple[int, ...]:
        return (1, -1, 1, 1) if len(self.input_shape) == 3 else (1, -1)

    def metadata(self) -> dict[str, str]:
        unit = "channel" if len(self.input_shape) == 3 else "feature"
        stored = ("pixel values as stored in the dataset's files"
                  if len(self.input_shape) == 3 else "the feature values as in the data file")
        top = 1 / self.stored_scale
        range_text = (f"{stored}: 0 to {top:g} (the graph scales by {self.stored_scale:g} and "
                      f"normalizes per {unit} itself)" if len(self.input_shape) == 3 else
                      f"{stored} (the graph normalizes per {unit} itself)")
        if self.task == "regression":
            output = (f"predicted {', '.join(self.target_names) or 'values'} in the data's own "
                      f"units (the graph undoes the target standardization)")
        else:
            output = ("one score per class, in the order of class_names (the largest wins; "
                      "apply softmax for probabilities unless the graph ends with Softmax)")
        return {
            "class_names": json.dumps(list(self.class_names)),
            "task": self.task,
            "input_layout": self.layout,
            "input_shape": json.dumps(list(self.input_shape)),
            "input_range": range_text,
            "normalization": json.dumps({**self.normalization,
                                         "stored_scale": self.stored_scale,
                                         "input_scale": list(self.scale),
                                         "input_shift": list(self.shift)}),
            "output": output,
        }


def from_dataset(dataset) -> Preprocessing:
    """The preprocessing of an engine.data.Dataset (its training split's statistics)."""
    norm = dict(dataset.normalization)
    shape = tuple(int(d) for d in dataset.input_shape)
    width = shape[0]
    s = float(getattr(dataset, "stored_scale", 1.0))
    mode = norm.get("mode", "unit")
    if mode == "standardize":
        mean = np.asarray(norm["mean"], dtype=np.float64).reshape(-1)
        std = np.asarray(norm["std"], dtype=np.float64).reshape(-1)
        scale, shift = s / std, -mean / std
    elif "min" in norm:  # tabular min–max
        low = np.asarray(norm["min"], dtype=np.float64).reshape(-1)
        high = np.asarray(norm["max"], dtype=np.float64).reshape(-1)
        span = np.where(high - low > 0, high - low, 1.0)
        scale, shift = s / span, -low / span
    else:
        scale, shift = np.full(width, s), np.zeros(width)
    scale, shift = np.broadcast_to(scale, (width,)), np.broadcast_to(shift, (width,))
    out_scale = out_shift = ()
    if "target_std" in norm:
        out_scale = tuple(float(v) for v in np.reshape(norm["target_std"], -1))
        out_shift = tuple(float(v) for v in np.reshape(norm["target_mean"], -1))
    kept = {k: v for k, v in norm.items() if k in ("mode", "mean", "std", "min", "max",
                                                    "target_mean", "target_std")}
    return Preprocessing(
        input_shape=shape, scale=tuple(float(v) for v in scale),
        shift=tuple(float(v) for v in shift), task=dataset.task,
        class_names=tuple(dataset.class_names), target_names=tuple(dataset.target_names),
        output_scale=out_scale, output_shift=out_shift, stored_scale=s, normalization=kept)


def bake_into_onnx(proto, prep: Preprocessing) -> None:
    """Put ``prep`` into ``proto`` (in place): Mul/Add nodes between the graph input and the
    first layers, Mul/Add after the output for regression, and the metadata."""
    from onnx import helper, numpy_helper
    graph = proto.graph
    (inp,), (out,) = graph.input, graph.output
    inner_in, inner_out = f"{PREFIX}normalized_input", f"{PREFIX}standardized_output"
    for node in graph.node:
        node.input[:] = [inner_in if n == inp.name else n for n in node.input]
    shape = prep._broadcast()[1:]
    consts = {f"{PREFIX}input_scale": prep.scale, f"{PREFIX}input_shift": prep.shift}
    head = [helper.make_node("Mul", [inp.name, f"{PREFIX}input_scale"],
                             [f"{PREFIX}scaled_input"], name=f"{PREFIX}preprocess_scale"),
            helper.make_node("Add", [f"{PREFIX}scaled_input", f"{PREFIX}input_shift"],
                             [inner_in], name=f"{PREFIX}preprocess_shift")]
    tail = []
    if prep.output_scale:
        for node in graph.node:
            node.output[:] = [inner_out if n == out.name else n for n in node.output]
        consts.update({f"{PREFIX}output_scale": prep.output_scale,
                       f"{PREFIX}output_shift": prep.output_shift})
        tail = [helper.make_node("Mul", [inner_out, f"{PREFIX}output_scale"],
                                 [f"{PREFIX}scaled_output"], name=f"{PREFIX}postprocess_scale"),
                helper.make_node("Add", [f"{PREFIX}scaled_output", f"{PREFIX}output_shift"],
                                 [out.name], name=f"{PREFIX}postprocess_shift")]
    for name, values in consts.items():
        array = np.asarray(values, dtype=np.float32)
        if "input" in name:
            array = array.reshape(shape)
        graph.initializer.append(numpy_helper.from_array(array, name))
    nodes = head + list(graph.node) + tail
    del graph.node[:]
    graph.node.extend(nodes)
    existing = {p.key for p in proto.metadata_props}
    for key, value in prep.metadata().items():
        if key not in existing:
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
