"""Dense layers: Flatten and Linear (fully connected)."""
from __future__ import annotations

from ..params import BoolParam, IntParam
from ..registry import LayerSpec, format_shape, register
from ._rules import fmt, single_vector


def _flatten_infer(p: dict, inputs):
    n = 1
    for d in inputs[0]:
        n *= d
    return (n,)


def _flatten_arithmetic(p: dict, inputs, out) -> list[str]:
    shape = inputs[0]
    if len(shape) == 1:
        return [f"already flat: {shape[0]} features stay {shape[0]}", "parameters = 0"]
    return [f"features = {'·'.join(str(d) for d in shape)} = {fmt(out[0])}", "parameters = 0"]


register(LayerSpec(
    type="Flatten",
    group="Dense",
    summary="Unrolls a C×H×W map into one long feature vector for Linear layers.",
    explanation=(
        "Flatten lays every value of the feature maps side by side: channels × height × width "
        "numbers become one vector. It changes no values and learns nothing; it is the bridge "
        "from the convolutional part of a network to its fully connected part."),
    infer=_flatten_infer,
    arithmetic=_flatten_arithmetic,
    torch_call=lambda p, inputs: ("Flatten", {}),
    id_prefix="flatten",
))


def _linear_infer(p: dict, inputs):
    single_vector(inputs, "Linear")
    return (p["out_features"],)


def _linear_count(p: dict, inputs, out) -> tuple[int, int]:
    n_in, n_out = inputs[0][0], p["out_features"]
    return n_in * n_out + (n_out if p["bias"] else 0), n_in * n_out


def _linear_arithmetic(p: dict, inputs, out) -> list[str]:
    n_in, n_out = inputs[0][0], p["out_features"]
    params, macs = _linear_count(p, inputs, out)
    bias = f" + {n_out}" if p["bias"] else ""
    return [f"every one of the {n_out} outputs is a weighted sum of all {n_in} inputs"
            + (" plus a bias" if p["bias"] else ""),
            f"parameters = {n_in}·{n_out}{bias} = {fmt(params)}",
            f"multiply-adds = {n_in}·{n_out} = {fmt(macs)}"]


register(LayerSpec(
    type="Linear",
    group="Dense",
    summary="Fully connected: every output is a weighted sum of every input.",
    explanation=(
        "A Linear (fully connected, dense) layer computes out_features weighted sums of all its "
        "inputs, each with its own weights and bias. in_features is read from the incoming "
        "shape. The last Linear of a classifier has one output per class."),
    params=(IntParam("out_features", 10, "number of outputs", minimum=1, maximum=1_000_000),
            BoolParam("bias", True, "add a learned bias to each output")),
    infer=_linear_infer,
    count=_linear_count,
    arithmetic=_linear_arithmetic,
    torch_call=lambda p, inputs: ("Linear", {
        "in_features": inputs[0][0], "out_features": p["out_features"], "bias": p["bias"]}),
    key_params=("out_features",),
    id_prefix="fc",
))

__all__ = ["format_shape"]
