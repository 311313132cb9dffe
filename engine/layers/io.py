"""Input: where samples enter the graph."""
from __future__ import annotations

from ..params import ShapeParam
from ..registry import LayerSpec, register

register(LayerSpec(
    type="Input",
    group="Input",
    summary="Where the data enters: one sample's shape, [C, H, W] or [features].",
    explanation=(
        "The Input node describes one sample, without the batch: an image is channels × height "
        "× width (1 channel for gray, 3 for RGB), a table row is its number of features. Every "
        "other shape in the graph follows from this one."),
    params=(ShapeParam("shape", [1, 28, 28], "one sample's shape: [C, H, W] or [features]"),),
    infer=lambda p, inputs: tuple(p["shape"]),
    torch_call=lambda p, inputs: ("Identity", {}),
    min_inputs=0,
    max_inputs=0,
    key_params=("shape",),
    id_prefix="input",
))
